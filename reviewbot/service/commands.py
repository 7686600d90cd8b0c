"""Commands in PR and MR comments: ``/review``, ``/ask <question>``, ``/test`` and ``/describe``.

parse("/ask why does foo retry?") -> Command("ask", "why does foo retry?")
parse("> /review") -> None

A command is the first line of the comment: blank lines and up to three spaces before it are fine; a
first line that is quoted (``>``), fenced or indented as code is not a command, and neither is a command
later in the comment. ``/review``, ``/test`` and ``/describe`` stand alone on their line; ``/ask`` takes
the rest of the comment as its question, and without one it is not a command (``parse`` gives None: it
is ignored like any other comment, no usage reply). Names are lower case; ``/reviewer`` is not
``/review``. Only users with write access may run one (``allowed``); replies are escaped Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from ..ports import ServiceHost
from ..reporters import markdown

__all__ = ["Command", "allowed", "answer_text", "describe_text", "parse"]

Name = Literal["review", "ask", "test", "describe"]
LIMIT = 65_000  # under GitHub's 65,536 characters per comment (GitLab allows more)
_FIRST = re.compile(r"\A(?:[ \t]*\n)*( {0,3})/(review|ask|test|describe)(?=\s|\Z)(.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: Name
    arg: str  # the question of /ask; empty for the others


def parse(body: str) -> Command | None:
    """The command a comment starts with, or None (anything else, from anyone, is not a command)."""
    m = _FIRST.match(body.replace("\r\n", "\n").replace("\r", "\n"))
    if m is None:
        return None
    name, rest = cast(Name, m.group(2)), m.group(3)
    if name == "ask":
        question = rest.strip()
        return Command("ask", question) if question else None
    line, _, _ = rest.partition("\n")
    return Command(name, "") if not line.strip() else None


def allowed(host: ServiceHost, user: str, bot_login: str | None) -> bool:
    """Whether a command from ``user`` is run: never the bot's own comments, only users with write
    access (asked of the host's API each time; an error there propagates, nothing runs)."""
    if not user or (bot_login is not None and user.lower() == bot_login.lower()):
        return False
    return host.can_write(user)


def describe_text(command: Command, walkthrough: str, *, user: str | None = None) -> str:
    """The reply to ``/describe``: who asked, then the walkthrough, which is Markdown already escaped
    by its renderer (``markdown.walkthrough_section``) and sized to fit one comment."""
    who = f" (asked by {markdown.escape('@' + user)})" if user else ""
    return f"**reviewbot** `/{command.name}`{who}\n\n{walkthrough.strip()}\n"[:LIMIT]


def answer_text(command: Command, text: str, *, user: str | None = None) -> str:
    """The reply to ``command``: what was asked (and by whom), then ``text`` (model or tool output,
    untrusted), all escaped; cut to fit one comment."""
    who = f" (asked by {markdown.escape('@' + user)})" if user else ""
    head = f"**reviewbot** `/{command.name}`{who}"
    if command.arg:
        quoted = markdown.escape(" ".join(command.arg.split()))
        head += "\n\n" + "\n".join("> " + ln for ln in quoted.split("\n"))
    raw = text.strip()
    body = markdown.escape(raw, lines=True)
    room = LIMIT - len(head) - 40
    while len(body) > room:  # cut before escaping, so no entity or escape is split
        raw = raw[: len(raw) * 3 // 4]
        body = markdown.escape(raw, lines=True) + "\n\n... (cut to fit one comment)"
    return f"{head}\n\n{body}\n"
