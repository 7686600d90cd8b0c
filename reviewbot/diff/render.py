"""The two hosts' renderings of a position on the diff: pure functions over ``DiffIndex``.

``github_position``: a review comment's ``{path, line, side[, start_line, start_side]}``.
``gitlab_position``: a merge request discussion's ``position`` (``old_line``/``new_line``, and
``line_range`` with GitLab's ``line_code`` for a range).

GitLab's ``line_code`` is ``sha1(path).hexdigest() + "_" + old + "_" + new`` where ``path`` is the
file's new path (its old path when deleted) and old/new are GitLab's running counters at that
line (``Gitlab::Diff::Parser``): a context line's two numbers; for an added line the old counter
is the old number the next old-side line would have (0 in a new file); likewise the new counter
for a removed line.
"""

from __future__ import annotations

from typing import Any

from reviewbot.diff.index import DiffIndex, LineAt, line_code
from reviewbot.model import Line, LineKind, Location, Side

__all__ = ["github_position", "gitlab_position"]


def github_position(index: DiffIndex, loc: Location) -> dict[str, Any] | None:
    """A review comment's position: ``{path, line, side[, start_line, start_side]}``, or None.

    ``start_line``/``start_side`` appear only when ``start_line < line`` and the whole range is
    in one hunk on one side; a reversed range (``start_line > line``) gives None.
    """
    f = index.file(loc.path)
    if f is None or not index.contains(loc.path, loc.side, loc.line):
        return None
    side = "RIGHT" if loc.side is Side.RIGHT else "LEFT"
    start = loc.start_line
    if start is None or start == loc.line:
        return {"path": f.path, "line": loc.line, "side": side}
    if index.range_hunk(loc.path, loc.side, start, loc.line) is None:
        return None
    return {"path": f.path, "line": loc.line, "side": side, "start_line": start, "start_side": side}


def gitlab_position(
    index: DiffIndex, loc: Location, *, base_sha: str, start_sha: str, head_sha: str
) -> dict[str, Any] | None:
    """GitLab's ``position`` for a new MR discussion, or None when ``loc`` is not in the diff.

    Added line: ``new_line`` only; removed: ``old_line`` only; context: both. A range adds
    ``line_range.start/end`` with ``line_code`` and ``type`` (``new`` for added lines,
    otherwise ``old``, as GitLab's API documentation says); the top-level line is the range's end.
    """
    f = index.file(loc.path)
    if f is None:
        return None
    start = loc.start_line
    if start is not None and start > loc.line:
        return None
    end = index.entry(loc.path, loc.side, loc.line)
    if end is None:
        return None
    pos: dict[str, Any] = {
        "position_type": "text",
        "base_sha": base_sha,
        "start_sha": start_sha,
        "head_sha": head_sha,
        "old_path": f.old_path if f.old_path is not None else f.new_path,
        "new_path": f.new_path if f.new_path is not None else f.old_path,
    }
    pos.update(_line_fields(end.line))
    if start is not None and start < loc.line:
        if index.range_hunk(loc.path, loc.side, start, loc.line) is None:
            return None
        first = index.entry(loc.path, loc.side, start)
        if first is None:
            return None
        pos["line_range"] = {"start": _range_end(f.path, first), "end": _range_end(f.path, end)}
    return pos


def _line_fields(ln: Line) -> dict[str, int]:
    if ln.kind is LineKind.ADDED:
        return {"new_line": ln.new_no}  # type: ignore[dict-item]
    if ln.kind is LineKind.REMOVED:
        return {"old_line": ln.old_no}  # type: ignore[dict-item]
    return {"old_line": ln.old_no, "new_line": ln.new_no}  # type: ignore[dict-item]


def _range_end(path: str, at: LineAt) -> dict[str, Any]:
    out: dict[str, Any] = {
        "line_code": line_code(path, at.old, at.new),
        "type": "new" if at.line.kind is LineKind.ADDED else "old",
    }
    out.update(_line_fields(at.line))
    return out
