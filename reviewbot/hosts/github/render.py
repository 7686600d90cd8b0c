"""What GitHub's bodies hold that another host's do not (the rest is ``hosts.bodies``).

- A fix becomes a committable ```` ```suggestion ```` block: GitHub replaces exactly the commented
  lines (``start_line..line``) with it, in a fence longer than any backtick run in the code.
- The review body carries ``<!-- reviewbot:review run=NONCE head=SHA -->``, the run's marker: a
  retried POST finds the review it may have made by it.
- A body holds at most ``BODY_LIMIT`` characters.
"""

from __future__ import annotations

import re

from ...model import Finding
from ...reporters import markdown
from .. import bodies
from ..bodies import SUMMARY_MARKER

__all__ = ["BODY_LIMIT", "RUN_MARK", "SUMMARY_MARKER", "comment_body", "listed_line", "suggestion_block"]

BODY_LIMIT = 65_536
RUN_MARK = re.compile(r"<!-- reviewbot:review run=([0-9a-f]+) head=([0-9a-f]+) -->")
listed_line = bodies.listed


def suggestion_block(code: str) -> str:
    """A ```` ```suggestion ```` block replacing the commented lines with ``code`` (empty: delete them)."""
    if code.strip("\n") == "":
        return "```suggestion\n```"
    return markdown.fence(code, "suggestion")


def comment_body(f: Finding, fp: str, key: str) -> str:
    """An inline review comment, its fix as GitHub's suggestion block."""
    return bodies.comment(f, fp, key, lambda _, code: suggestion_block(code))
