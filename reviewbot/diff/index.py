"""Which (path, side, line) positions a diff contains, and in which hunk (the one line index).

Sides follow GitHub's review comments API: RIGHT addresses added and context lines by their new-file
number; LEFT addresses removed lines by their old-file number. LEFT does NOT cover context lines by
their old number: GitHub shows them in the left column of the split view, but the API documents LEFT
for removed lines, and one rejected anchor fails a whole review (HTTP 422), so we stay on the safe
side. ``anchor()`` moves a LEFT finding that names a context line to that line's RIGHT number.

``DiffIndex`` is cheap to build: a dict from path to file. Per-file structures are built on first
use: hunk start lists for bisecting (all a RIGHT lookup needs) and, only when asked for a ``Line``
or a LEFT position, dicts from line number to line.

The hosts' renderings of a position (GitHub, GitLab) are in ``render.py``.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from reviewbot.model import FileDiff, FileStatus, Hunk, Line, LineKind, Side

__all__ = ["DiffIndex", "LineAt", "added_numbers", "line_code"]

# (hunk index, line, GitLab counter of the other side)
_Entry = tuple[int, Line, int]


def line_code(path: str, old: int, new: int) -> str:
    """GitLab's line code: ``sha1(path)`` hex digest, then ``_old_new``."""
    return f"{hashlib.sha1(path.encode('utf-8')).hexdigest()}_{old}_{new}"


def added_text(hunks: Iterable[Hunk]) -> dict[int, str]:
    """New-file number -> text of the added lines of ``hunks``."""
    added = LineKind.ADDED
    return {ln.new_no: ln.text for h in hunks for ln in h.lines if ln.kind is added and ln.new_no is not None}


def added_numbers(hunks: Iterable[Hunk]) -> frozenset[int]:
    """New-file numbers of the added lines of ``hunks``."""
    return frozenset(added_text(hunks))


class _FileIndex:
    """Per-file lookup tables. RIGHT needs only the hunk starts (bisect); the rest is built lazily."""

    __slots__ = (
        "_left",
        "_left_hunk",
        "_right",
        "file",
        "hunks",
        "new_ends",
        "new_hunks",
        "new_starts",
        "path",
    )

    def __init__(self, file: FileDiff) -> None:
        self.file = file
        self.path = file.path
        self.hunks: tuple[Hunk, ...] = file.hunks
        # hunks with new-side lines only: a pure deletion's '+n,0' must not shadow its neighbour
        self.new_hunks = [k for k, h in enumerate(file.hunks) if h.new_len > 0]
        self.new_starts = [file.hunks[k].new_start for k in self.new_hunks]
        self.new_ends = [file.hunks[k].new_start + file.hunks[k].new_len for k in self.new_hunks]
        self._left_hunk: dict[int, int] | None = None
        self._right: dict[int, _Entry] | None = None
        self._left: dict[int, _Entry] | None = None

    def right_hunk(self, line: int) -> int | None:
        """Index of the hunk whose new-side range holds ``line``."""
        j = bisect_right(self.new_starts, line) - 1
        if j < 0 or line >= self.new_ends[j]:
            return None
        return self.new_hunks[j]

    def left_hunks(self) -> dict[int, int]:
        """Old number of each removed line -> its hunk index."""
        if self._left_hunk is None:
            removed = LineKind.REMOVED
            out: dict[int, int] = {}
            for k, h in enumerate(self.hunks):
                if h.old_len:
                    out.update({ln.old_no: k for ln in h.lines if ln.kind is removed})  # type: ignore[misc]
            self._left_hunk = out
        return self._left_hunk

    def entry(self, side: Side, line: int) -> _Entry | None:
        if self._right is None:
            self._build()
        table = self._right if side is Side.RIGHT else self._left
        return table.get(line)  # type: ignore[union-attr]

    def _build(self) -> None:
        right: dict[int, _Entry] = {}
        left: dict[int, _Entry] = {}
        removed = LineKind.REMOVED
        added = LineKind.ADDED
        for k, h in enumerate(self.hunks):
            o, n = h.old_start, h.new_start
            for ln in h.lines:
                kind = ln.kind
                if kind is added:
                    right[n] = (k, ln, o)
                    n += 1
                elif kind is removed:
                    left[o] = (k, ln, n)
                    o += 1
                else:
                    right[n] = (k, ln, o)
                    o += 1
                    n += 1
        self._right, self._left = right, left


