"""What the team did with the bot's earlier comments: the signals learning starts from.

A signal is one person's verdict on one earlier comment of the bot: a reaction (👍 ``up``, 👎
``down``), a thread resolved by a person while the commented code stayed unchanged (``dismissed``),
the commented code changed in a later commit and the finding gone (``fixed``: the comment was acted
on), or a reply that starts with a command (``/wrong``, ``/useful``). Each carries its author and
whether the author may write to the repository (only writers teach), the pull request it was given
on, when, and what the comment was about (``Subject``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Kind = Literal["up", "down", "dismissed", "fixed", "wrong", "useful"]
KINDS: tuple[Kind, ...] = ("up", "down", "dismissed", "fixed", "wrong", "useful")
REJECTING: frozenset[str] = frozenset({"down", "dismissed", "wrong"})
ACCEPTING: frozenset[str] = frozenset({"up", "fixed", "useful"})
# the words a reply may start with, and the signal each is
COMMANDS: dict[str, Kind] = {
    "/wrong": "wrong",
    "/false-positive": "wrong",
    "/not-a-bug": "wrong",
    "/useful": "useful",
    "/right": "useful",
}
_COMMAND = re.compile(r"\s*(/[a-z][a-z-]*)(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Subject:
    """What an earlier comment of the bot was about."""

    rule: str  # "review/bug", "ruff/F401", ...
    fact_kind: str  # the change fact's kind ("compare-changed"), "" when none
    path: str
    message: str
    code: str  # the commented line's code, stripped
    confidence: float | None = None  # the judge's confidence in the comment, where it had one


@dataclass(frozen=True, slots=True)
class Signal:
    kind: Kind
    author: str
    writer: bool  # the author has write access to the repository
    pr: int  # the pull (merge) request the comment was given on
    at: datetime  # when the person gave it (a reaction's, reply's or resolution's time)
    subject: Subject

    @property
    def rejects(self) -> bool:
        return self.kind in REJECTING

    @property
    def accepts(self) -> bool:
        return self.kind in ACCEPTING


def command_of(reply: str) -> Kind | None:
    """The signal a reply gives when it starts with a known command (``/wrong because...``)."""
    m = _COMMAND.match(reply)
    return COMMANDS.get(m.group(1).lower()) if m else None


def counted(signals: list[Signal], this_pr: int | None) -> list[Signal]:
    """The signals that may teach: from writers, and not given on the pull request under review
    (a pull request cannot teach the bot about itself). A person's later verdict on one comment
    replaces their earlier one: one vote per person per comment."""
    latest: dict[tuple, Signal] = {}
    for s in sorted(signals, key=lambda s: s.at):
        if not s.writer or (this_pr is not None and s.pr == this_pr):
            continue
        latest[(s.author, s.pr, s.subject, s.kind in REJECTING)] = s
        latest.pop((s.author, s.pr, s.subject, s.kind not in REJECTING), None)
    return list(latest.values())


def stamp(text: str | None) -> datetime:
    """A host's ISO 8601 time ("2026-12-01T10:00:00Z"); now when the host gave none."""
    if not text:
        return datetime.now(UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Thread:
    """One of the bot's threads as a host shows it, in host-independent terms."""

    pr: int
    subject: Subject
    bot: str  # the bot's name on the host
    author: str  # the pull request's author (who pushes the fix)
    updated: datetime  # the pull request's last update: when a resolution happened, at the latest
    verdicts: tuple[tuple[Kind, str, datetime], ...]  # reactions: (up|down, who, when)
    replies: tuple[tuple[str, str, datetime], ...]  # (text, who, when)
    resolved_by: str  # "" when open
    changed: bool  # the commented code changed in a later commit


def thread_signals(t: Thread, writer) -> list[Signal]:
    """The signals of one thread: its reactions, its reply commands, and its resolution (by the bot
    after the code changed: a fix by the author; by a person while it did not: a dismissal).
    ``writer(name)``: whether that person may write to the repository."""
    found = [*t.verdicts, *((k, who, at) for text, who, at in t.replies if (k := command_of(text)))]
    if t.resolved_by == t.bot and t.changed:
        found.append(("fixed", t.author, t.updated))
    elif t.resolved_by and t.resolved_by != t.bot and not t.changed:
        found.append(("dismissed", t.resolved_by, t.updated))
    return [Signal(kind, who, writer(who), t.pr, at, t.subject) for kind, who, at in found]
