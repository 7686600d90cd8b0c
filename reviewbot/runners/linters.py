"""The always-on linters: ruff (defects) and bandit (security), and the reviewdog-style diff filter.

    findings, skipped = Ruff().lint(changeset, paths)
    kept, dropped = filter_to_diff(findings, changeset.files, "added")

Linters need whole files on disk. With ``changeset.workdir`` they run in that checkout; with only
``changeset.read_head`` the changed files are written to a temporary directory under the same
relative paths; a bare diff gets a Skipped per file. Only changed Python files that exist at head
are linted. A missing tool, a timeout or a crash becomes a Skipped, never an exception.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import ReviewbotError, ToolError
from ..model import ChangeSet, FileDiff, FileStatus, Finding, LineKind, Location, Severity, Side, Skipped
from .process import Limits, ProcResult, run

__all__ = ["Bandit", "FilterMode", "Ruff", "filter_to_diff"]

log = logging.getLogger(__name__)

NO_HEAD = "linters need the file at head (a git source); a bare diff has only the changed lines"
STAGE = "lint"
_CHUNK = 200  # files per tool invocation (keeps argv short)

# Defects, not style: pyflakes, syntax/IO errors, bugbear, pylint's errors.
# B904 (raise ... from err) and B905 (zip without strict=) are conventions, not defects.
DEFAULT_RUFF_SELECT: tuple[str, ...] = ("F", "E9", "B", "PLE")
DEFAULT_RUFF_IGNORE: tuple[str, ...] = ("B904", "B905")
RUFF_CONFIG_FILES = ("ruff.toml", ".ruff.toml", "pyproject.toml")


# ---------------------------------------------------------------------------------------------
# which files, and where they are on disk


@dataclass(frozen=True, slots=True)
class _Tree:
    root: str  # directory the tool runs in
    paths: tuple[str, ...]  # repository-relative paths of the files to lint, all present under root
    materialized: bool  # True when root is our temporary copy


def _python_targets(changeset: ChangeSet, paths: Sequence[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        f = changeset.file(p)
        if f is None or f.status is FileStatus.DELETED or f.is_binary or f.new_path is None:
            continue
        if f.new_path.endswith(".py") and f.new_path not in out:
            out.append(f.new_path)
    return out


_READ_ERRORS = (ReviewbotError, OSError, ValueError)


def _safe_relpath(path: str) -> bool:
    if not path or os.path.isabs(path) or "\x00" in path:
        return False
    return ".." not in path.replace("\\", "/").split("/")


def _inside(root_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def _has_ruff_config(text: str, name: str) -> bool:
    return name != "pyproject.toml" or "[tool.ruff" in text


class _Workspace:
    """Files at head on disk, for one lint call: the checkout, or a temporary copy (context manager)."""

    def __init__(self, changeset: ChangeSet, paths: Sequence[str], *, copy_ruff_config: bool) -> None:
        self._changeset = changeset
        self._paths = paths
        self._copy_config = copy_ruff_config
        self._tmp: str | None = None
        self.skipped: list[Skipped] = []

    def __enter__(self) -> _Tree | None:
        cs = self._changeset
        targets = _python_targets(cs, self._paths)
        keep: list[str] = []
        for p in targets:
            if _safe_relpath(p):
                keep.append(p)
            else:
                self.skipped.append(Skipped(p, "path escapes the repository; not linted", STAGE))
        if not keep:
            return None
        if cs.workdir:
            root_real = os.path.realpath(cs.workdir)
            present: list[str] = []
            for p in keep:
                full = os.path.join(cs.workdir, p)
                if not os.path.lexists(full):
                    continue  # not at head in this checkout: nothing to lint
                if os.path.islink(full) or not _inside(root_real, full) or not os.path.isfile(full):
                    self.skipped.append(
                        Skipped(p, "not a regular file in the checkout (a symlink?); not linted", STAGE)
                    )
                    continue
                present.append(p)
            return _Tree(cs.workdir, tuple(present), materialized=False) if present else None
        if cs.read_head is None:
            self.skipped.extend(Skipped(p, NO_HEAD, STAGE) for p in keep)
            return None
        self._tmp = tempfile.mkdtemp(prefix="reviewbot-lint-")
        written: list[str] = []
        for p in keep:
            try:
                text = cs.read_head(p)
            except _READ_ERRORS as exc:  # a git reader's SourceError, a decoding error: report it per file
                self.skipped.append(Skipped(p, f"could not read the file at head: {exc}", STAGE))
                continue
            if text is None:
                continue
            self._write(p, text)
            written.append(p)
        if self._copy_config and written:
            self._copy_ruff_configs(written)
        return _Tree(self._tmp, tuple(written), materialized=True) if written else None

    def _write(self, rel: str, text: str) -> None:
        assert self._tmp is not None
        full = os.path.join(self._tmp, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    def _copy_ruff_configs(self, written: Sequence[str]) -> None:
        """Bring the repository's ruff configs (root and each changed file's directories) into the copy."""
        reader = self._changeset.read_head
        assert reader is not None
        dirs: set[str] = {""}
        for p in written:
            d = os.path.dirname(p)
            while d:
                dirs.add(d)
                d = os.path.dirname(d)
        for d in sorted(dirs):
            for name in RUFF_CONFIG_FILES:
                rel = os.path.join(d, name) if d else name
                try:
                    text = reader(rel)
                except _READ_ERRORS as exc:
                    log.debug("no ruff config at %s: %s", rel, exc)
                    continue
                if text is not None and _has_ruff_config(text, name):
                    self._write(rel, text)

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _relative(filename: str, root: str) -> str:
    """The tool's file name (absolute or ./relative) as a repository-relative path with '/'."""
    full = filename if os.path.isabs(filename) else os.path.join(root, filename)
    rel = os.path.relpath(os.path.realpath(full), os.path.realpath(root))
    return rel.replace(os.sep, "/")


