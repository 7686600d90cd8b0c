"""The diff core: parse unified diffs, index them, and anchor findings on valid diff positions.

    parse_diff(text) -> tuple[FileDiff, ...]      (parse.py, the only user of unidiff)
    DiffIndex(files)                              (index.py: lookups, GitHub/GitLab anchors)
    anchor(finding, index) -> Anchored | Unanchored (anchor.py)
"""

from reviewbot.diff.anchor import anchor, anchor_all, nearest_changed_line
from reviewbot.diff.index import DiffIndex, line_code
from reviewbot.diff.parse import parse_diff, parse_diff_bytes

__all__ = [
    "DiffIndex",
    "anchor",
    "anchor_all",
    "line_code",
    "nearest_changed_line",
    "parse_diff",
    "parse_diff_bytes",
]
