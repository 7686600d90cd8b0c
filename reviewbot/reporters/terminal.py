"""The human report for a terminal: findings grouped by file with their diff context (the first
``shown`` in the Result's ranked order; the rest one line each), then everything that was not
reviewed or not placed, the notes, and one line of statistics.

Colour is the caller's decision (``color=True`` only for a TTY without ``NO_COLOR``); without it
the output is plain text. Text from the change (messages, code) has its control characters made
visible so a diff cannot send escape sequences to the terminal.
"""

from __future__ import annotations

import re
from typing import TextIO

from ..diff import DiffIndex
from ..model import Finding, Line, LineKind, Result, Severity, Side
from ..triage import split

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_RESET = "\x1b[0m"
_STYLE = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "cyan": "\x1b[36m",
}
_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def clean(text: str) -> str:
    """Tabs kept; every other control character shown as an escape (\\x1b, \\r ...)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        return "".join(_STYLE[s] for s in styles) + text + _RESET


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def context_lines(result: Result, f: Finding, around: int = 2) -> list[tuple[Line, bool]]:
    """The diff lines around `f` (each with whether it is inside the finding's range), or []."""
    loc = f.location
    return DiffIndex(result.changeset.files).excerpt(loc.path, loc.side, loc.first, loc.line, around)


def _render_context(lines: list[tuple[Line, bool]], paint: _Paint) -> list[str]:
    width = max(len(str(n)) for ln, _ in lines for n in (ln.old_no, ln.new_no) if n is not None)
    out = []
    for ln, hit in lines:
        old = str(ln.old_no) if ln.old_no is not None else ""
        new = str(ln.new_no) if ln.new_no is not None else ""
        mark = {LineKind.ADDED: "+", LineKind.REMOVED: "-", LineKind.CONTEXT: " "}[ln.kind]
        style = {LineKind.ADDED: ("green",), LineKind.REMOVED: ("red",), LineKind.CONTEXT: ()}[ln.kind]
        pointer = ">" if hit else " "
        nums = paint(f"{old:>{width}} {new:>{width}}", "dim")
        out.append(f"    {pointer} {nums} {paint(mark + ' ' + clean(ln.text), *style)}".rstrip())
    return out


def _where(f: Finding) -> str:
    loc = f.location
    lines = f"{loc.first}-{loc.line}" if loc.first != loc.line else str(loc.line)
    return clean(f"{loc.path}:{lines}") + (" (old side)" if loc.side is Side.LEFT else "")


def _route(f: Finding) -> str:  # the route, and the finding's own confidence when it has one
    if f.confidence is None:
        return f.route
    return f"{f.route}, confidence {f.confidence:.2f}"


def _finding(result: Result, f: Finding, paint: _Paint) -> list[str]:
    sev = paint(f"{f.severity.value.upper():<7}", "bold", _SEVERITY_STYLE[f.severity])
    head = f"  {sev} {_where(f)}  {paint(clean(f.rule), 'bold')}  [{clean(_route(f))}]"
    out = [head]
    for msg_line in clean(f.message).splitlines() or [""]:
        out.append(f"    {msg_line}")
    ctx = context_lines(result, f)
    if ctx:
        out.extend(_render_context(ctx, paint))
    else:
        out.append(paint("    (no diff context for this line)", "dim"))
    if f.suggestion is not None:
        out.append("    suggestion:")
        for s_line in clean(f.suggestion).splitlines() or [""]:
            out.append(paint(f"    | {s_line}".rstrip(), "green"))
    return out


def file_order(result: Result) -> list[str]:
    """The changed files in the change's order, then any other file a finding names."""
    order = [fd.path for fd in result.changeset.files]
    for f in result.findings:
        if f.location.path not in order:
            order.append(f.location.path)
    return order


def summary(result: Result) -> str:
    counts = {s: 0 for s in Severity}
    for f in result.findings:
        counts[f.severity] += 1
    parts = [
        _plural(counts[s], s.value) if s is not Severity.INFO else f"{counts[s]} info"
        for s in reversed(Severity)
    ]
    return f"{_plural(len(result.findings), 'finding')} ({', '.join(parts)})"


def stats_line(result: Result) -> str:
    s = result.stats
    backend = s.backend + (f" ({s.model})" if s.model else "")
    counts: dict[str, int] = {}
    for r in result.routes:
        counts[r.route] = counts.get(r.route, 0) + 1
    routes = f" (routes: {', '.join(f'{k} {v}' for k, v in counts.items())})" if counts else ""
    return (
        f"{_plural(s.files, 'file')}, {s.reviewed_items}/{s.work_items} work items reviewed{routes}, "
        f"{s.prompt_tokens} prompt + {s.generated_tokens} generated tokens, "
        f"{s.total_seconds:.1f} s ({s.model_seconds:.1f} s in the model), backend {backend}"
    )


def render(result: Result, *, color: bool = False, shown: int | None = None) -> str:
    """``shown``: the most findings shown in full, the first in the Result's (ranked) order that
    may go inline (``triage.split``: not style); the rest are listed one line each. None: all in full."""
    from ..walkthrough import walk
    from .walkthrough import render_text

    paint = _Paint(color)
    out: list[str] = [paint(f"reviewbot: {clean(result.changeset.description)}", "bold"), ""]
    out += render_text(walk(result.changeset, result.skipped), clean=clean, title=False).splitlines() + [""]
    full, rest = list(result.findings), list[Finding]()
    if shown is not None:
        inline, listed = split(result.anchored, shown)
        full, rest = [a.finding for a in inline], [a.finding for a in listed]
    by_path: dict[str, list[Finding]] = {}
    for f in full:
        by_path.setdefault(f.location.path, []).append(f)
    for path in file_order(result):
        findings = by_path.get(path)
        if not findings:
            continue
        out.append(paint(clean(path), "bold"))
        for f in sorted(findings, key=lambda f: (f.location.line, f.location.side.value)):
            out.extend(_finding(result, f, paint))
            out.append("")
    if not result.findings:
        out.extend(["No findings.", ""])
    if rest:
        why = f"past the {len(full)} shown in full, or style"
        out.append(paint(f"{len(rest)} more, one line each ({why})", "bold"))
        for f in rest:
            msg = " ".join(clean(f.message).split())
            out.append(f"  {f.severity.value} {_where(f)} {clean(f.rule)}: {msg[:300]}")
        out.append("")

    if result.unanchored:
        out.append(paint("Not placed on the diff", "bold"))
        for u in result.unanchored:
            f = u.finding
            out.append(f"  {f.severity.value} {_where(f)} {clean(f.rule)}: {clean(u.reason)}")
            out.extend(f"    {ln}" for ln in clean(f.message).splitlines())
        out.append("")

    out.append(paint("Not reviewed", "bold"))
    if result.skipped:
        for s in result.skipped:
            out.append(f"  {clean(s.path)}: {clean(s.reason)} ({s.stage})")
    else:
        out.append("  nothing: every planned file was reviewed")
    out.append("")

    if result.notes:
        out.append(paint("Notes", "bold"))
        out.extend(f"  - {clean(n)}" for n in result.notes)
        out.append("")

    out.append(clean(f"{summary(result)}; {stats_line(result)}"))
    return "\n".join(out) + "\n"


class TerminalReporter:
    def __init__(self, out: TextIO, *, color: bool = False, shown: int | None = None) -> None:
        self.out = out
        self.color = color
        self.shown = shown

    def report(self, result: Result) -> None:
        self.out.write(render(result, color=self.color, shown=self.shown))