class DiffIndex:
    """Lookups over a parsed diff: ``DiffIndex(parse_diff(text))``."""

    __slots__ = ("_by_id", "_by_path", "_indexes", "files")

    def __init__(self, files: Sequence[FileDiff]) -> None:
        self.files: tuple[FileDiff, ...] = tuple(files)
        by_path: dict[str, FileDiff] = {}
        for f in self.files:  # the first file wins a duplicated path
            if f.new_path is not None:
                by_path.setdefault(f.new_path, f)
        for f in self.files:  # an old path only where no file has it as its new path
            if f.old_path is not None:
                by_path.setdefault(f.old_path, f)
        self._by_path = by_path
        self._indexes: dict[str, _FileIndex] = {}  # by path, filled on first use
        self._by_id: dict[int, _FileIndex] = {}  # one per file, whichever path names it

    # ------------------------------------------------------------------------------------ lookups

    def file(self, path: str) -> FileDiff | None:
        """The file whose new path, or else old path, is ``path``."""
        return self._by_path.get(path)

    def _index(self, path: str) -> _FileIndex | None:
        fi = self._indexes.get(path)
        if fi is not None:
            return fi
        f = self._by_path.get(path)
        if f is None:
            return None
        fi = self._by_id.get(id(f))
        if fi is None:
            fi = self._by_id[id(f)] = _FileIndex(f)
        self._indexes[path] = fi
        return fi

    def contains(self, path: str, side: Side, line: int) -> bool:
        """RIGHT: an added or context line by new number. LEFT: a removed line by old number."""
        fi = self._index(path)
        if fi is None:
            return False
        if side is Side.RIGHT:
            return fi.right_hunk(line) is not None
        return line in fi.left_hunks()

    def hunk_of(self, path: str, side: Side, line: int) -> int | None:
        """Index (in its file) of the hunk that holds ``line`` on ``side``."""
        fi = self._index(path)
        if fi is None:
            return None
        if side is Side.RIGHT:
            return fi.right_hunk(line)
        return fi.left_hunks().get(line)

    def line_at(self, path: str, side: Side, line: int) -> Line | None:
        fi = self._index(path)
        if fi is None:
            return None
        e = fi.entry(side, line)
        return None if e is None else e[1]

    def range_hunk(self, path: str, side: Side, first: int, last: int) -> int | None:
        """The hunk holding every line of ``first..last`` on ``side``, or None."""
        fi = self._index(path)
        if fi is None or first > last:
            return None
        if side is Side.RIGHT:
            k = fi.right_hunk(last)
            return k if k is not None and first >= fi.hunks[k].new_start else None
        left = fi.left_hunks()
        k = left.get(last)
        if k is None:
            return None
        for n in range(first, last):
            if left.get(n) != k:
                return None
        return k

    def entry(self, path: str, side: Side, line: int) -> LineAt | None:
        """The line at ``line`` on ``side`` with its hunk and GitLab's two counters, or None."""
        fi = self._index(path)
        if fi is None:
            return None
        e = fi.entry(side, line)
        if e is None:
            return None
        k, ln, other = e
        if ln.kind is LineKind.ADDED:
            old, new = other, ln.new_no
        elif ln.kind is LineKind.REMOVED:
            old, new = ln.old_no, other
        else:
            old, new = ln.old_no, ln.new_no
        return LineAt(k, ln, old, new)  # type: ignore[arg-type]

    def shown(self, path: str, side: Side, line: int) -> bool:
        """A line the diff shows: RIGHT added or context by new number, LEFT removed or context by old."""
        fi = self._index(path)
        if fi is None:
            return False
        if side is Side.RIGHT:
            return fi.right_hunk(line) is not None
        return any(h.old_start <= line < h.old_start + h.old_len for h in fi.hunks)

    def file_on(self, path: str, side: Side) -> FileDiff | None:
        """The file ``path`` names on ``side``: RIGHT its new path (not deleted), LEFT its old path."""
        found = None
        for f in self.files:  # the last file wins a duplicated path
            if side is Side.RIGHT and f.new_path == path and f.status is not FileStatus.DELETED:
                found = f
            elif side is Side.LEFT and f.old_path == path:
                found = f
        return found

    def excerpt(
        self, path: str, side: Side, first: int, last: int, around: int = 2
    ) -> list[tuple[Line, bool]]:
        """The lines of the first hunk that shows ``first-around..last+around`` on ``side``, from the
        first such line to the last, each with whether it is in ``first..last``; [] when none is shown."""
        f = self.file(path)
        if f is None:
            return []
        for h in f.hunks:
            idx = [i for i, ln in enumerate(h.lines) if _within(ln, side, first - around, last + around)]
            if idx:
                return [(ln, _within(ln, side, first, last)) for ln in h.lines[idx[0] : idx[-1] + 1]]
        return []


def _within(ln: Line, side: Side, lo: int, hi: int) -> bool:
    """The line's number on ``side`` (RIGHT: added or context; LEFT: removed or context) is in lo..hi."""
    n = ln.old_no if side is Side.LEFT else ln.new_no
    if ln.kind is (LineKind.ADDED if side is Side.LEFT else LineKind.REMOVED):
        return False
    return n is not None and lo <= n <= hi


class LineAt(NamedTuple):
    """One line of the diff: its hunk (index in its file), the line, GitLab's old and new counters."""

    hunk: int
    line: Line
    old: int
    new: int
