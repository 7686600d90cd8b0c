"""GitHub's review: the positions and bodies ``placement`` plans with, the review's body, and the
dry run's payload.

- Every anchor is re-validated with ``diff.github_position`` on the PR's own diff just before
  posting: one bad anchor makes GitHub refuse the whole review (HTTP 422, without saying which).
- The review's body lists what is not inline, within GitHub's body limit; the rest is counted.
"""

from __future__ import annotations

import json
from typing import Any

from ...diff import DiffIndex, github_position
from ...model import Finding, Location
from ...reporters import markdown
from ..placement import Plan
from .render import BODY_LIMIT, comment_body, listed_line

__all__ = ["Bodies", "comments", "dumps", "review_body", "review_payload"]


class Bodies:
    """GitHub's positions (``line``/``side``/``start_line``) and bodies, for ``placement.place``."""

    off_diff = "not on the PR's diff"

    def position(self, index: DiffIndex, location: Location) -> dict[str, Any] | None:
        return github_position(index, location)

    def inline(self, f: Finding, fp: str, key: str) -> str:
        return comment_body(f, fp, key)[: BODY_LIMIT - 1]

    def listed(self, f: Finding, fp: str, key: str, why: str | None = None) -> str:
        return listed_line(f, fp, key, why)


def comments(plan: Plan) -> list[dict[str, Any]]:
    """The review's inline comments, as GitHub takes them."""
    return [{**pos, "body": body} for body, pos in plan.inline]


def review_body(plan: Plan, run: str, head: str, *, limit: int = BODY_LIMIT) -> str:
    n = len(plan.inline)
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
            more = len(plan.listed) - i
            lines.append(f"- ... {more} more not shown here (see the check run and the summary comment)")
            break
        lines.append(item)
        used += len(item) + 1
    lines += ["", marker]
    return "\n".join(lines)[:limit]


def review_payload(plan: Plan, head: str, run: str = "dry-run") -> dict[str, Any]:
    """What ``publish`` would POST, for a dry run."""
    return {
        "commit_id": head,
        "event": "COMMENT",
        "body": review_body(plan, run, "0" * 7 if not head else head),
        "comments": comments(plan),
    }


def dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
