"""Where a finding lies on the diff, and which findings a filter mode shows (reviewdog's modes).

reviewdog's rule: annotate, do not drop. ``mark`` tells, for any finding (a linter's or the
model's), whether its line range touches an added line, a line the diff shows, or only a changed
file. ``shown_in`` turns a mark and a mode into "show it or not"; the caller counts what it does
not show and says so. ``filter_to_diff`` is the two together for a list of findings; ``mark_all``
records the mark on anchored and unanchored findings alike.

    added: the finding's line range touches an added line.
    diff_context: the range touches a line shown in a hunk (added or context on the RIGHT side;
        removed or context for LEFT-side findings).
    file: the finding is in a changed file (by new path on the RIGHT, old path on the LEFT).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal

from reviewbot.diff.index import DiffIndex
from reviewbot.model import Anchored, FileDiff, Finding, LineKind, Mark, Side, Unanchored

__all__ = ["FILTER_MODES", "FilterMode", "Mark", "filter_to_diff", "mark", "mark_all", "shown_in"]

FilterMode = Literal["added", "diff_context", "file"]
FILTER_MODES: tuple[str, ...] = ("added", "diff_context", "file")


def mark(finding: Finding, index: DiffIndex) -> Mark:
    """Where ``finding``'s line range lies on the diff held by ``index``."""
    loc = finding.location
    if index.file_on(loc.path, loc.side) is None:
        return Mark.OUTSIDE
    lo, hi = sorted((loc.first, loc.line))
    lines = range(lo, hi + 1)
    if loc.side is Side.RIGHT and any(
        (ln := index.line_at(loc.path, Side.RIGHT, n)) is not None and ln.kind is LineKind.ADDED
        for n in lines
    ):
        return Mark.ADDED
    if any(index.shown(loc.path, loc.side, n) for n in lines):
        return Mark.CONTEXT
    return Mark.FILE


def shown_in(m: Mark, mode: FilterMode) -> bool:
    """Whether a finding marked ``m`` is shown in filter mode ``mode``."""
    if mode == "added":
        return m is Mark.ADDED
    if mode == "diff_context":
        return m in (Mark.ADDED, Mark.CONTEXT)
    return m is not Mark.OUTSIDE


def filter_to_diff(
    findings: Iterable[Finding], files: Sequence[FileDiff] | DiffIndex, mode: FilterMode
) -> tuple[tuple[Finding, ...], int]:
    """The findings shown in ``mode``, in order, and how many were not shown."""
    if mode not in FILTER_MODES:
        raise ValueError(f"unknown filter mode {mode!r}: expected added, diff_context or file")
    index = files if isinstance(files, DiffIndex) else DiffIndex(files)
    kept: list[Finding] = []
    hidden = 0
    for f in findings:
        if shown_in(mark(f, index), mode):
            kept.append(f)
        else:
            hidden += 1
    return tuple(kept), hidden


def mark_all(items: Iterable[Anchored | Unanchored], index: DiffIndex) -> tuple[Anchored | Unanchored, ...]:
    """Each item with its finding's mark recorded, in order."""
    return tuple(replace(it, mark=mark(it.finding, index)) for it in items)
