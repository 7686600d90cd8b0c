"""Place findings on positions the platforms accept, or say precisely why a finding cannot be placed.

Rules (pure functions; the finding that comes back is a ``dataclasses.replace`` copy when changed):
- The path must be in the diff (new or old path) and the file must have hunks.
- ``start_line > line`` is read as a reversed range and swapped; ``start_line == line`` is one line.
- One line: it must be in the diff on its side (see ``index.py``: RIGHT = added/context lines by new
  number, LEFT = removed lines by old number). A LEFT line that is a context line of the old file
  is moved to RIGHT with that line's new number (same text, and a position GitHub accepts).
- A range must lie in ONE hunk on one side. Otherwise it is shrunk to its part in the hunk holding
  ``line`` (or, when ``line`` is outside the diff, in the hunk holding ``start_line``).
- A suggestion survives only on RIGHT and only when the lines covered did not change: it replaces
  exactly ``start_line..line`` and cannot cover removed lines, so a moved or shrunk range drops it
  (a swapped range or ``start_line == line`` covers the same lines and keeps it).
- ``Anchored.in_added`` is True when every line of the final range is an added line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reviewbot.diff.index import DiffIndex
from reviewbot.model import Anchored, Finding, LineKind, Location, Side, Unanchored

__all__ = ["anchor", "anchor_all", "nearest_changed_line"]


def anchor(finding: Finding, index: DiffIndex) -> Anchored | Unanchored:
    """Anchor one finding on the diff held by ``index``."""
    loc = finding.location
    path = loc.path
    f = index.file(path)
    if f is None:
        return Unanchored(finding, "file not in the diff")
    if not f.hunks:
        why = "binary file" if f.is_binary else "no text hunks (rename or mode change only)"
        return Unanchored(finding, f"{why}: nothing to comment on")
    side, line, start = loc.side, loc.line, loc.start_line
    if start is not None and start > line:
        start, line = line, start
    if start == line:
        start = None
    asked = (side, line, start)  # the lines the finding covers, normalized
    if line < 1 or (start is not None and start < 1):
        return Unanchored(finding, f"invalid line number {min(line, start or line)}")

    if start is None:
        if side is Side.LEFT and not index.contains(path, side, line):
            moved = _old_context_to_new(index, path, line)
            if moved is None:
                return Unanchored(finding, f"line {line} (LEFT) is not a removed line of the diff")
            side, line = Side.RIGHT, moved
        elif not index.contains(path, side, line):
            return Unanchored(finding, f"line {line} outside any hunk")
    elif index.range_hunk(path, side, start, line) is None:
        shrunk = _shrink(index, path, side, start, line)
        if shrunk is None:
            return Unanchored(finding, f"lines {start}-{line} ({side}) are outside any hunk")
        start, line = shrunk

    hunk = index.hunk_of(path, side, line)
    assert hunk is not None
    first = line if start is None else start
    in_added = side is Side.RIGHT and all(
        (ln := index.line_at(path, side, n)) is not None and ln.kind is LineKind.ADDED
        for n in range(first, line + 1)
    )
    new_loc = Location(path=f.path, side=side, line=line, start_line=start)
    changed = (side, line, start) != asked
    suggestion = finding.suggestion
    if suggestion is not None and (loc.side is not Side.RIGHT or changed):
        suggestion = None
    if new_loc != loc or suggestion is not finding.suggestion:
        finding = replace(finding, location=new_loc, suggestion=suggestion)
    return Anchored(finding=finding, hunk=hunk, in_added=in_added)


def anchor_all(
    findings: Iterable[Finding], index: DiffIndex
) -> tuple[tuple[Anchored, ...], tuple[Unanchored, ...]]:
    """Anchor every finding; the anchored and the unanchored, each in input order."""
    anchored: list[Anchored] = []
    unanchored: list[Unanchored] = []
    for finding in findings:
        result = anchor(finding, index)
        (anchored if isinstance(result, Anchored) else unanchored).append(result)  # type: ignore[arg-type]
    return tuple(anchored), tuple(unanchored)


def nearest_changed_line(
    index: DiffIndex, path: str, side: Side, line: int, max_distance: int = 3
) -> int | None:
    """The added (RIGHT) or removed (LEFT) line nearest to ``line``, within ``max_distance``.

    Ties go to the line above. None when there is none that close, or the file is not in the diff.
    """
    if index.file(path) is None:
        return None
    kind = LineKind.ADDED if side is Side.RIGHT else LineKind.REMOVED
    for d in range(max_distance + 1):
        for n in (line - d, line + d) if d else (line,):
            ln = index.line_at(path, side, n)
            if ln is not None and ln.kind is kind:
                return n
    return None


def _old_context_to_new(index: DiffIndex, path: str, old_no: int) -> int | None:
    """The new number of the context line whose old number is ``old_no``, if the diff shows one."""
    f = index.file(path)
    assert f is not None
    for h in f.hunks:
        if h.old_start <= old_no < h.old_start + h.old_len:
            for ln in h.lines:
                if ln.old_no == old_no and ln.kind is LineKind.CONTEXT:
                    return ln.new_no
            return None
    return None


def _shrink(index: DiffIndex, path: str, side: Side, start: int, line: int) -> tuple[int | None, int] | None:
    """The part of ``start..line`` in the hunk holding ``line`` (else ``start``), as ``(start, line)``.

    ``start`` is None when one line is left; the result is None when neither end is in the diff.
    """
    if index.contains(path, side, line):
        k = index.hunk_of(path, side, line)
        s = line
        while s - 1 >= start and index.contains(path, side, s - 1) and index.hunk_of(path, side, s - 1) == k:
            s -= 1
        return (None if s == line else s), line
    if index.contains(path, side, start):
        k = index.hunk_of(path, side, start)
        e = start
        while e + 1 <= line and index.contains(path, side, e + 1) and index.hunk_of(path, side, e + 1) == k:
            e += 1
        return (None if e == start else start), e
    return None
