"""The diff core: parse unified diffs, the one line index, anchoring, marks, and hosts' positions.

parse_diff(text) -> tuple[FileDiff, ...]        (parse.py, the only user of unidiff)
DiffIndex(files)                                (index.py: is (path, side, line) in it, which hunk)
anchor(finding, index) -> Anchored | Unanchored (anchor.py: the host-independent position)
mark(finding, index) -> Mark                    (marks.py: added / diff_context / file / outside)
github_position, gitlab_position                (render.py: the hosts' renderings of a position)
"""

from reviewbot.diff.anchor import anchor, anchor_all, nearest_changed_line
from reviewbot.diff.index import DiffIndex, added_numbers, added_text, line_code
from reviewbot.diff.marks import FilterMode, Mark, filter_to_diff, mark, mark_all, shown_in
from reviewbot.diff.parse import parse_diff, parse_diff_bytes
from reviewbot.diff.render import github_position, gitlab_position

__all__ = [
    "DiffIndex",
    "added_numbers",
    "added_text",
    "FilterMode",
    "Mark",
    "anchor",
    "anchor_all",
    "filter_to_diff",
    "github_position",
    "gitlab_position",
    "line_code",
    "mark",
    "mark_all",
    "nearest_changed_line",
    "parse_diff",
    "parse_diff_bytes",
    "shown_in",
]
