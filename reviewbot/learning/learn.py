"""From signals to what the review uses: ``learn`` for one review, ``combine`` with the committed
file (``.reviewbot/learnings.yml`` of the base branch)."""

from __future__ import annotations

from datetime import date

from .judge import judge_floor
from .lessons import Learnings, example_lessons, fresh, kind_lessons
from .signals import Signal, counted


def learn(signals: list[Signal], *, today: date, this_pr: int | None, base_floor: float) -> Learnings:
    """What the writers' signals of other pull requests, fresh enough, teach."""
    usable = fresh(counted(signals, this_pr), today)
    floor, why = judge_floor(usable, base_floor)
    notes = (f"learned from {len(usable)} signals of writers on {len({s.pr for s in usable})} pull requests",)
    return Learnings(tuple(kind_lessons(usable) + example_lessons(usable)), floor, why, notes)


def combine(committed: Learnings | None, learned: Learnings) -> Learnings:
    """The committed file first: its lessons stand as the team edited them (a lesson learned again
    for the same kind, path or comment is not added twice) and its judge threshold wins."""
    if committed is None:
        return learned

    def key(x):
        return (x.action, x.rule, x.fact_kind, x.path, x.message, x.code)

    have = {key(x) for x in committed.lessons}
    lessons = committed.lessons + tuple(x for x in learned.lessons if key(x) not in have)
    if committed.judge_floor is not None:
        floor, why = committed.judge_floor, committed.judge_reason or "set in .reviewbot/learnings.yml"
    else:
        floor, why = learned.judge_floor, learned.judge_reason
    return Learnings(lessons, floor, why, learned.notes)
