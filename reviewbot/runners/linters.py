"""The always-on linters: ruff (defects) and bandit (security). The diff filter is ``diff.marks``.

    findings, skipped = Ruff().lint(changeset, paths)

Linters need whole files on disk. With ``changeset.workdir`` they run in that checkout; with only
``changeset.read_head`` the changed files are written to a temporary directory under the same
relative paths; a bare diff gets a Skipped per file. Only changed Python files that exist at head
are linted. A missing tool, a timeout or a crash becomes a Skipped, never an exception.

A suppression the change adds does not silence its own review: where an added line carries
``# noqa`` (or a file-wide ``# ruff: noqa``) or ``# nosec``, that file is linted a second time with
``--ignore-noqa`` / ``--ignore-nosec``, and what only that run finds on lines touching such an added
line is reported, saying so. Lines the change did not add keep their suppressions.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace

from ..diff import added_text
from ..model import ChangeSet, Finding, Location, Severity, Side, Skipped
from .process import Limits, ProcResult
from .workspace import (
    NO_HEAD,
    RUFF_CONFIG_FILES,
    STAGE,
    _chunks,
    _failed,
    _has_ruff_config,
    _relative,
    _run_tool,
    _Workspace,
)

__all__ = ["NO_HEAD", "Bandit", "Ruff"]

log = logging.getLogger(__name__)


# Defects, not style: pyflakes, syntax/IO errors, bare `except:` (E722), bugbear, pylint's errors.
# B904 (raise ... from err), B905 (zip without strict=) and B028 (warn without stacklevel=) are
# conventions, not defects; B009/B010 (getattr/setattr with a constant name) are style.
DEFAULT_RUFF_SELECT: tuple[str, ...] = ("F", "E9", "E722", "B", "PLE")
DEFAULT_RUFF_IGNORE: tuple[str, ...] = ("B904", "B905", "B028", "B009", "B010")
# bandit's low-severity checks (assert, subprocess imported, a constant shell command) are hygiene a
# reviewer does not comment on; medium and high are reported (lint.bandit_severity)
BANDIT_SEVERITIES: tuple[str, ...] = ("low", "medium", "high")
DEFAULT_BANDIT_SEVERITY = "medium"

# ---------------------------------------------------------------------------------------------
# suppressions the change adds

_NOQA = re.compile(r"#\s*(?:noqa|(?:ruff|flake8)\s*[:=]\s*noqa)", re.IGNORECASE)
_NOSEC = re.compile(r"#\s*nosec", re.IGNORECASE)
_FILE_WIDE = re.compile(r"#\s*(?:ruff|flake8)\s*[:=]\s*noqa", re.IGNORECASE)


def _added_suppressions(
    changeset: ChangeSet, paths: Sequence[str], marker: re.Pattern[str]
) -> dict[str, frozenset[int]]:
    """Per linted path, the numbers of the added lines a suppression the change adds may cover: those
    that carry ``marker``, or every added line where one of them is file-wide (``# ruff: noqa``)."""
    out: dict[str, frozenset[int]] = {}
    for p in paths:
        f = changeset.file(p)
        added = added_text(f.hunks) if f is not None else {}
        lines = frozenset(n for n, text in added.items() if marker.search(text))
        if any(_FILE_WIDE.search(added[n]) for n in lines):
            lines = frozenset(added)
        if lines:
            out[p] = lines
    return out


def _unsuppressed(
    honoured: Sequence[Finding], ignored: Iterable[Finding], marked: Mapping[str, frozenset[int]], tool: str
) -> list[Finding]:
    """Findings of the run that ignored suppressions which the honouring run lacks and whose lines touch
    one of the ``marked`` lines."""

    def key(f: Finding) -> tuple[str, int, int | None, str]:
        return (f.location.path, f.location.line, f.location.start_line, f.rule)

    seen = {key(f) for f in honoured}
    out = []
    for f in ignored:
        lines = marked.get(f.location.path, frozenset())
        first = f.location.start_line or f.location.line
        if key(f) in seen or not lines & set(range(first, f.location.line + 1)):
            continue
        seen.add(key(f))
        out.append(
            replace(f, message=f"{f.message} (a `# {tool}` the change adds does not silence its review)")
        )
    return out


def _with_added_suppressions_ignored(
    changeset: ChangeSet,
    paths: Sequence[str],
    marker: re.Pattern[str],
    honoured: Sequence[Finding],
    rerun: Callable[[Sequence[str]], Iterable[Finding]],
    tool: str,
) -> list[Finding]:
    """The findings that a suppression on a line the change adds hid: each file with such a line runs
    once more (``rerun``) with suppressions ignored."""
    marked = _added_suppressions(changeset, paths, marker)
    if not marked:
        return []
    ignored = [f for files in _chunks(sorted(marked)) for f in rerun(files)]
    return _unsuppressed(honoured, ignored, marked, tool)


# ---------------------------------------------------------------------------------------------
# ruff

_RUFF_ERROR_PREFIXES = ("F821", "F822", "F823", "F7", "E9", "PLE")


def _ruff_severity(code: str | None) -> Severity:
    if not code or code == "invalid-syntax" or code.startswith(_RUFF_ERROR_PREFIXES):
        return Severity.ERROR
    return Severity.WARNING


def _suggestion_from_fix(fix: object, first: int, last: int, lines: Sequence[str] | None) -> str | None:
    """A safe ruff fix whose edits lie within lines first..last, as the replacement text of those lines."""
    if not isinstance(fix, dict) or fix.get("applicability") != "safe" or lines is None:
        return None
    edits = fix.get("edits") or []
    if not edits or last > len(lines):
        return None
    segment = "".join(lines[first - 1 : last])
    starts = [0]  # character offset of each line of the segment within it
    for ln in lines[first - 1 : last]:
        starts.append(starts[-1] + len(ln))

    def offset(loc: dict) -> int | None:
        row, col = loc.get("row"), loc.get("column")
        if not isinstance(row, int) or not isinstance(col, int):
            return None
        if row == last + 1 and col == 1:
            return len(segment)  # up to the end of the last line, newline included
        if not first <= row <= last:
            return None
        i = row - first
        pos = starts[i] + col - 1
        return pos if pos <= starts[i + 1] else None

    spans: list[tuple[int, int, str]] = []
    for e in edits:
        a, b = offset(e.get("location") or {}), offset(e.get("end_location") or {})
        content = e.get("content")
        if a is None or b is None or a > b or not isinstance(content, str):
            return None
        spans.append((a, b, content))
    spans.sort()
    if any(spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1)):
        return None
    for a, b, content in reversed(spans):
        segment = segment[:a] + content + segment[b:]
    return segment.removesuffix("\n")


