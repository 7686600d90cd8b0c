"""The summary comment, edited in place on every run: what was reviewed, what was not and why, the
routes taken, timings, and whether the review was posted (a failure is reported there, never
hidden). Its ``head=`` marker is the last reviewed head, the start of the next incremental review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ...model import Result
from ...reporters import markdown
from .plan import ReviewPlan
from .render import BODY_LIMIT, SUMMARY_MARKER
from .values import ReviewInfo

__all__ = ["summary_body"]


def summary_body(
    result: Result,
    *,
    head: str,
    plan: ReviewPlan,
    review: ReviewInfo | None,
    errors: Sequence[str],
    since: str | None,
    resolved: int = 0,
    notes: Sequence[str] = (),
    limit: int = BODY_LIMIT,
) -> str:
    s = result.stats
    routes = Counter(a.finding.route for a in result.anchored)
    lines = [SUMMARY_MARKER, f"<!-- reviewbot:head={head} -->", "## reviewbot", ""]
    lines += [markdown.walkthrough_section(result, limit=limit // 4), ""]  # the walkthrough opens the summary
    scope = f"the changes since {markdown.code_span(since[:12])}" if since else "the whole pull request"
    lines.append(f"Reviewed {scope} at {markdown.code_span(head[:12])}: {s.files} files, "
                 f"{s.reviewed_items}/{s.work_items} work items reviewed by {markdown.escape(s.backend)}"
                 + (f" ({markdown.escape(s.model)})" if s.model else "") + ".")  # fmt: skip
    if review is not None:
        lines.append(f"- review posted: {len(plan.comments)} inline, {len(plan.listed)} in its body")
    elif plan.empty:
        lines.append("- no new review: nothing new to say")
    lines.append(f"- already posted by an earlier run, not repeated: {plan.repeated}")
    if plan.invalid:
        lines.append(f"- anchors that did not validate on the PR's diff (listed, not inline): {plan.invalid}")
    if resolved:
        lines.append(f"- earlier comments resolved (their code changed and the finding is gone): {resolved}")
    for n in notes:
        lines.append(f"- note: {markdown.escape(' '.join(n.split()))}")
    if routes:
        lines.append("- routes: " + ", ".join(f"{markdown.escape(r)} {n}" for r, n in sorted(routes.items())))
    lines.append(f"- time: {s.total_seconds:.1f} s in all, {s.model_seconds:.1f} s in the model")
    for e in errors:
        lines.append(f"- ⚠️ **not done**: {markdown.escape(' '.join(e.split()))}")
    head_text = "\n".join(lines) + "\n\n"
    rest = markdown.render(
        result, limit=max(1000, limit - len(head_text) - 16), markers=False, walkthrough=False
    )
    return (head_text + rest)[:limit]
