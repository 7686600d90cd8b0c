"""The walkthrough as Markdown (reports, summary comments, ``/describe``), plain text (the
terminal, ``reviewbot describe``) and JSON.

A long change stays readable: at most ``MAX_FILES`` files and ``MAX_SYMBOLS`` functions and
classes per file are named, each with at most ``MAX_DETAILS`` details; the rest is counted
("... and 12 more: 9 added, 3 changed"). The files the review left out are grouped by reason. JSON
has everything, uncut. In Markdown every name, path and code piece from the change is escaped
(``markdown.escape``, ``markdown.code_span``, which ``markdown.walkthrough_section`` passes in).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ..walkthrough import FileWalk, Symbol, Walkthrough
from ..walkthrough.model import Detail, plain
from ..walkthrough.roles import ROLES

__all__ = ["MAX_FILES", "MAX_SYMBOLS", "render_markdown", "render_text", "to_json"]

MAX_FILES = 40
MAX_SYMBOLS = 8
MAX_DETAILS = 3
MAX_SKIP_GROUPS = 6
MAX_CODE = 80  # characters of one quoted piece of code (a default value, a decorator)
LIMIT = 20_000  # characters of the Markdown section
_ORDER = {"changed": 0, "removed": 1, "renamed": 2, "added": 3}
_VERB = {"changed": "changes", "removed": "removes", "renamed": "renames", "added": "adds"}
_STATUS = {"added": "new file", "deleted": "deleted", "renamed": "renamed", "copied": "copied"}


class _Style:
    """How one output format quotes code and prose from the change."""

    def __init__(
        self, code: Callable[[str], str], prose: Callable[[str], str], path: Callable[[str], str]
    ) -> None:
        self.code = code  # a piece of code, cut to MAX_CODE characters
        self.prose = prose
        self.path = path  # a path, whole

    def detail(self, d: Detail) -> str:
        return "".join(self.prose(p) if i % 2 == 0 else self.code(p) for i, p in enumerate(d))


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= MAX_CODE else code[: MAX_CODE - 3] + "..."


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def _kind(s: Symbol, f: FileWalk) -> str:
    if f.role == "test" and s.is_test:
        return "test class" if s.kind == "class" else "test"
    return s.kind


def _symbol(s: Symbol, f: FileWalk, style: _Style) -> str:
    name = style.code(s.name)
    if s.change == "renamed" and s.was:
        name = f"{style.code(s.was)} → {style.code(s.name)}"
    text = f"{_kind(s, f)} {name}" if s.kind != "definition" else name
    shown = [
        style.detail(d) for d in s.details if not (s.change == "renamed" and d[:1] == ("renamed from ",))
    ]
    if shown:
        more = len(shown) - MAX_DETAILS
        shown = shown[:MAX_DETAILS] + ([f"{more} more"] if more > 0 else [])
        text += " (" + "; ".join(shown) + ")"
    return text


def _counted(symbols: list[Symbol]) -> str:
    c = Counter(s.change for s in symbols)
    return ", ".join(f"{c[k]} {k}" for k in _ORDER if c[k])


def _file_line(f: FileWalk, style: _Style) -> str:
    head = style.path(f.path)
    if f.old_path and f.old_path != f.path:
        head = f"{style.path(f.old_path)} → {head}"
    tags = [ROLES.get(f.role, f.role)]
    if str(f.status) in _STATUS:
        tags.insert(0, _STATUS[str(f.status)])
    tags.append(f"+{f.added} −{f.removed}")
    line = f"{head} ({', '.join(tags)})"
    parts: list[str] = []
    ordered = sorted(f.symbols, key=lambda s: _ORDER.get(s.change, 9))
    shown, rest = ordered[:MAX_SYMBOLS], ordered[MAX_SYMBOLS:]
    for change in _ORDER:
        group = [s for s in shown if s.change == change]
        if group:
            parts.append(_VERB[change] + " " + ", ".join(_symbol(s, f, style) for s in group))
    if rest:
        parts.append(f"and {len(rest)} more ({_counted(rest)})")
    parts += [style.detail(d) for d in f.details]
    if f.skipped and f.status is not None and str(f.status) == "deleted":
        parts.append(style.prose(f"not reviewed: {f.skipped}"))
    return line + (": " + "; ".join(parts) if parts else "")


def _overview(w: Walkthrough, files: list[FileWalk]) -> str:
    roles = Counter(f.role for f in files)
    kinds = ", ".join(f"{roles[r]} {label}" for r, label in ROLES.items() if roles[r])
    added = sum(f.added for f in files)
    removed = sum(f.removed for f in files)
    text = f"{_plural(len(w.files), 'file')} changed"
    if len(files) != len(w.files):
        text += f", {len(files)} of them walked here"
    text += f" (+{added} −{removed}): {kinds or 'none'}."
    syms = [s for f in files for s in f.symbols if not (f.role == "test" and s.is_test)]
    tests = [s for f in files for s in f.symbols if f.role == "test" and s.is_test]
    if syms:
        text += f" Functions and classes: {_counted(syms)}."
    if tests:
        text += f" Tests: {_counted(tests)}."
    return text


def _skips(w: Walkthrough, style: _Style) -> list[str]:
    groups: dict[str, list[str]] = {}
    for s in w.not_reviewed:
        groups.setdefault(s.reason, []).append(s.path)
    out = []
    for reason, paths in list(groups.items())[:MAX_SKIP_GROUPS]:
        example = style.path(paths[0]) + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
        out.append(f"{style.prose(reason)}: {_plural(len(paths), 'item')} ({example})")
    if len(groups) > MAX_SKIP_GROUPS:
        rest = list(groups.items())[MAX_SKIP_GROUPS:]
        out.append(f"and {sum(len(p) for _, p in rest)} more for {len(rest)} other reasons")
    return out


def _bases(files: list[FileWalk]) -> str:
    c = Counter(f.basis for f in files if f.symbols or f.basis.startswith("the diff's lines"))
    return "; ".join(f"{_plural(n, 'file')} from {basis}" for basis, n in c.items())


def _walked(w: Walkthrough) -> list[FileWalk]:
    """The files walked (not left out by the review), code first, then tests, dependencies..."""
    order = {r: i for i, r in enumerate(ROLES)}
    files = [f for f in w.files if f.skipped is None or str(f.status) == "deleted"]
    return sorted(files, key=lambda f: order.get(f.role, len(order)))


def _more(rest: list[FileWalk]) -> str:
    return f"... and {len(rest)} more files (+{sum(f.added for f in rest)} −{sum(f.removed for f in rest)})"


def render_markdown(
    w: Walkthrough,
    *,
    code: Callable[[str], str],
    escape: Callable[[str], str],
    heading: str = "### Walkthrough",
    limit: int = LIMIT,
) -> str:
    """The walkthrough as a Markdown section, under ``limit`` characters whatever the change; every
    piece of code goes through ``code`` (a code span) and every other text through ``escape``
    (``markdown.walkthrough_section`` passes the report's own)."""
    md = _Style(lambda c: code(_short(c)), escape, code)
    files = _walked(w)
    top = [heading, "", escape(_overview(w, files)), ""]
    lines = [_file_line(f, md) for f in files[:MAX_FILES]]
    tail: list[str] = []
    skips = _skips(w, md)
    if skips:
        tail += ["", f"Not reviewed ({_plural(len(w.not_reviewed), 'item')}):", ""]
        tail += ["- " + s for s in skips]
    if bases := _bases(files):
        tail += ["", f"<sub>How: {escape(bases)}.</sub>"]
    for n in range(len(lines), -1, -1):  # as many file lines as fit
        shown = ["- " + x for x in lines[:n]]
        if len(files) > n:
            shown.append("- " + _more(files[n:]))
        text = "\n".join(top + shown + tail) + "\n"
        if len(text) <= limit:
            return text
    return f"{heading}\n\n{escape(_overview(w, files))}\n"[:limit]


def render_text(w: Walkthrough, *, clean: Callable[[str], str], title: bool = True) -> str:
    """The walkthrough as plain text for a terminal; ``clean`` makes control characters visible
    (``terminal.clean``)."""
    text_style = _Style(lambda c: "`" + clean(_short(c)) + "`", clean, lambda p: "`" + clean(p) + "`")
    files = _walked(w)
    out = [f"Walkthrough of {clean(w.description)}", ""] if title else ["Walkthrough"]
    out += [_overview(w, files), ""]
    for f in files[:MAX_FILES]:
        out.append("  " + _file_line(f, text_style))
    if len(files) > MAX_FILES:
        out.append("  " + _more(files[MAX_FILES:]))
    skips = _skips(w, text_style)
    if skips:
        out += ["", f"Not reviewed ({_plural(len(w.not_reviewed), 'item')}):"]
        out += ["  " + s for s in skips]
    if bases := _bases(files):
        out += ["", f"How: {bases}."]
    return "\n".join(out) + "\n"


def _symbol_json(s: Symbol) -> dict[str, Any]:
    return {
        "name": s.name,
        "kind": s.kind,
        "change": s.change,
        "details": [plain(d) for d in s.details],
        "line": s.line,
        "was": s.was,
        "test": s.is_test,
    }


def to_json(w: Walkthrough) -> dict[str, Any]:
    """Everything, uncut."""
    return {
        "description": w.description,
        "files": [
            {
                "path": f.path,
                "old_path": f.old_path,
                "status": str(f.status),
                "role": f.role,
                "added": f.added,
                "removed": f.removed,
                "basis": f.basis,
                "skipped": f.skipped,
                "details": [plain(d) for d in f.details],
                "symbols": [_symbol_json(s) for s in f.symbols],
            }
            for f in w.files
        ],
        "not_reviewed": [{"path": s.path, "reason": s.reason, "stage": s.stage} for s in w.not_reviewed],
    }