class Ruff:
    """`ruff check` for defects with our rules (DEFAULT_RUFF_SELECT, ``--isolated``).

    The change under review cannot switch its own review off: a ruff config in it (``exclude``,
    ``extend`` reading any file, ``select = []``) is ignored unless the runner's owner passes
    ``respect_config=True``; then the head's config applies where it has one.
    """

    name = "ruff"

    def __init__(
        self,
        *,
        executable: str = "ruff",
        timeout: float = 120.0,
        respect_config: bool = False,
        select: Sequence[str] = DEFAULT_RUFF_SELECT,
        ignore: Sequence[str] = DEFAULT_RUFF_IGNORE,
        suggestions: bool = True,
        limits: Limits | None = None,
    ) -> None:
        self.executable = executable
        self.timeout = timeout
        self.respect_config = respect_config
        self.select = tuple(select)
        self.ignore = tuple(ignore)
        self.suggestions = suggestions
        self.limits = limits

    def _argv(self, files: Sequence[str], *, own_config: bool, ignore_noqa: bool = False) -> list[str]:
        # --no-fix: a repository config with `fix = true` must never rewrite the checkout.
        argv = [self.executable, "check", "--output-format", "json", "--no-cache", "--no-fix", "--exit-zero"]
        if ignore_noqa:
            argv.append("--ignore-noqa")
        if own_config:
            argv.append("--force-exclude")  # the repository's `exclude` applies to the paths we pass
        else:
            argv += ["--isolated", "--select", ",".join(self.select)]
            if self.ignore:
                argv += ["--ignore", ",".join(self.ignore)]
        return [*argv, "--", *files]

    def _uses_own_config(self, root: str, files: Sequence[str]) -> bool:
        if not self.respect_config:
            return False
        dirs = {""} | {os.path.dirname(f) for f in files}
        for d in list(dirs):
            while d:
                d = os.path.dirname(d)
                dirs.add(d)
        for d in dirs:
            for name in RUFF_CONFIG_FILES:
                full = os.path.join(root, d, name)
                try:
                    with open(full, encoding="utf-8", errors="replace") as fh:
                        if _has_ruff_config(fh.read(), name):
                            return True
                except OSError:
                    continue
        return False

    def lint(
        self, changeset: ChangeSet, paths: Sequence[str]
    ) -> tuple[tuple[Finding, ...], tuple[Skipped, ...]]:
        ws = _Workspace(changeset, paths, copy_ruff_config=self.respect_config)
        findings: list[Finding] = []
        with ws as tree:
            skipped = ws.skipped
            if tree is None:
                return (), tuple(skipped)
            own = self._uses_own_config(tree.root, tree.paths)
            for files in _chunks(tree.paths):
                got = self._check(files, tree.root, own=own)
                if isinstance(got, Skipped):
                    skipped.append(got)
                    break
                findings.extend(got)
            else:

                def rerun(files: Sequence[str]) -> list[Finding]:
                    got = self._check(files, tree.root, own=own, ignore_noqa=True)
                    if isinstance(got, Skipped):
                        skipped.append(got)
                        return []
                    return got

                findings += _with_added_suppressions_ignored(
                    changeset, tree.paths, _NOQA, findings, rerun, "noqa"
                )
        return tuple(findings), tuple(skipped)

    def _check(
        self, files: Sequence[str], root: str, *, own: bool, ignore_noqa: bool = False
    ) -> list[Finding] | Skipped:
        res = _run_tool(
            self.name,
            self._argv(files, own_config=own, ignore_noqa=ignore_noqa),
            root,
            self.timeout,
            self.limits,
        )
        if own and isinstance(res, ProcResult) and res.returncode != 0:
            # the repository's config does not load here (say an `extend` we did not copy)
            log.warning("ruff could not use the repository config (%s); default rules", res.stderr_line())
            argv = self._argv(files, own_config=False, ignore_noqa=ignore_noqa)
            res = _run_tool(self.name, argv, root, self.timeout, self.limits)
        if isinstance(res, Skipped):
            return res
        if res.returncode != 0:
            return _failed(self.name, res)
        try:
            items = json.loads(res.stdout or "[]")
        except json.JSONDecodeError:
            return Skipped("*", "ruff wrote output that is not JSON", STAGE)
        return list(self._findings(items, root))

    def _findings(self, items: Iterable[dict], root: str) -> Iterator[Finding]:
        cache: dict[str, list[str] | None] = {}
        for it in items:
            try:
                path = _relative(it["filename"], root)
                first = int(it["location"]["row"])
                end = it.get("end_location") or it["location"]
                last = max(first, int(end["row"]))
            except (KeyError, TypeError, ValueError):
                continue
            code = it.get("code")
            suggestion = None
            if self.suggestions and it.get("fix"):
                if path not in cache:
                    cache[path] = _read_lines(os.path.join(root, path))
                suggestion = _suggestion_from_fix(it["fix"], first, last, cache[path])
            rule_code = code or "invalid-syntax"
            yield Finding(
                location=Location(path, Side.RIGHT, last, first if first < last else None),
                severity=_ruff_severity(code),
                message=str(it.get("message", "")).strip() or rule_code,
                rule=f"ruff/{rule_code}",
                route="lint",
                category="lint",
                suggestion=suggestion,
                source="ruff",
            )


