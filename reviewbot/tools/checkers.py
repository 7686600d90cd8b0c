"""mypy, shellcheck, eslint, ruff and bandit as tools: run on the head checkout, machine-readable output
parsed (ruff and bandit through the adapters in runners/linters.py).

None of them may run the repository's code or configuration-as-code:

- mypy gets our own config file (a repository's config could load a mypy plugin, which is Python
  code) and ``--cache-dir=/dev/null`` (nothing written into the checkout). JSON output
  (``--output json``, mypy 1.11+) when the installed version has it, else its one-line text format.
- shellcheck: ``-f json --norc``: no ``.shellcheckrc`` of the repository (``disable=all`` would hide
  every finding); no ``-x``, so it does not read sourced files.
- eslint: no config lookup (a flat config is JavaScript), a fixed set of core defect rules, and
  only plain JavaScript files (TypeScript and JSX need a parser from the repository's config).

Each needs ``changeset.workdir``; a missing program is a Skipped "X is not installed".
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from ..errors import ToolError
from ..model import ChangeSet, Finding, Location, Severity, Side
from ..runners.linters import Bandit, Ruff
from ..runners.process import GiB, Limits, ProcResult, crash_reason, relative, run, run_tool, which
from .base import (
    Runner,
    Tool,
    ToolResult,
    failure,
    installed,
    lint_result,
    needs_checkout,
    no_files,
    not_installed,
    paths_argument,
    paths_only,
    select_paths,
)

__all__ = [
    "bandit_tool",
    "eslint_tool",
    "mypy_tool",
    "parse_eslint",
    "parse_mypy",
    "parse_shellcheck",
    "ruff_tool",
    "shellcheck_tool",
]

_rel = relative


def _version(executable: str) -> tuple[int, ...]:
    """The program's version as numbers, (0,) when it cannot tell (cached per path)."""
    exe = which(executable)
    return _version_of(exe) if exe else (0,)


@cache
def _version_of(exe: str) -> tuple[int, ...]:
    try:
        res = run(
            [exe, "--version"], cwd=tempfile.gettempdir(), timeout=30, limits=Limits(address_space=None)
        )
    except ToolError:
        return (0,)
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", res.stdout)
    return tuple(int(g) for g in m.groups() if g is not None) if m else (0,)


def _finding(
    source: str, path: str, line: int, last: int, severity: Severity, message: str, rule: str, category: str
) -> Finding:
    """A tool's finding on lines ``line``..``last`` of the head."""
    return Finding(
        location=Location(path, Side.RIGHT, last, line if line < last else None),
        severity=severity,
        message=message,
        rule=f"{source}/{rule}",
        route="tools",
        category=category,
        source=source,
    )


Command = Callable[[Sequence[str], str], ProcResult | ToolResult]  # (paths, checkout) -> run or refusal
Parse = Callable[[str, str], Iterator[Finding]]


