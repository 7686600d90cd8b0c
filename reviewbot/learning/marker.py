"""What a posted comment was about, written into it so that the team's verdicts on it can be
learned from later: ``<!-- reviewbot:about rule=R fact=K confidence=C -->``, beside the signed
finding marker. It is read only from comments the bot's signed marker already proves its own."""

from __future__ import annotations

import html
import re

_ABOUT = re.compile(r"<!-- reviewbot:about rule=([\w./-]+) fact=([\w-]*) confidence=(\d\.\d{1,4}|-) -->")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")


def about_marker(rule: str, fact_kind: str, confidence: float | None) -> str:
    """The marker; a character the reader's pattern does not take (one that could end the HTML
    comment, say) becomes ``_``, so the marker is always one comment that ``read_about`` reads."""
    conf = "-" if confidence is None else f"{confidence:.4f}"
    rule, fact_kind = re.sub(r"[^\w./-]", "_", rule) or "_", re.sub(r"[^\w-]", "_", fact_kind)
    return f"<!-- reviewbot:about rule={rule} fact={fact_kind} confidence={conf} -->"


def read_about(body: str) -> tuple[str, str, float | None] | None:
    """(rule, change fact kind, confidence) of a comment body that carries the marker."""
    m = _ABOUT.search(body)
    if m is None:
        return None
    return m[1], m[2], None if m[3] == "-" else float(m[3])


def message_of(body: str) -> str:
    """The finding's message in a comment body: its third line (after the heading and a blank
    line), with the escapes of ``reporters.markdown.escape`` undone."""
    lines = body.splitlines()
    text = lines[2] if len(lines) > 2 else ""
    return html.unescape(_ESCAPED.sub(r"\1", text)).replace("\u200b", "").strip()
