"""A file's old and new text, where the change gives them.

- an added file: its new text is its one hunk; a deleted file: its old text;
- with the new text (``read_head``), the old text is the new one with the hunks taken back, after
  checking that every context and added line of the diff is where the diff says it is;
- a file the diff shows whole: one hunk from line 1 on both sides whose trailing context is shorter
  than the diff's context width (so nothing follows it in either version).

Otherwise None: only the diff's lines are known.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import FileDiff, FileStatus, Hunk, LineKind

__all__ = ["context_width", "texts"]

Texts = tuple[str, str, str]  # old text, new text, how they were obtained


def _side(hunk: Hunk, keep: LineKind) -> str:
    return "".join(ln.text + "\n" for ln in hunk.lines if ln.kind in (keep, LineKind.CONTEXT))


def context_width(files: Sequence[FileDiff]) -> int:
    """The diff's context width: the longest run of context lines that opens a hunk not starting at
    line 1 (3 for git's default when no hunk shows it)."""
    widest = -1
    for f in files:
        for h in f.hunks:
            if min(h.old_start, h.new_start) <= 1:
                continue
            run = 0
            for ln in h.lines:
                if ln.kind is not LineKind.CONTEXT:
                    break
                run += 1
            widest = max(widest, run)
    return 3 if widest < 0 else widest


def _trailing_context(h: Hunk) -> int:
    run = 0
    for ln in reversed(h.lines):
        if ln.kind is not LineKind.CONTEXT:
            break
        run += 1
    return run


def _reverse(new: str, hunks: Sequence[Hunk]) -> str | None:
    """The old text from the new one and the hunks, or None when the diff does not fit it."""
    lines = new.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out: list[str] = []
    at = 1  # the next new line to copy
    for h in hunks:
        first = h.new_start if h.new_len else h.new_start + 1
        if first < at or first - 1 > len(lines):
            return None
        out += lines[at - 1 : first - 1]
        at = first
        for ln in h.lines:
            if ln.kind is LineKind.REMOVED:
                out.append(ln.text)
                continue
            if ln.new_no != at or at > len(lines) or lines[at - 1] != ln.text:
                return None
            if ln.kind is LineKind.CONTEXT:
                out.append(ln.text)
            at += 1
    out += lines[at - 1 :]
    return "".join(t + "\n" for t in out)


def texts(f: FileDiff, read_head, width: int) -> Texts | None:
    """(old, new, basis) of ``f``, or None when the change does not give both."""
    if f.is_binary:
        return None
    if f.status is FileStatus.ADDED and len(f.hunks) <= 1:
        return "", "".join(_side(h, LineKind.ADDED) for h in f.hunks), "the new file, whole in the diff"
    if f.status is FileStatus.DELETED and len(f.hunks) <= 1:
        return "".join(_side(h, LineKind.REMOVED) for h in f.hunks), "", "the deleted file, whole in the diff"
    if not f.hunks:
        return None
    if read_head is not None and f.new_path:
        new = read_head(f.new_path)
        if new is not None:
            old = _reverse(new, f.hunks)
            if old is not None:
                return old, new, "the old and new file"
    if len(f.hunks) == 1:
        h = f.hunks[0]
        if h.old_start <= 1 and h.new_start <= 1 and _trailing_context(h) < width:
            return _side(h, LineKind.REMOVED), _side(h, LineKind.ADDED), "the whole file, shown by the diff"
    return None