def _read_lines(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read().splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------------------------------------
# bandit

_BANDIT_SEVERITY = {"HIGH": Severity.ERROR, "MEDIUM": Severity.WARNING, "LOW": Severity.INFO}
_BANDIT_CONFIDENCE = {"HIGH": 0.9, "MEDIUM": 0.6, "LOW": 0.3}


class Bandit:
    """`bandit -f json` for security issues. The repository's own [tool.bandit] is ignored by default:
    it comes with the change under review, which could use it to silence the checks of that change."""

    name = "bandit"

    def __init__(
        self,
        *,
        executable: str = "bandit",
        timeout: float = 120.0,
        respect_config: bool = False,
        limits: Limits | None = None,
        severity: str = DEFAULT_BANDIT_SEVERITY,
    ) -> None:
        self.executable = executable
        self.timeout = timeout
        self.respect_config = respect_config
        self.limits = limits
        self.severity = severity

    def _argv(self, root: str, files: Sequence[str], *, ignore_nosec: bool = False) -> list[str]:
        argv = [self.executable, "-f", "json", "-q", "--exit-zero", "--severity-level", self.severity]
        if ignore_nosec:
            argv.append("--ignore-nosec")
        if self.respect_config:
            pyproject = os.path.join(root, "pyproject.toml")
            try:
                with open(pyproject, encoding="utf-8", errors="replace") as fh:
                    if "[tool.bandit" in fh.read():
                        argv += ["-c", "pyproject.toml"]
            except OSError:
                pass
        return [*argv, "--", *files]

    def lint(
        self, changeset: ChangeSet, paths: Sequence[str]
    ) -> tuple[tuple[Finding, ...], tuple[Skipped, ...]]:
        ws = _Workspace(changeset, paths, copy_ruff_config=False)
        findings: list[Finding] = []
        with ws as tree:
            skipped = ws.skipped
            if tree is None:
                return (), tuple(skipped)
            for files in _chunks(tree.paths):
                got = self._check(files, tree.root, skipped)
                if got is None:
                    break
                findings.extend(got)
            else:

                def rerun(files: Sequence[str]) -> list[Finding]:
                    return self._check(files, tree.root, skipped, ignore_nosec=True) or []

                findings += _with_added_suppressions_ignored(
                    changeset, tree.paths, _NOSEC, findings, rerun, "nosec"
                )
        return tuple(findings), tuple(skipped)

    def _check(
        self, files: Sequence[str], root: str, skipped: list[Skipped], *, ignore_nosec: bool = False
    ) -> list[Finding] | None:
        """Findings of one run (its per-file errors added to ``skipped``); None when the tool did not run."""
        res = _run_tool(
            self.name, self._argv(root, files, ignore_nosec=ignore_nosec), root, self.timeout, self.limits
        )
        if isinstance(res, Skipped):
            skipped.append(res)
            return None
        try:
            data = json.loads(res.stdout)
        except json.JSONDecodeError:
            skipped.append(
                _failed(self.name, res)
                if res.returncode
                else Skipped("*", "bandit wrote output that is not JSON", STAGE)
            )
            return []
        if not ignore_nosec:  # the second run's errors are the first's
            for err in data.get("errors") or []:
                path = _relative(str(err.get("filename", "*")), root)
                skipped.append(Skipped(path, f"bandit: {err.get('reason', 'error')}", STAGE))
        return list(self._findings(data.get("results") or [], root))

    def _findings(self, items: Iterable[dict], root: str) -> Iterator[Finding]:
        for it in items:
            try:
                path = _relative(it["filename"], root)
                line_no = int(it["line_number"])
                rows = [int(r) for r in it.get("line_range") or [line_no]]
            except (KeyError, TypeError, ValueError):
                continue
            first, last = min(rows + [line_no]), max(rows + [line_no])
            test_id = str(it.get("test_id") or "B000")
            text = str(it.get("issue_text", "")).strip()
            cwe = (it.get("issue_cwe") or {}).get("id")
            conf = str(it.get("issue_confidence", "")).upper()
            message = f"{text} (bandit {test_id}, confidence {conf.lower() or 'unknown'}"
            message += f", CWE-{cwe})" if cwe else ")"
            yield Finding(
                location=Location(path, Side.RIGHT, last, first if first < last else None),
                severity=_BANDIT_SEVERITY.get(str(it.get("issue_severity", "")).upper(), Severity.WARNING),
                message=message,
                rule=f"bandit/{test_id}",
                route="lint",
                category="security",
                confidence=_BANDIT_CONFIDENCE.get(conf),
                source="bandit",
            )
