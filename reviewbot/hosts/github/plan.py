"""Which findings go inline, which in the review body, which were posted before; and the review's body.

- At most ``max_inline`` (30) inline comments, in ``triage``'s rank (errors and failing tests
  first; style findings are not inline); the rest are listed in the review body.
- Every anchor is re-validated with ``diff.github_position`` on the PR's own diff just before
  posting: one bad anchor makes GitHub refuse the whole review (HTTP 422, without saying which).
  A finding whose anchor does not validate goes in the body.
- Findings whose fingerprint or content key an earlier run of the bot posted are not posted again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ...diff import DiffIndex, github_position
from ...merge import content_key, fingerprint
from ...model import Anchored, Result, Unanchored
from ...reporters import markdown
from ...triage import inline, rank_key
from .render import BODY_LIMIT, comment_body, listed_line

__all__ = ["MAX_INLINE", "ReviewPlan", "dumps", "plan_review", "review_body", "review_payload"]

MAX_INLINE = 30


@dataclass(frozen=True, slots=True)
class ReviewPlan:
    comments: tuple[dict[str, Any], ...]  # the review's inline comments, as GitHub takes them
    listed: tuple[str, ...]  # findings for the review body (over the inline limit or off the diff)
    repeated: int  # findings already posted by an earlier run
    invalid: int  # findings whose anchor did not validate on the PR's diff
    fingerprints: tuple[str, ...]  # of everything this plan posts

    @property
    def empty(self) -> bool:
        return not self.comments and not self.listed


def plan_review(
    findings: Iterable[Anchored | Unanchored],
    index: DiffIndex,
    *,
    posted: frozenset[str] = frozenset(),
    max_inline: int = MAX_INLINE,
) -> ReviewPlan:
    """Which findings go inline, which in the body, which were posted before. Pure."""
    comments: list[dict[str, Any]] = []
    listed: list[str] = []
    fps: list[str] = []
    repeated = invalid = 0
    order = sorted(findings, key=rank_key)  # errors and tests first, style last (triage)
    for item in order:
        f = item.finding
        fp, key = fingerprint(f), content_key(f, index)
        if fp in posted or key in posted:
            repeated += 1
            continue
        anchor = github_position(index, f.location) if isinstance(item, Anchored) else None
        if anchor is None:
            why = item.reason if isinstance(item, Unanchored) else "not on the PR's diff"
            invalid += isinstance(item, Anchored)
            listed.append(listed_line(f, fp, key, why))
        elif len(comments) < max_inline and inline(f):
            comments.append({**anchor, "body": comment_body(f, fp, key)[: BODY_LIMIT - 1]})
        else:
            listed.append(listed_line(f, fp, key))
        fps.append(fp)
    return ReviewPlan(tuple(comments), tuple(listed), repeated, invalid, tuple(fps))


def review_body(plan: ReviewPlan, result: Result, run: str, head: str, *, limit: int = BODY_LIMIT) -> str:
    n = len(plan.comments)
    head_line = (
        f"**reviewbot** reviewed {markdown.code_span(head[:12])}: {n} inline comment{'s' if n != 1 else ''}"
    )
    if plan.listed:
        head_line += f", {len(plan.listed)} more finding{'s' if len(plan.listed) != 1 else ''} below"
    lines = [head_line + ".", ""]
    marker = f"<!-- reviewbot:review run={run} head={head} -->"
    budget = limit - len("\n".join(lines)) - len(marker) - 200
    used = 0
    for i, item in enumerate(plan.listed):
        if used + len(item) + 1 > budget:
            lines.append(
                f"- ... {len(plan.listed) - i} more not shown here (see the check run and the summary comment)"
            )
            break
        lines.append(item)
        used += len(item) + 1
    lines += ["", marker]
    return "\n".join(lines)[:limit]


def review_payload(plan: ReviewPlan, result: Result, head: str, run: str = "dry-run") -> dict[str, Any]:
    """What ``publish`` would POST, for a dry run."""
    return {
        "commit_id": head,
        "event": "COMMENT",
        "body": review_body(plan, result, run, "0" * 7 if not head else head),
        "comments": list(plan.comments),
    }


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
