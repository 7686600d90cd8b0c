"""The layout rules a parsed diff must keep for its positions to be one thing: each path in one
file section, and each file's hunks in order without overlap on either side. git never writes
otherwise; a diff that breaks them (found by the atheris anchor target) is refused, because the
line index would serve one reading and the hosts' positions another."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import FileDiff


def layout_problem(files: Sequence[FileDiff]) -> str | None:
    """What breaks the rules, in one line; None when nothing does."""
    seen: set[str] = set()
    for f in files:
        if f.path in seen:
            return f"{f.path} appears in two file sections"
        seen.add(f.path)
        for a, b in zip(f.hunks, f.hunks[1:]):
            if _lo(b.old_start, b.old_len) < _hi(a.old_start, a.old_len) or _lo(b.new_start, b.new_len) < _hi(
                a.new_start, a.new_len
            ):
                return (f"{f.path}: hunk @@ -{b.old_start},{b.old_len} +{b.new_start},{b.new_len} @@ overlaps "
                        f"or precedes the one before it (@@ -{a.old_start},{a.old_len} +{a.new_start},{a.new_len} @@)")  # fmt: skip
    return None


def _lo(start: int, length: int) -> int:
    """The first line a side of a hunk covers; an empty side (``+5,0``) sits after line ``start``."""
    return start + (length == 0)


def _hi(start: int, length: int) -> int:
    return _lo(start, length) + length
