"""The Markdown GitLab shows for one finding, and the hidden markers a later run reads back.

- A fix becomes a committable ```` ```suggestion:-N+0 ```` block (GitLab's form): the thread sits on
  the range's last line and the block replaces it and the N lines above (``first..line``); only on
  new-side lines, in a fence longer than any backtick run in the code.
- Each thread carries ``<!-- reviewbot:fp=FP key=KEY -->`` (``merge.fingerprint``, ``merge.content_key``);
  the summary note starts with ``<!-- reviewbot:summary -->`` and names the reviewed head in
  ``<!-- reviewbot:head=SHA -->``. ``markers.Signer`` signs them as they are posted; markers in notes
  by anyone but the bot, or without a valid signature, are ignored.
"""

from __future__ import annotations

from ...model import Finding, Severity, Side
from ...reporters import markdown

__all__ = ["BODY_LIMIT", "SUMMARY_MARKER", "listed", "thread_body"]

BODY_LIMIT = 1_000_000  # GitLab's note limit
SUMMARY_MARKER = "<!-- reviewbot:summary -->"
_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}


def marker(fp: str, key: str) -> str:
    return f"<!-- reviewbot:fp={fp} key={key} -->"


def _suggestion(f: Finding) -> str | None:
    s = f.suggestion
    if s is None or f.location.side is not Side.RIGHT:
        return None
    withheld = markdown.suggestion_withheld(s)
    if withheld is not None:
        return withheld
    info = f"suggestion:-{f.location.line - f.location.first}+0"
    return f"```{info}\n```" if s.strip("\n") == "" else markdown.fence(s, info)


def thread_body(f: Finding, fp: str, key: str) -> str:
    """A thread's first note: severity, rule, route, the escaped message, a suggestion, the marker."""
    message = (
        f.message if len(f.message) <= markdown.MAX_MESSAGE else f.message[: markdown.MAX_MESSAGE] + " ..."
    )
    route = f.route if f.route_probability is None else f"{f.route} ({f.route_probability:.2f})"
    head = f"{_ICON[f.severity]} **{f.severity.value}** · {markdown.code_span(f.rule)} · {markdown.escape(route)}"
    parts = [head, "", markdown.escape(message)]
    block = _suggestion(f)
    if block is not None:
        parts += ["", block]
    return "\n".join([*parts, "", marker(fp, key)])


def listed(f: Finding, fp: str, key: str, why: str | None = None) -> str:
    """One finding as a line of the summary note (not on the diff, or over the thread limit)."""
    loc = f.location
    where = markdown.code_span(f"{loc.path}:{loc.first}" + (f"-{loc.line}" if loc.first != loc.line else ""))
    msg = " ".join(f.message.split())[:1000]
    extra = f" ({markdown.escape(why)})" if why else ""
    return (f"- {_ICON[f.severity]} **{f.severity.value}** {where} {markdown.code_span(f.rule)}{extra}: "
            f"{markdown.escape(msg)} {marker(fp, key)}")  # fmt: skip
