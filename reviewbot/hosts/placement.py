"""Which findings go inline, which are listed, which were posted before: for any host.

- At most ``max_inline`` (30) inline comments (GitHub's review comments, GitLab's threads), in
  ``triage``'s rank (errors and failing tests first; style findings are not inline); the rest are
  listed (GitHub's review body, GitLab's summary note).
- Every anchor is placed by the host's ``position`` on the change's own diff just before posting:
  one bad position makes a host refuse the comment (GitHub the whole review, HTTP 422; GitLab the
  thread, 400). A finding the host cannot place is listed, with why.
- Findings whose fingerprint or content key an earlier run of the bot posted are not posted again.
- Every inline comment ends with what it is about (``learning.apply.about_for``: rule, change fact
  kind, confidence), so that a later review learns from the team's verdict on it.

The host gives its positions and its bodies (``Bodies``); ``place`` is pure. What to post of an
incremental review is ``incremental.to_post``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..diff import DiffIndex
from ..learning.apply import about_for
from ..merge import content_key, fingerprint
from ..model import Anchored, Finding, Location, Unanchored
from ..triage import inline, rank_key

__all__ = ["MAX_INLINE", "Bodies", "Plan", "place"]

MAX_INLINE = 30


class Bodies(Protocol):
    """A host's positions and comment bodies, for one change."""

    off_diff: str  # why an anchored finding the host cannot place is listed ("not on the PR's diff")

    def position(self, index: DiffIndex, location: Location) -> dict[str, Any] | None:
        """Where the host takes an inline comment on ``location``; None where it cannot place one."""
        ...

    def inline(self, f: Finding, fp: str, key: str) -> str:
        """An inline comment's body, with its marker."""
        ...

    def listed(self, f: Finding, fp: str, key: str, why: str | None = None) -> str:
        """One finding as a line of a list, with its marker."""
        ...


@dataclass(frozen=True, slots=True)
class Plan:
    inline: tuple[tuple[str, dict[str, Any]], ...]  # (body, position) of each inline comment
    listed: tuple[str, ...]  # list lines: off the diff, over the inline limit, or style
    repeated: int  # findings already posted by an earlier run
    invalid: int  # anchored findings the host could not place on the change's diff
    fingerprints: tuple[str, ...] = ()  # of everything this plan posts

    @property
    def empty(self) -> bool:
        return not self.inline and not self.listed

    def signed(self, sign: Callable[[str], str], limit: int) -> Plan:
        """This plan with its markers signed; each inline body cut to ``limit`` characters."""
        return replace(
            self,
            inline=tuple((sign(body)[:limit], pos) for body, pos in self.inline),
            listed=tuple(sign(line) for line in self.listed),
        )


def place(
    findings: Iterable[Anchored | Unanchored],
    index: DiffIndex,
    bodies: Bodies,
    *,
    posted: frozenset[str] = frozenset(),
    max_inline: int = MAX_INLINE,
) -> Plan:
    """Which findings go inline (with their position), which are listed, which were posted. Pure."""
    comments: list[tuple[str, dict[str, Any]]] = []
    listed: list[str] = []
    fps: list[str] = []
    repeated = invalid = 0
    for item in sorted(findings, key=rank_key):  # errors and tests first, style last (triage)
        f = item.finding
        fp, key = fingerprint(f), content_key(f, index)
        if fp in posted or key in posted:
            repeated += 1
            continue
        pos = bodies.position(index, f.location) if isinstance(item, Anchored) else None
        if pos is None:
            invalid += isinstance(item, Anchored)
            why = item.reason if isinstance(item, Unanchored) else bodies.off_diff
            listed.append(bodies.listed(f, fp, key, why))
        elif len(comments) < max_inline and inline(f):
            comments.append((f"{bodies.inline(f, fp, key)}\n{about_for(f, index.files)}", pos))
        else:
            listed.append(bodies.listed(f, fp, key))
        fps.append(fp)
    return Plan(tuple(comments), tuple(listed), repeated, invalid, tuple(fps))
