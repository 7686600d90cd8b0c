"""The summary note, edited in place on every run: what was reviewed, what was not and why, the
routes, timings, and whether the threads were posted (a failure is said there, never hidden)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ...model import Result
from ...reporters import markdown
from .render import BODY_LIMIT, SUMMARY_MARKER

__all__ = ["summary_body"]


def summary_body(result: Result, *, head: str, threads: int, listed: Sequence[str], repeated: int, invalid: int,
                 since: str | None, resolved: int, notes: Sequence[str], errors: Sequence[str],
                 limit: int = 100_000) -> str:  # fmt: skip
    s = result.stats
    code = markdown.code_span
    scope = f"the changes since {code(since[:12])}" if since else "the whole merge request"
    model = f" ({markdown.escape(s.model)})" if s.model else ""
    out = [SUMMARY_MARKER, f"<!-- reviewbot:head={head} -->", "## reviewbot", "",
           markdown.walkthrough_section(result, limit=limit // 4), "",  # the walkthrough opens the summary
           f"Reviewed {scope} at {code(head[:12])}: {s.files} files, {s.reviewed_items}/{s.work_items} work "
           f"items reviewed by {markdown.escape(s.backend)}{model}.",
           f"- threads posted: {threads}; findings listed below: {len(listed)}",
           f"- already posted by an earlier run, not repeated: {repeated}"]  # fmt: skip
    if invalid:
        out.append(f"- findings GitLab could not place on the diff (listed below): {invalid}")
    if resolved:
        out.append(f"- earlier threads resolved (the finding is gone): {resolved}")
    routes = Counter(a.finding.route for a in result.anchored)
    if routes:
        out.append("- routes: " + ", ".join(f"{markdown.escape(r)} {n}" for r, n in sorted(routes.items())))
    out.append(f"- time: {s.total_seconds:.1f} s in all, {s.model_seconds:.1f} s in the model")
    out += [f"- note: {markdown.escape(' '.join(n.split()))}" for n in notes]
    out += [f"- ⚠️ **not done**: {markdown.escape(' '.join(e.split()))}" for e in errors]
    head_text = "\n".join(out) + "\n\n" + "\n".join(listed) + ("\n\n" if listed else "")
    rest = markdown.render(
        result, limit=max(1000, limit - len(head_text) - 16), markers=False, walkthrough=False
    )
    return (head_text + rest)[: min(limit, BODY_LIMIT)]
