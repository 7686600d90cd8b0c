"""What GitHub shows outside the review: a check run with annotations, workflow-command annotations,
the job summary.

- Check-run summaries stay under 65,535 characters; annotations go 50 per request (the first 50
  with the POST, the rest appended by PATCH, each append checked before a retry).
- Workflow commands need no token (a fork's read-only job); untrusted text in them is escaped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ...errors import PublishError
from ...model import Result, Severity, Side
from ...reporters import markdown
from .client import GitHubClient
from .values import CheckRunInfo

__all__ = [
    "CHECK_NAME",
    "annotations",
    "append_step_summary",
    "conclusion",
    "post_check_run",
    "workflow_commands",
]

CHECK_NAME = "reviewbot"
CHECK_SUMMARY_LIMIT = 65_535
ANNOTATIONS_PER_REQUEST = 50
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}


def conclusion(result: Result, fail_on: str, model_fails: bool = False) -> str:
    if result.fails(fail_on, model_fails=model_fails):
        return "failure"
    return "neutral" if result.anchored else "success"


def annotations(result: Result) -> tuple[list[dict[str, Any]], int]:
    """Check-run annotations for the findings on RIGHT lines (lines of the head's files), and how many
    findings had none (removed lines have no place in the head's files)."""
    out: list[dict[str, Any]] = []
    left = 0
    for a in result.anchored:
        f = a.finding
        loc = f.location
        if loc.side is not Side.RIGHT:
            left += 1
            continue
        ann: dict[str, Any] = {
            "path": loc.path,
            "start_line": loc.first,
            "end_line": loc.line,
            "annotation_level": _LEVEL[f.severity],
            "message": markdown.plain(f.message[:60_000] or f.rule),
            "title": markdown.plain(f"{f.rule} ({f.route})")[:255],
        }
        if f.suggestion is not None and markdown.suggestion_withheld(f.suggestion) is None:
            ann["raw_details"] = f.suggestion[:60_000]
        out.append(ann)
    return out, left


def post_check_run(
    client: GitHubClient,
    repo: str,
    result: Result,
    head: str,
    *,
    run: str,
    fail_on: str,
    fail_on_model: bool = False,
    details_url: str | None = None,
) -> tuple[CheckRunInfo, int]:
    """A completed check run with the findings as annotations (50 per request); how many were sent."""
    anns, left = annotations(result)
    n = len(result.anchored)
    title = f"{n} finding{'s' if n != 1 else ''}" + (
        f" ({left} on removed lines, in the review only)" if left else ""
    )
    summary = markdown.render(result, limit=CHECK_SUMMARY_LIMIT, markers=False)
    output = {"title": title[:255], "summary": summary, "annotations": anns[:ANNOTATIONS_PER_REQUEST]}
    payload: dict[str, Any] = {
        "name": CHECK_NAME,
        "head_sha": head,
        "status": "completed",
        "conclusion": conclusion(result, fail_on, fail_on_model),
        "external_id": run,
        "output": output,
    }
    if details_url:
        payload["details_url"] = details_url

    def recover() -> CheckRunInfo | None:
        for c in client.check_runs(repo, head, CHECK_NAME):
            if c.external_id == run:
                return c
        return None

    info = client.create_check_run(repo, payload, recover=recover)
    sent = len(output["annotations"])
    while sent < len(anns):
        batch = anns[sent : sent + ANNOTATIONS_PER_REQUEST]
        expected = sent + len(batch)

        def applied(expected: int = expected) -> bool | None:
            return True if client.annotations_count(repo, info.id) >= expected else None

        client.update_check_run(
            repo,
            info.id,
            {"output": {"title": title[:255], "summary": summary, "annotations": batch}},
            recover=applied,
        )
        sent = expected
    return info, sent


def append_step_summary(path: Path, text: str) -> None:
    """Append ``text`` without its hidden markers to $GITHUB_STEP_SUMMARY."""
    # $GITHUB_STEP_SUMMARY takes 1 MiB per step; our text is under 64 KiB
    body = "\n".join(line for line in text.splitlines() if not line.startswith("<!-- reviewbot:")) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(body)
    except OSError as exc:
        raise PublishError(f"{path}: cannot append the job summary ({exc.strerror or exc})") from exc


# ------------------------------------------------------------------------ workflow-command annotations

ANNOTATIONS_PER_LEVEL = 10  # GitHub shows 10 per level per step (50 per job)
_CMD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(result: Result, *, per_level: int = ANNOTATIONS_PER_LEVEL) -> list[str]:
    """``::warning file=F,line=L,endLine=E,title=T::message`` lines for the findings on head lines, the
    most severe first, at most ``per_level`` per level (more would not be shown). Needs no token: the
    way a fork's read-only job shows its findings. Untrusted text is escaped, so it cannot end the
    line and start a command of its own."""
    out: list[str] = []
    shown: Counter[Severity] = Counter()
    for a in sorted(result.anchored, key=lambda a: -a.finding.severity.rank):
        f = a.finding
        loc = f.location
        if loc.side is not Side.RIGHT or shown[f.severity] >= per_level:
            continue
        shown[f.severity] += 1
        path, rule = _escape_property(markdown.plain(loc.path)), _escape_property(markdown.plain(f.rule))
        props = f"file={path},line={loc.first},endLine={loc.line},title={rule}"
        out.append(f"::{_CMD[f.severity]} {props}::{_escape_data(markdown.plain(f.message[:4000]))}")
    return out