def _run_tool(
    name: str, argv: Sequence[str], root: str, timeout: float, limits: Limits | None
) -> ProcResult | Skipped:
    try:
        res = run(argv, cwd=root, timeout=timeout, limits=limits)
    except ToolError as exc:
        msg = str(exc)
        reason = f"{name} is not installed" if "not installed" in msg else msg
        return Skipped("*", reason, STAGE)
    if res.timed_out:
        return Skipped("*", f"{name} timed out after {timeout:g} s", STAGE)
    if res.truncated:
        return Skipped("*", f"{name} wrote more output than the limit; its results were dropped", STAGE)
    return res


def _failed(name: str, res: ProcResult) -> Skipped:
    detail = res.stderr_line() or "no error message"
    how = f"signal {-res.returncode}" if res.returncode < 0 else f"exit {res.returncode}"
    return Skipped("*", f"{name} failed ({how}): {detail}", STAGE)


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
    """`ruff check` for defects. Honours the repository's ruff config when it has one; else DEFAULT_RUFF_SELECT."""

    name = "ruff"

    def __init__(
        self,
        *,
        executable: str = "ruff",
        timeout: float = 120.0,
        respect_config: bool = True,
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

    def _argv(self, files: Sequence[str], *, own_config: bool) -> list[str]:
        # --no-fix: a repository config with `fix = true` must never rewrite the checkout.
        argv = [self.executable, "check", "--output-format", "json", "--no-cache", "--no-fix", "--exit-zero"]
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
                res = _run_tool(
                    self.name, self._argv(files, own_config=own), tree.root, self.timeout, self.limits
                )
                if own and isinstance(res, ProcResult) and res.returncode != 0:
                    # the repository's config does not load here (say an `extend` we did not copy)
                    log.warning(
                        "ruff could not use the repository config (%s); default rules", res.stderr_line()
                    )
                    res = _run_tool(
                        self.name, self._argv(files, own_config=False), tree.root, self.timeout, self.limits
                    )
                if isinstance(res, Skipped):
                    skipped.append(res)
                    break
                if res.returncode != 0:
                    skipped.append(_failed(self.name, res))
                    continue
                try:
                    items = json.loads(res.stdout or "[]")
                except json.JSONDecodeError:
                    skipped.append(Skipped("*", "ruff wrote output that is not JSON", STAGE))
                    continue
                findings.extend(self._findings(items, tree.root))
        return tuple(findings), tuple(skipped)

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
    ) -> None:
        self.executable = executable
        self.timeout = timeout
        self.respect_config = respect_config
        self.limits = limits

    def _argv(self, root: str, files: Sequence[str]) -> list[str]:
        argv = [self.executable, "-f", "json", "-q", "--exit-zero"]
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
                res = _run_tool(self.name, self._argv(tree.root, files), tree.root, self.timeout, self.limits)
                if isinstance(res, Skipped):
                    skipped.append(res)
                    break
                try:
                    data = json.loads(res.stdout)
                except json.JSONDecodeError:
                    skipped.append(
                        _failed(self.name, res)
                        if res.returncode
                        else Skipped("*", "bandit wrote output that is not JSON", STAGE)
                    )
                    continue
                for err in data.get("errors") or []:
                    path = _relative(str(err.get("filename", "*")), tree.root)
                    skipped.append(Skipped(path, f"bandit: {err.get('reason', 'error')}", STAGE))
                findings.extend(self._findings(data.get("results") or [], tree.root))
        return tuple(findings), tuple(skipped)

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


