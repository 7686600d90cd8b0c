"""What the signals teach: lessons, each with the evidence it stands on and the day it expires.

A lesson says ``hold`` (the team rejects such comments: hold them back) or ``keep`` (the team acts
on them: never hold them back by resemblance). It matches findings in one of two ways:

- by kind: the finding's rule, its change fact's kind and a path pattern (``pandas/core/**``);
- by resemblance: a comment the team marked, with its message and code; a finding matches when it
  resembles it (``similarity``).

Evidence, so that one 👎 does not silence a kind: a kind lesson needs ``MIN_KIND`` rejections from
``MIN_PRS`` pull requests with at most one acceptance in ``KIND_SHARE``; a finding is held by
resemblance only when it resembles ``MIN_LIKE`` rejected comments from ``MIN_PRS`` pull requests,
and they were rejected more often than acted on. Signals older than ``DAYS`` days teach nothing, and a
lesson expires ``DAYS`` days after its newest evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from .signals import Signal, Subject

Action = Literal["hold", "keep"]
DAYS = 180
MIN_KIND = 3  # rejections before a kind is held back
MIN_LIKE = 2  # rejected comments a finding must resemble before it is held back
MIN_PRS = 2  # ... given on at least this many pull requests
KIND_SHARE = 0.8  # ... and at least this share of the kind's verdicts


@dataclass(frozen=True, slots=True)
class Lesson:
    action: Action
    rule: str
    fact_kind: str
    path: str  # a glob: "**" for any path, "pandas/core/**" below a folder, or one file
    rejected: int
    accepted: int
    pull_requests: tuple[int, ...]
    expires: date
    message: str = ""  # set: a lesson by resemblance to this comment
    code: str = ""

    @property
    def by_resemblance(self) -> bool:
        return bool(self.message or self.code)

    def subject(self) -> Subject:
        return Subject(self.rule, self.fact_kind, self.path, self.message, self.code)


@dataclass(frozen=True, slots=True)
class Learnings:
    lessons: tuple[Lesson, ...] = ()
    judge_floor: float | None = None  # the judge's minimum confidence for model findings; None: as set
    judge_reason: str = ""
    notes: tuple[str, ...] = field(default=())

    def active(self, today: date) -> Learnings:
        """Without the lessons that expired before ``today``."""
        kept = tuple(x for x in self.lessons if x.expires >= today)
        return Learnings(kept, self.judge_floor, self.judge_reason, self.notes)


def path_pattern(paths: Iterable[str]) -> str:
    """The narrowest folder glob that holds every path: one file as it is, else ``dir/**``."""
    paths = sorted(set(paths))
    if len(paths) == 1:
        return paths[0]
    parts = [p.split("/")[:-1] for p in paths]
    common: list[str] = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join([*common, "**"])


def path_matches(pattern: str, path: str) -> bool:
    if pattern == "**":
        return True
    if pattern.endswith("/**"):
        return path.startswith(pattern[:-2])
    return path == pattern


def _expires(signals: list[Signal]) -> date:
    return max(s.at for s in signals).date() + timedelta(days=DAYS)


def fresh(signals: Iterable[Signal], today: date) -> list[Signal]:
    return [s for s in signals if s.at.date() >= today - timedelta(days=DAYS)]


def kind_lessons(signals: list[Signal]) -> list[Lesson]:
    """Per (rule, change fact kind): held back when writers rejected it consistently."""
    groups: dict[tuple[str, str], list[Signal]] = defaultdict(list)
    for s in signals:
        groups[(s.subject.rule, s.subject.fact_kind)].append(s)
    out: list[Lesson] = []
    for (rule, fact_kind), group in sorted(groups.items()):
        rejecting = [s for s in group if s.rejects]
        accepting = [s for s in group if s.accepts]
        prs = sorted({s.pr for s in rejecting})
        share = len(rejecting) / len(group)
        if len(rejecting) >= MIN_KIND and len(prs) >= MIN_PRS and share >= KIND_SHARE:
            out.append(
                Lesson(
                    "hold",
                    rule,
                    fact_kind,
                    path_pattern(s.subject.path for s in rejecting),
                    len(rejecting),
                    len(accepting),
                    tuple(prs),
                    _expires(group),
                )
            )
    return out


def example_lessons(signals: list[Signal]) -> list[Lesson]:
    """One lesson per marked comment: its verdicts, for findings that resemble it."""
    groups: dict[tuple[Subject, int], list[Signal]] = defaultdict(list)
    for s in signals:
        groups[(s.subject, s.pr)].append(s)
    out: list[Lesson] = []
    for (subject, pr), group in groups.items():
        rejected = sum(s.rejects for s in group)
        accepted = sum(s.accepts for s in group)
        if rejected == accepted:
            continue
        action: Action = "hold" if rejected > accepted else "keep"
        out.append(
            Lesson(
                action,
                subject.rule,
                subject.fact_kind,
                subject.path,
                rejected,
                accepted,
                (pr,),
                _expires(group),
                subject.message,
                subject.code,
            )
        )
    return sorted(out, key=lambda x: (x.pull_requests, x.path, x.message))
