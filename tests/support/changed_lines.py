"""Every line a review comment could stand on: each added or removed line of a diff.

from support.changed_lines import changed_lines
for fd, ln, rows in changed_lines(diff_text): ...
"""

from __future__ import annotations

from collections.abc import Iterator

from reviewbot.diff.parse import parse_diff
from reviewbot.model import FileDiff, Line, LineKind


def changed_lines(diff_text: str) -> Iterator[tuple[FileDiff, Line, list[Line]]]:
    """Each added or removed line of the diff in order, with its file and every line of its hunk."""
    for fd in parse_diff(diff_text):
        for h in fd.hunks:
            rows = list(h.lines)
            for ln in rows:
                if ln.kind is not LineKind.CONTEXT:
                    yield fd, ln, rows
