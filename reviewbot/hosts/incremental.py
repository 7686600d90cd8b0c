"""Incremental re-reviews, for any host: review only what changed since the last reviewed head.

``inter`` is the interdiff, the files changed from the last reviewed head to the new one.
``restrict`` keeps the files of a change that the interdiff touches; ``since_filter`` keeps the
findings on code that changed in it; ``to_post`` is what a host posts of an incremental review.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ..diff import DiffIndex
from ..merge import fingerprint, keys_of
from ..model import Anchored, ChangeSet, FileDiff, LineKind, Side, Unanchored
from ..ports import Change, Prior, Review

__all__ = ["restrict", "since_filter", "to_post"]


def _touched(inter: Sequence[FileDiff]) -> set[str]:
    return {p for fd in inter for p in (fd.old_path, fd.new_path) if p}


def restrict(cs: ChangeSet, inter: Sequence[FileDiff]) -> ChangeSet:
    """``cs`` with only the files the interdiff touches."""
    touched = _touched(inter)
    files = tuple(f for f in cs.files if f.new_path in touched or f.old_path in touched)
    return replace(
        cs, files=files, description=cs.description + f" (incremental: {len(files)} files changed since)"
    )


def _added(index: DiffIndex, path: str, first: int, last: int) -> bool:
    """Whether a line of ``first..last`` in the new file ``path`` was added in the interdiff."""
    fd = index.file(path)
    if fd is None or fd.new_path != path:
        return False
    for n in range(first, last + 1):
        ln = index.line_at(path, Side.RIGHT, n)
        if ln is not None and ln.kind is LineKind.ADDED:
            return True
    return False


def since_filter(
    items: Iterable[Anchored | Unanchored], inter: Sequence[FileDiff]
) -> list[Anchored | Unanchored]:
    """Only the findings on code that changed in the interdiff (RIGHT lines added since; LEFT and
    unplaced findings of files the interdiff touches)."""
    index = DiffIndex(inter)
    touched = _touched(inter)
    out = []
    for item in items:
        loc = item.finding.location
        if loc.side is Side.RIGHT and isinstance(item, Anchored):
            if _added(index, loc.path, loc.first, loc.line):
                out.append(item)
        elif loc.path in touched:
            out.append(item)
    return out


def to_post(review: Review, index: DiffIndex) -> tuple[list[Anchored | Unanchored], frozenset[str]]:
    """The findings to post (all, or those ``review.only`` names) and the keys of all the run found,
    posted before or not (a finding still found keeps its thread open)."""
    items = [*review.result.anchored, *review.result.unanchored]
    current = keys_of(items, index)
    if review.only is not None:
        items = [i for i in items if fingerprint(i.finding) in review.only]
    return items, current


def prior_of(previous: tuple[frozenset[str], str | None, Any]) -> Prior:
    """The port's ``Prior`` from what a host's reviewer read back: the keys posted before, the last
    reviewed head and the summary comment (any value with an ``id``), if there is one."""
    keys, head, summary = previous
    return Prior(keys, head, str(summary.id) if summary is not None else None)


def head_of(change: Change) -> str:
    """The head commit of a fetched change (every host's fetch sets it)."""
    head = change.changeset.head
    assert head is not None
    return head