# ---------------------------------------------------------------------------------------------
# reviewdog-style filter

FilterMode = Literal["added", "diff_context", "file"]


@dataclass(frozen=True, slots=True)
class _FileLines:
    added: frozenset[int]  # new-side numbers of added lines
    right: frozenset[int]  # new-side numbers of added and context lines
    left: frozenset[int]  # old-side numbers of removed and context lines


def _index(files: Sequence[FileDiff]) -> tuple[dict[str, _FileLines], dict[str, _FileLines]]:
    """Per-file line sets, keyed by new path (RIGHT side) and by old path (LEFT side)."""
    by_new: dict[str, _FileLines] = {}
    by_old: dict[str, _FileLines] = {}
    for f in files:
        added: set[int] = set()
        right: set[int] = set()
        left: set[int] = set()
        for h in f.hunks:
            for ln in h.lines:
                if ln.kind is LineKind.ADDED and ln.new_no is not None:
                    added.add(ln.new_no)
                if ln.kind is not LineKind.REMOVED and ln.new_no is not None:
                    right.add(ln.new_no)
                if ln.kind is not LineKind.ADDED and ln.old_no is not None:
                    left.add(ln.old_no)
        entry = _FileLines(frozenset(added), frozenset(right), frozenset(left))
        if f.new_path is not None and f.status is not FileStatus.DELETED:
            by_new[f.new_path] = entry
        if f.old_path is not None:
            by_old[f.old_path] = entry
    return by_new, by_old


def filter_to_diff(
    findings: Iterable[Finding], files: Sequence[FileDiff], mode: FilterMode
) -> tuple[tuple[Finding, ...], int]:
    """Keep the findings a reviewer of this diff should see (reviewdog's filter modes).

    added: the finding's line range touches an added line.
    diff_context: the range touches a line shown in a hunk (added or context on the RIGHT side;
        removed or context for LEFT-side findings).
    file: the finding is in a changed file.
    Returns (kept, number dropped).
    """
    if mode not in ("added", "diff_context", "file"):
        raise ValueError(f"unknown filter mode {mode!r}: expected added, diff_context or file")
    by_new, by_old = _index(files)
    kept: list[Finding] = []
    dropped = 0
    for f in findings:
        loc = f.location
        lines = (by_new if loc.side is Side.RIGHT else by_old).get(loc.path)
        if lines is None:
            dropped += 1
            continue
        if mode == "file":
            keep = True
        else:
            if mode == "added":
                wanted = lines.added if loc.side is Side.RIGHT else frozenset()
            else:
                wanted = lines.right if loc.side is Side.RIGHT else lines.left
            lo, hi = sorted((loc.first, loc.line))
            keep = any(n in wanted for n in range(lo, hi + 1))
        if keep:
            kept.append(f)
        else:
            dropped += 1
    return tuple(kept), dropped
