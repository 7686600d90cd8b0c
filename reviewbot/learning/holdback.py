"""Applying what was learned to one review: findings that resemble what the team rejected are held
back, with the reason; findings that resemble what the team acted on are kept; model findings under
the repository's judge threshold are held back. Nothing is dropped silently: every held finding
comes back with its reason, for the summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model import Finding
from .lessons import MIN_LIKE, MIN_PRS, Learnings, Lesson, path_matches
from .signals import Subject
from .similarity import RESEMBLES, similarity


@dataclass(frozen=True, slots=True)
class Held:
    finding: Finding
    reason: str  # "resembles 4 comments marked 👎 in #12, #15, #20"


def _prs(prs: Sequence[int]) -> str:
    prs = sorted(set(prs))
    shown = ", ".join(f"#{p}" for p in prs[:5])
    return shown + (f" and {len(prs) - 5} more" if len(prs) > 5 else "")


def _kind_matches(lesson: Lesson, s: Subject) -> bool:
    return lesson.rule == s.rule and lesson.fact_kind == s.fact_kind and path_matches(lesson.path, s.path)


def verdict(s: Subject, learnings: Learnings) -> str | None:
    """Why a finding about ``s`` is held back, or None to keep it."""
    like = [x for x in learnings.lessons if x.by_resemblance and x.rule == s.rule]
    like = [x for x in like if similarity(x.subject(), s) >= RESEMBLES]
    rejected = sum(x.rejected for x in like)
    accepted = sum(x.accepted for x in like)
    if any(x.action == "keep" for x in like) and accepted >= rejected:
        return None  # it resembles what the team acted on
    against = [x for x in like if x.action == "hold"]
    prs = {p for x in against for p in x.pull_requests}
    if len(against) >= MIN_LIKE and len(prs) >= MIN_PRS and rejected > accepted:
        return f"resembles {len(against)} comments the team rejected (👎, dismissed or /wrong) in {_prs(prs)}"
    for x in learnings.lessons:
        if not x.by_resemblance and x.action == "hold" and _kind_matches(x, s) and not accepted:
            kind = f"{x.rule} on {x.fact_kind or 'a line'} in {x.path}"
            return f"{kind}: writers rejected {x.rejected} such comments in {_prs(x.pull_requests)}"
    floor = learnings.judge_floor
    if floor is not None and s.confidence is not None and s.confidence < floor:
        return f"under this repository's judge threshold {floor:.2f} ({learnings.judge_reason})"
    return None


def hold_back(
    findings: Sequence[Finding], learnings: Learnings, subject_of: Callable[[Finding], Subject]
) -> tuple[list[Finding], list[Held]]:
    """The findings kept, and those held back with their reasons. Only the model's findings are
    weighed: a linter's or a test's finding is a fact the team configured, not an opinion."""
    kept: list[Finding] = []
    held: list[Held] = []
    for f in findings:
        reason = verdict(subject_of(f), learnings) if f.source == "model" else None
        if reason is None:
            kept.append(f)
        else:
            held.append(Held(f, reason))
    return kept, held


def summary_lines(held: Sequence[Held]) -> list[str]:
    """The summary's section on held-back findings: each with where, rule, message and reason."""
    if not held:
        return []
    out = [f"Held back, from what this repository's team taught the bot ({len(held)}):"]
    for h in held:
        loc = h.finding.location
        message = " ".join(h.finding.message.split())
        out.append(
            f"`{loc.path}:{loc.line}` `{h.finding.rule}`: {message} (held back: {h.reason})"
        )  # a note: a bullet of its own
    return out
