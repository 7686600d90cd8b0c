"""The Markdown bodies GitHub shows for one finding: an inline comment, a line of the review body,
a suggestion block; and the hidden markers that let a later run recognise what the bot posted.

- A fix becomes a committable ```` ```suggestion ```` block on RIGHT lines only (it replaces exactly
  ``start_line..line``), in a fence longer than any backtick run in the code.
- Each comment carries ``<!-- reviewbot:fp=FP key=KEY -->``: FP is the finding's fingerprint, KEY
  its content key (``merge.content_key``: it survives code moving up or down).
- The review body carries ``<!-- reviewbot:review run=NONCE head=SHA -->``; the summary comment
  starts with ``<!-- reviewbot:summary -->`` and names the last reviewed head in ``<!-- reviewbot:head=SHA -->``.
"""

from __future__ import annotations

import re

from ...model import Finding, Severity, Side
from ...reporters import markdown

__all__ = ["BODY_LIMIT", "RUN_MARK", "SUMMARY_MARKER", "comment_body",
           "listed_line", "suggestion_block"]  # fmt: skip

BODY_LIMIT = 65_536
SUMMARY_MARKER = "<!-- reviewbot:summary -->"
RUN_MARK = re.compile(r"<!-- reviewbot:review run=([0-9a-f]+) head=([0-9a-f]+) -->")
ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}


def suggestion_block(code: str) -> str:
    """A ```` ```suggestion ```` block replacing the commented lines with ``code`` (empty: delete them)."""
    if code.strip("\n") == "":
        return "```suggestion\n```"
    return markdown.fence(code, "suggestion")


def comment_body(f: Finding, fp: str, key: str) -> str:
    """An inline comment: severity, rule, escaped message, a suggestion where it can stand, the marker."""
    message = f.message
    if len(message) > markdown.MAX_MESSAGE:
        message = (
            message[: markdown.MAX_MESSAGE]
            + f" ... ({len(f.message) - markdown.MAX_MESSAGE} more characters)"
        )
    route = f.route if f.route_probability is None else f"{f.route} ({f.route_probability:.2f})"
    parts = [
        f"{ICON[f.severity]} **{f.severity.value}** · {markdown.code_span(f.rule)} · {markdown.escape(route)}",
        "",
        markdown.escape(message),
    ]
    s = f.suggestion
    if s is not None and f.location.side is Side.RIGHT:
        parts += ["", markdown.suggestion_withheld(s) or suggestion_block(s)]
    parts += ["", f"<!-- reviewbot:fp={fp} key={key} -->"]
    return "\n".join(parts)


def _where(f: Finding) -> str:
    loc = f.location
    lines = f"{loc.first}-{loc.line}" if loc.first != loc.line else str(loc.line)
    return markdown.code_span(f"{loc.path}:{lines}") + (" (removed lines)" if loc.side is Side.LEFT else "")


def listed_line(f: Finding, fp: str, key: str, why: str | None = None) -> str:
    """One finding as a line of the review body, with its marker."""
    msg = " ".join(f.message.split())
    if len(msg) > 1000:
        msg = msg[:1000] + " ..."
    extra = f" ({markdown.escape(why)})" if why else ""
    return (
        f"- {ICON[f.severity]} **{f.severity.value}** {_where(f)} {markdown.code_span(f.rule)}{extra}: "
        f"{markdown.escape(msg)} <!-- reviewbot:fp={fp} key={key} -->"
    )
