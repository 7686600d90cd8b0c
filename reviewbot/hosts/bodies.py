"""The Markdown every host posts for one finding, and the hidden markers a later run reads back.

- An inline comment (a GitHub review comment, a GitLab thread's first note): severity, rule,
  route, the escaped message, the fix in the host's own suggestion syntax where it can stand (on
  new-side lines only), and the finding's marker.
- A listed line: one finding in a review body or a summary (not on the diff, or over the inline
  limit), with its marker.
- Markers: ``<!-- reviewbot:fp=FP key=KEY -->`` names the finding (``merge.fingerprint``) and its
  content key (``merge.content_key``: it survives code moving up or down); a summary starts with
  ``<!-- reviewbot:summary -->`` and names the reviewed head in ``<!-- reviewbot:head=SHA -->``.
  ``markers.Signer`` signs them as they are posted; markers by anyone but the bot, or without a
  valid signature, are ignored.

Escaping and withholding are ``reporters.markdown``'s: one path for every host's bodies.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import Finding, Side
from ..reporters import markdown

__all__ = ["SUMMARY_MARKER", "comment", "head_marker", "listed", "marker"]

SUMMARY_MARKER = markdown.MARKER.format("summary")
LISTED_MESSAGE = 1000  # characters of a message on a listed line


def marker(fp: str, key: str) -> str:
    return markdown.MARKER.format(f"fp={fp} key={key}")


def head_marker(sha: str) -> str:
    return markdown.MARKER.format(f"head={sha}")


def comment(f: Finding, fp: str, key: str, suggestion: Callable[[Finding, str], str]) -> str:
    """An inline comment; ``suggestion(f, code)`` writes the host's block for a fix that may be shown."""
    rule = markdown.code_span(f.rule)
    parts = [f"{markdown.ICON[f.severity]} **{f.severity.value}** · {rule} · {markdown.route(f)}"]
    parts += ["", markdown.message(f)]
    code = f.suggestion
    if code is not None and f.location.side is Side.RIGHT:
        parts += ["", markdown.suggestion_withheld(code) or suggestion(f, code)]
    parts += ["", marker(fp, key)]
    return "\n".join(parts)


def listed(f: Finding, fp: str, key: str, why: str | None = None) -> str:
    """One finding as a line of a review body or a summary, with why it is not inline and its marker."""
    msg = " ".join(f.message.split())
    if len(msg) > LISTED_MESSAGE:
        msg = msg[:LISTED_MESSAGE] + " ..."
    extra = f" ({markdown.escape(why)})" if why else ""
    head = f"- {markdown.ICON[f.severity]} **{f.severity.value}** {markdown.where(f)}"
    return f"{head} {markdown.code_span(f.rule)}{extra}: {markdown.escape(msg)} {marker(fp, key)}"
