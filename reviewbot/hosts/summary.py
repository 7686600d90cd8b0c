"""The summary comment, for any host, edited in place on every run: the walkthrough, what was
reviewed, what was not and why, the routes taken, timings, and what was posted (a failure is
reported there, never hidden). Its ``head=`` marker is the last reviewed head, the start of the
next incremental review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..model import Result
from ..reporters import markdown
from .bodies import SUMMARY_MARKER, head_marker
from .placement import Plan

__all__ = ["summary_body"]


def summary_body(
    result: Result,
    *,
    head: str,
    term: str,
    plan: Plan,
    posting: Sequence[str],
    errors: Sequence[str],
    since: str | None,
    listed: Sequence[str] = (),
    resolved: str | None = None,
    notes: Sequence[str] = (),
    limit: int,
) -> str:
    """``term``: what the host calls a change ("pull request"); ``posting``: the host's lines on what
    it posted; ``listed``: findings listed in the summary itself (where the host has no review body);
    ``resolved``: the host's line on the earlier threads it resolved, where it resolved any."""
    s = result.stats
    code = markdown.code_span
    lines = [SUMMARY_MARKER, head_marker(head), "## reviewbot", ""]
    lines += [markdown.walkthrough_section(result, limit=limit // 4), ""]  # the walkthrough opens the summary
    scope = f"the changes since {code(since[:12])}" if since else f"the whole {term}"
    model = f" ({markdown.escape(s.model)})" if s.model else ""
    lines.append(
        f"Reviewed {scope} at {code(head[:12])}: {s.files} files, {s.reviewed_items}/{s.work_items} work "
        f"items reviewed by {markdown.escape(s.backend)}{model}."
    )
    lines += [f"- {line}" for line in posting]
    lines.append(f"- already posted by an earlier run, not repeated: {plan.repeated}")
    if plan.invalid:
        lines.append(
            f"- findings that could not be placed on the {term}'s diff (listed, not inline): {plan.invalid}"
        )
    if resolved:
        lines.append(f"- {resolved}")
    lines += [f"- note: {markdown.escape(' '.join(n.split()))}" for n in notes]
    routes = Counter(a.finding.route for a in result.anchored)
    if routes:
        lines.append("- routes: " + ", ".join(f"{markdown.escape(r)} {n}" for r, n in sorted(routes.items())))
    lines.append(f"- time: {s.total_seconds:.1f} s in all, {s.model_seconds:.1f} s in the model")
    lines += [f"- ⚠️ **not done**: {markdown.escape(' '.join(e.split()))}" for e in errors]
    head_text = "\n".join(lines) + "\n\n" + "".join(line + "\n" for line in listed) + ("\n" if listed else "")
    rest = markdown.render(
        result, limit=max(1000, limit - len(head_text) - 16), markers=False, walkthrough=False
    )
    return (head_text + rest)[:limit]
