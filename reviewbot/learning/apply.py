"""Learning in one review, host-independent: what the review uses (``prepare``: the signals of
other pull requests and the committed file of the base), applied to its result (``hold_back_result``:
the held-back findings leave the findings and come back as notes, each with its reason, so every
report and the summary list them), and the marker each posted comment carries (``about_for``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial

from ..model import FileDiff, Finding, Result
from .holdback import Held, hold_back, summary_lines
from .judge import bounded
from .learn import combine, learn
from .lessons import Learnings
from .marker import about_marker
from .signals import Signal
from .subjects import subject_of


def prepare(
    signals: list[Signal], committed: Learnings | None, *, this_pr: int | None, today: date, base_floor: float
) -> Learnings:
    """What this review of pull request ``this_pr`` uses: the committed lessons that have not
    expired, then what the signals of the other pull requests teach; the judge's threshold held
    within ``judge.bounded`` of the configured ``base_floor``, whoever set it."""
    active = committed.active(today) if committed is not None else None
    out = combine(active, learn(signals, today=today, this_pr=this_pr, base_floor=base_floor))
    if out.judge_floor is None or bounded(out.judge_floor, base_floor) == out.judge_floor:
        return out
    floor = bounded(out.judge_floor, base_floor)
    why = f"{out.judge_reason}; {out.judge_floor:.2f} held to {floor:.2f}, the bound of a repository's move"
    return replace(out, judge_floor=floor, judge_reason=why)


def hold_back_result(result: Result, learnings: Learnings) -> tuple[Result, list[Held]]:
    """``result`` without the findings learning holds back; each held one named in the notes."""
    files = result.changeset.files
    kept, held = hold_back(result.findings, learnings, partial(subject_of, files=files))
    if not held:
        return result, held
    gone = {id(h.finding) for h in held}
    anchored = tuple(a for a in result.anchored if id(a.finding) not in gone)
    assert len(anchored) == len(kept)
    return replace(result, anchored=anchored, notes=(*result.notes, *summary_lines(held))), held


def about_for(finding: Finding, files: tuple[FileDiff, ...]) -> str:
    """The marker a posted comment carries, so that the team's verdict on it can be learned from."""
    s = subject_of(finding, files)
    return about_marker(finding.rule, s.fact_kind, finding.confidence)
