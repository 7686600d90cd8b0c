"""What was learned for a repository, in words: what ``reviewbot learn`` prints."""

from __future__ import annotations

from .lessons import Learnings


def _prs(prs: tuple[int, ...]) -> str:
    shown = ", ".join(f"#{p}" for p in prs[:6])
    return shown + (f" and {len(prs) - 6} more" if len(prs) > 6 else "")


def describe(learnings: Learnings, repository: str) -> str:
    lines = [f"What the team of {repository} taught the review:"]
    lines += [f"  ({note})" for note in learnings.notes]
    if learnings.judge_floor is not None:
        lines.append(
            f"- the judge keeps a model finding only from confidence {learnings.judge_floor:.2f}: "
            f"{learnings.judge_reason}"
        )
    kinds = [x for x in learnings.lessons if not x.by_resemblance]
    like = [x for x in learnings.lessons if x.by_resemblance]
    for x in kinds:
        evidence = (
            f"rejected {x.rejected}, acted on {x.accepted}, in {_prs(x.pull_requests)}"
            if x.pull_requests
            else "no pull request recorded (written by hand)"
        )
        kind = f"{x.rule} on {x.fact_kind or 'any line'} in {x.path}"
        lines.append(f"- {x.action} {kind}: {evidence}; expires {x.expires}")
    held = sum(x.action == "hold" for x in like)
    if like:
        lines.append(
            f"- {len(like)} marked comments a new finding is compared with: {held} rejected, "
            f"{len(like) - held} acted on"
        )
    if len(lines) == 1 + len(learnings.notes):
        lines.append("- nothing yet: no kind of comment was rejected or acted on consistently enough")
    return "\n".join(lines) + "\n"