def _checker(
    name: str, executable: str, suffixes: tuple[str, ...], what: str, command: Command, parse: Parse
) -> Runner:
    """The runner of a tool on the head checkout: which files, run, status 0 or 1, parse, filter."""

    def runner(changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        if which(executable) is None:
            return not_installed(name)
        if not changeset.workdir:
            return needs_checkout(name)
        paths, notes = select_paths(changeset, paths_argument(arguments), suffixes)
        if not paths:
            return no_files(name, notes, what)
        res = command(paths, changeset.workdir)
        if isinstance(res, ToolResult):
            return res
        if res.returncode not in (0, 1):
            return failure(crash_reason(name, res))
        try:
            found = list(parse(res.stdout, changeset.workdir))
        except ValueError:
            return failure(f"{name} wrote output that is not JSON")
        return lint_result(name, changeset, found, checked=paths, notes=notes)

    return runner


def _exec(
    name: str, argv: Sequence[str], root: str, timeout: float, limits: Limits | None
) -> ProcResult | ToolResult:
    res = run_tool(name, argv, root, timeout, limits)
    return failure(res) if isinstance(res, str) else res


# ---------------------------------------------------------------------------------------------
# mypy

MYPY_CONFIG = "[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"
_MYPY_TEXT = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<sev>error|note): (?P<msg>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


def parse_mypy(output: str, root: str) -> Iterator[Finding]:
    """mypy's JSON lines (1.11+) or its text lines; notes are dropped."""
    for raw in output.splitlines():
        raw = raw.strip()
        if not raw:
            continue
        if raw.startswith("{"):
            try:
                it = json.loads(raw)
                path, line = str(it["file"]), int(it["line"])
                sev, msg, code = str(it.get("severity", "error")), str(it.get("message", "")), it.get("code")
            except (ValueError, KeyError, TypeError):
                continue
            if it.get("hint"):
                msg = f"{msg} ({it['hint']})"
        else:
            m = _MYPY_TEXT.match(raw)
            if m is None:
                continue
            path, line, sev, msg, code = m["file"], int(m["line"]), m["sev"], m["msg"], m["code"]
        if sev != "error" or line < 1:
            continue
        yield _finding(
            "mypy",
            _rel(path, root),
            line,
            line,
            Severity.ERROR,
            msg.strip() or "type error",
            code or "error",
            "bug",
        )


def mypy_tool(timeout: float = 120.0, executable: str = "mypy") -> Tool:
    def command(paths: Sequence[str], root: str) -> ProcResult | ToolResult:
        with tempfile.TemporaryDirectory(prefix="reviewbot-mypy-") as tmp:
            config = os.path.join(tmp, "mypy.ini")
            with open(config, "w", encoding="utf-8") as fh:
                fh.write(MYPY_CONFIG)
            argv = [
                executable,
                "--config-file",
                config,
                "--cache-dir",
                os.devnull,
                "--no-error-summary",
                "--show-column-numbers",
                "--show-error-codes",
                "--hide-error-context",
                "--no-pretty",
                "--no-color-output",
            ]
            if _version(executable) >= (1, 11):
                argv += ["--output", "json"]
            return _exec("mypy", [*argv, "--", *paths], root, timeout, Limits(address_space=4 * GiB))

    return Tool(
        "mypy",
        "Python type checker: wrong argument types, missing attributes, bad return values in changed files",
        paths_only("mypy's arguments"),
        _checker("mypy", executable, (".py", ".pyi"), "Python", command, parse_mypy),
        installed(executable),
    )


# ---------------------------------------------------------------------------------------------
# shellcheck

_SHELLCHECK_LEVEL = {"error": Severity.ERROR, "warning": Severity.WARNING}


def parse_shellcheck(output: str, root: str) -> Iterator[Finding]:
    """``shellcheck -f json``: a list of comments (``-f json1`` wraps it in {"comments": [...]})."""
    data = json.loads(output or "[]")
    items = data.get("comments", []) if isinstance(data, dict) else data
    for it in items:
        try:
            path, line = str(it["file"]), int(it["line"])
            last = max(line, int(it.get("endLine") or line))
        except (KeyError, TypeError, ValueError):
            continue
        code = f"SC{it.get('code')}"
        level = _SHELLCHECK_LEVEL.get(str(it.get("level")), Severity.INFO)
        message = str(it.get("message", "")).strip() or code
        yield _finding("shellcheck", _rel(path, root), line, last, level, message, code, "lint")


def shellcheck_tool(timeout: float = 120.0, executable: str = "shellcheck") -> Tool:
    def command(paths: Sequence[str], root: str) -> ProcResult | ToolResult:
        return _exec("shellcheck", [executable, "-f", "json", "--norc", "--", *paths], root, timeout, None)

    return Tool(
        "shellcheck",
        "shell script linter (quoting, unset variables, wrong tests) for changed .sh files",
        paths_only("shellcheck's arguments"),
        _checker("shellcheck", executable, (".sh", ".bash"), "shell", command, parse_shellcheck),
        installed(executable),
    )


# ---------------------------------------------------------------------------------------------
# eslint

ESLINT_RULES: tuple[str, ...] = (
    "constructor-super",
    "getter-return",
    "no-compare-neg-zero",
    "no-cond-assign",
    "no-const-assign",
    "no-dupe-args",
    "no-dupe-class-members",
    "no-dupe-else-if",
    "no-dupe-keys",
    "no-duplicate-case",
    "no-func-assign",
    "no-import-assign",
    "no-self-assign",
    "no-setter-return",
    "no-sparse-arrays",
    "no-this-before-super",
    "no-unreachable",
    "no-unsafe-finally",
    "no-unsafe-negation",
    "use-isnan",
    "valid-typeof",
)


def parse_eslint(output: str, root: str) -> Iterator[Finding]:
    """``eslint -f json``: [{filePath, messages: [{ruleId, severity, message, line, endLine}]}]."""
    for entry in json.loads(output or "[]"):
        try:
            path = _rel(str(entry["filePath"]), root)
            messages = list(entry.get("messages") or [])
        except (KeyError, TypeError):
            continue
        for m in messages:
            try:
                line = int(m["line"])
                last = max(line, int(m.get("endLine") or line))
            except (KeyError, TypeError, ValueError):
                continue
            rule = m.get("ruleId") or ("parse-error" if m.get("fatal") else "eslint")
            severity = Severity.ERROR if m.get("severity") == 2 else Severity.WARNING
            message = str(m.get("message", "")).strip() or rule
            yield _finding("eslint", path, line, last, severity, message, rule, "bug")


def eslint_argv(executable: str, version: tuple[int, ...], paths: Sequence[str]) -> list[str]:
    argv = [executable, "--format", "json", "--no-ignore"]
    if version >= (9,):
        argv.append("--no-config-lookup")
    else:
        argv += [
            "--no-eslintrc",
            "--parser-options",
            "ecmaVersion:latest",
            "--parser-options",
            "sourceType:module",
        ]
    for r in ESLINT_RULES:
        argv += ["--rule", f"{r}: error"]
    return [*argv, "--", *paths]


def eslint_tool(timeout: float = 120.0, executable: str = "eslint") -> Tool:
    def command(paths: Sequence[str], root: str) -> ProcResult | ToolResult:
        argv = eslint_argv(executable, _version(executable), paths)
        # node reserves far more address space than it uses: no RLIMIT_AS for it
        return _exec("eslint", argv, root, timeout, Limits(address_space=None))

    return Tool(
        "eslint",
        "JavaScript linter for defects (unreachable code, duplicate keys, invalid typeof) "
        "in changed .js files",
        paths_only("eslint's arguments"),
        _checker("eslint", executable, (".js", ".mjs", ".cjs"), "JavaScript", command, parse_eslint),
        installed(executable),
    )


# ---------------------------------------------------------------------------------------------
# ruff and bandit, through the always-on adapters


def _adapter_runner(linter: Ruff | Bandit) -> Runner:
    def run(changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        paths, notes = select_paths(changeset, paths_argument(arguments), (".py",))
        if not paths:
            return no_files(linter.name, notes, "Python")
        findings, skipped = linter.lint(changeset, paths)
        if any(s.reason == f"{linter.name} is not installed" for s in skipped):
            return not_installed(linter.name)
        return lint_result(linter.name, changeset, findings, skipped, checked=paths, notes=notes)

    return run


def _adapter_tool(linter: Ruff | Bandit, description: str) -> Tool:
    return Tool(
        linter.name,
        description,
        paths_only(f"{linter.name}'s arguments"),
        _adapter_runner(linter),
        installed(linter.executable),
    )


def ruff_tool(timeout: float = 120.0, executable: str = "ruff") -> Tool:
    return _adapter_tool(
        Ruff(executable=executable, timeout=timeout),
        "Python linter for defects (undefined names, unused imports, syntax errors, likely bugs) "
        "in changed Python files",
    )


def bandit_tool(timeout: float = 120.0, executable: str = "bandit") -> Tool:
    return _adapter_tool(
        Bandit(executable=executable, timeout=timeout),
        "Python security linter (shell injection, unsafe deserialization, weak crypto, secrets) "
        "for changed Python files",
    )
