"""What GitLab's bodies hold that another host's do not (the rest is ``hosts.bodies``).

- A fix becomes a committable ```` ```suggestion:-N+0 ```` block (GitLab's form): the thread sits
  on the range's last line and the block replaces it and the N lines above (``first..line``), in a
  fence longer than any backtick run in the code.
- A note holds at most ``BODY_LIMIT`` characters.
"""

from __future__ import annotations

from ...model import Finding
from ...reporters import markdown
from .. import bodies
from ..bodies import SUMMARY_MARKER

__all__ = ["BODY_LIMIT", "SUMMARY_MARKER", "listed", "thread_body"]

BODY_LIMIT = 1_000_000  # GitLab's note limit
listed = bodies.listed


def _suggestion(f: Finding, code: str) -> str:
    info = f"suggestion:-{f.location.line - f.location.first}+0"
    return f"```{info}\n```" if code.strip("\n") == "" else markdown.fence(code, info)


def thread_body(f: Finding, fp: str, key: str) -> str:
    """A thread's first note, its fix as GitLab's suggestion block."""
    return bodies.comment(f, fp, key, _suggestion)
