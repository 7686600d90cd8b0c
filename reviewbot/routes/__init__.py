"""The five routes: review, interpreter, search, tools, repo_qa (each `WorkItem -> RouteOutcome`)."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Finding, Skipped


def declined(findings: Sequence[Finding], skipped: Sequence[Skipped]) -> str | None:
    """Why the route could not take the item: it has no finding and only route-stage reasons."""
    if findings or not skipped or any(sk.stage != "route" for sk in skipped):
        return None
    return "; ".join(sk.reason for sk in skipped)
