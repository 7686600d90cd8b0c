"""mypy, shellcheck and eslint as tools: run on the head checkout, machine-readable output parsed.

None of them may run the repository's code or configuration-as-code:

- mypy gets our own config file (a repository's config could load a mypy plugin, which is Python
  code) and ``--cache-dir=/dev/null`` (nothing written into the checkout). JSON output
  (``--output json``, mypy 1.11+) when the installed version has it, else its one-line text format.
- shellcheck: ``-f json``; no ``-x``, so it does not read sourced files.
- eslint: no config lookup (a flat config is JavaScript), a fixed set of core defect rules, and
  only plain JavaScript files (TypeScript and JSX need a parser from the repository's config).

Each needs ``changeset.workdir``; a missing program is a Skipped "X is not installed".
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from ..errors import ToolError
from ..model import ChangeSet, Finding, Location, Severity, Side, Skipped
from ..runners.process import GiB, Limits, ProcResult, run, which
from .registry import (
    PATHS_SCHEMA,
    STAGE,
    Tool,
    ToolResult,
    installed,
    lint_result,
    needs_checkout,
    no_files,
    not_installed,
    paths_argument,
    select_paths,
)

__all__ = ["eslint_tool", "mypy_tool", "parse_eslint", "parse_mypy", "parse_shellcheck", "shellcheck_tool"]


def _schema(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {"paths": PATHS_SCHEMA},
        "additionalProperties": False,
    }


def _exec(
    name: str, argv: Sequence[str], root: str, timeout: float, limits: Limits | None
) -> ProcResult | ToolResult:
    try:
        res = run(argv, cwd=root, timeout=timeout, limits=limits)
    except ToolError as exc:
        if "not installed" in str(exc):
            return not_installed(name)
        return _failure(name, str(exc))
    if res.timed_out:
        return _failure(name, f"{name} timed out after {timeout:g} s")
    if res.truncated:
        return _failure(name, f"{name} wrote more output than the limit; its results were dropped")
    return res


def _failure(name: str, reason: str) -> ToolResult:
    return ToolResult(observation=reason, skipped=(Skipped("*", reason, STAGE),))


def _crashed(name: str, res: ProcResult) -> ToolResult:
    how = f"signal {-res.returncode}" if res.returncode < 0 else f"exit {res.returncode}"
    return _failure(name, f"{name} failed ({how}): {res.stderr_line() or 'no error message'}")


def _rel(path: str, root: str) -> str:
    full = path if os.path.isabs(path) else os.path.join(root, path)
    return os.path.relpath(os.path.realpath(full), os.path.realpath(root)).replace(os.sep, "/")


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
        yield Finding(
            location=Location(_rel(path, root), Side.RIGHT, line),
            severity=Severity.ERROR,
            message=msg.strip() or "type error",
            rule=f"mypy/{code or 'error'}",
            route="tools",
            category="bug",
            source="mypy",
        )


def mypy_tool(timeout: float = 120.0, executable: str = "mypy") -> Tool:
    def runner(changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        if which(executable) is None:
            return not_installed("mypy")
        if not changeset.workdir:
            return needs_checkout("mypy")
        paths, notes = select_paths(changeset, paths_argument(arguments), (".py", ".pyi"))
        if not paths:
            return no_files("mypy", notes, "Python")
        with tempfile.TemporaryDirectory(prefix="reviewbot-mypy-") as tmp:
            config = os.path.join(tmp, "mypy.ini")
            with open(config, "w", encoding="utf-8") as fh:
                fh.write(MYPY_CONFIG)
            argv = [executable, "--config-file", config, "--cache-dir", os.devnull, "--no-error-summary",
                    "--show-column-numbers", "--show-error-codes", "--hide-error-context", "--no-pretty",
                    "--no-color-output"]  # fmt: skip
            if _version(executable) >= (1, 11):
                argv += ["--output", "json"]
            res = _exec(
                "mypy", [*argv, "--", *paths], changeset.workdir, timeout, Limits(address_space=4 * GiB)
            )
        if isinstance(res, ToolResult):
            return res
        if res.returncode not in (0, 1):
            return _crashed("mypy", res)
        found = list(parse_mypy(res.stdout, changeset.workdir))
        return lint_result("mypy", changeset, found, checked=paths, notes=notes)

    return Tool(
        "mypy",
        "Python type checker: wrong argument types, missing attributes, bad return values in changed files",
        _schema("mypy's arguments"),
        runner,
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
        yield Finding(
            location=Location(_rel(path, root), Side.RIGHT, last, line if line < last else None),
            severity=_SHELLCHECK_LEVEL.get(str(it.get("level")), Severity.INFO),
            message=str(it.get("message", "")).strip() or code,
            rule=f"shellcheck/{code}",
            route="tools",
            category="lint",
            source="shellcheck",
        )


def shellcheck_tool(timeout: float = 120.0, executable: str = "shellcheck") -> Tool:
    def runner(changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        if which(executable) is None:
            return not_installed("shellcheck")
        if not changeset.workdir:
            return needs_checkout("shellcheck")
        paths, notes = select_paths(changeset, paths_argument(arguments), (".sh", ".bash"))
        if not paths:
            return no_files("shellcheck", notes, "shell")
        res = _exec("shellcheck", [executable, "-f", "json", "--", *paths], changeset.workdir, timeout, None)
        if isinstance(res, ToolResult):
            return res
        if res.returncode not in (0, 1):
            return _crashed("shellcheck", res)
        try:
            found = list(parse_shellcheck(res.stdout, changeset.workdir))
        except ValueError:
            return _failure("shellcheck", "shellcheck wrote output that is not JSON")
        return lint_result("shellcheck", changeset, found, checked=paths, notes=notes)

    return Tool(
        "shellcheck",
        "shell script linter (quoting, unset variables, wrong tests) for changed .sh files",
        _schema("shellcheck's arguments"),
        runner,
        installed(executable),
    )


# ---------------------------------------------------------------------------------------------
# eslint

ESLINT_RULES: tuple[str, ...] = (
    "constructor-super", "getter-return", "no-compare-neg-zero", "no-cond-assign", "no-const-assign",
    "no-dupe-args", "no-dupe-class-members", "no-dupe-else-if", "no-dupe-keys", "no-duplicate-case",
    "no-func-assign", "no-import-assign", "no-self-assign", "no-setter-return", "no-sparse-arrays",
    "no-this-before-super", "no-unreachable", "no-unsafe-finally", "no-unsafe-negation", "use-isnan",
    "valid-typeof",
)  # fmt: skip


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
            yield Finding(
                location=Location(path, Side.RIGHT, last, line if line < last else None),
                severity=Severity.ERROR if m.get("severity") == 2 else Severity.WARNING,
                message=str(m.get("message", "")).strip() or rule,
                rule=f"eslint/{rule}",
                route="tools",
                category="bug",
                source="eslint",
            )


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
    def runner(changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        if which(executable) is None:
            return not_installed("eslint")
        if not changeset.workdir:
            return needs_checkout("eslint")
        paths, notes = select_paths(changeset, paths_argument(arguments), (".js", ".mjs", ".cjs"))
        if not paths:
            return no_files("eslint", notes, "JavaScript")
        argv = eslint_argv(executable, _version(executable), paths)
        # node reserves far more address space than it uses: no RLIMIT_AS for it
        res = _exec("eslint", argv, changeset.workdir, timeout, Limits(address_space=None))
        if isinstance(res, ToolResult):
            return res
        if res.returncode not in (0, 1):
            return _crashed("eslint", res)
        try:
            found = list(parse_eslint(res.stdout, changeset.workdir))
        except ValueError:
            return _failure("eslint", "eslint wrote output that is not JSON")
        return lint_result("eslint", changeset, found, checked=paths, notes=notes)

    return Tool(
        "eslint",
        "JavaScript linter for defects (unreachable code, duplicate keys, invalid typeof) in changed .js files",
        _schema("eslint's arguments"),
        runner,
        installed(executable),
    )
