"""Publish a Result on a GitHub pull request: one review, a summary comment, a check run, a job summary.

The pure half (``plan_review``, ``comment_body``, ``annotations``, ``summary_body``) decides what
goes where; ``GitHubReviewer.publish`` posts it through ``hosts.github.GitHubClient``.

The rules (FACTS.md, GitHub's REST documentation):

- One review per run, ``event: COMMENT`` (without ``event`` GitHub leaves it PENDING), ``commit_id``
  = the head SHA reviewed. The bot never approves and never requests changes.
- Inline comments use ``path``, ``line``, ``side`` and, for ranges, ``start_line``/``start_side``
  (never the deprecated ``position``). Every anchor is re-validated with ``DiffIndex.github_anchor``
  on the PR's own diff just before posting: one bad anchor makes GitHub refuse the whole review
  (HTTP 422, without saying which). A finding whose anchor does not validate goes in the body.
- At most ``max_inline`` (30) inline comments; the rest are listed in the review body.
- A fix becomes a committable ```` ```suggestion ```` block on RIGHT lines only (it replaces exactly
  ``start_line..line``), in a fence longer than any backtick run in the code.
- Bodies stay under 65,536 characters; check-run summaries under 65,535; annotations go 50 per
  request (the first 50 with the POST, the rest appended by PATCH).
- Each comment carries a hidden marker ``<!-- reviewbot:fp=FP key=KEY -->``: FP is the finding's
  fingerprint, KEY hashes the path, rule, message and the text of the lines (it survives code moving
  up or down). On a re-run, findings whose FP or KEY was already posted by the bot are not posted
  again; markers in comments by anyone else are ignored (they could be forged to hide a finding).
- The review body carries ``<!-- reviewbot:review run=NONCE head=SHA -->``. When the POST fails with a
  5xx or a connection error, the retry first lists the reviews and takes the one with this run's
  NONCE if GitHub did create it: no duplicate review.
- The summary comment (``<!-- reviewbot:summary -->``) is edited in place on every run; it says
  what was reviewed, what was not and why, the routes taken, timings, and whether the review was
  posted (a failure is reported there, never hidden). Its ``head=`` marker is the last reviewed head,
  the start of the next incremental review.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..diff import DiffIndex, github_position
from ..errors import PublishError, ReviewbotError
from ..hosts.github import CheckRunInfo, GitHubClient, IssueCommentInfo, ReviewInfo
from ..model import Anchored, Finding, Result, Severity, Side, Unanchored
from ..reporters import markdown
from ..reporters.fingerprint import fingerprint, normalize_message

__all__ = [
    "BODY_LIMIT",
    "GitHubReviewer",
    "Posted",
    "ReviewPlan",
    "annotations",
    "comment_body",
    "conclusion",
    "plan_review",
    "suggestion_block",
]

BODY_LIMIT = 65_536
CHECK_SUMMARY_LIMIT = 65_535
ANNOTATIONS_PER_REQUEST = 50
MAX_INLINE = 30
CHECK_NAME = "reviewbot"
SUMMARY_MARKER = "<!-- reviewbot:summary -->"
DEFAULT_BOT = "github-actions[bot]"
_FP = re.compile(r"<!-- reviewbot:fp=([0-9a-f]{16}) key=([0-9a-f]{16}) -->")
_RUN = re.compile(r"<!-- reviewbot:review run=([0-9a-f]+) head=([0-9a-f]+) -->")
_HEAD = re.compile(r"<!-- reviewbot:head=([0-9a-f]{7,64}) -->")
_ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}


def content_key(f: Finding, index: DiffIndex) -> str:
    """16 hex digits over path, rule, message and the text of the finding's lines (not their numbers)."""
    loc = f.location
    texts = []
    for n in range(loc.first, loc.line + 1):
        ln = index.line_at(loc.path, loc.side, n)
        texts.append(ln.text.strip() if ln is not None else "")
    parts = (loc.path, f.rule, loc.side.value, normalize_message(f.message), "\n".join(texts))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def keys_of(items: Iterable[Anchored | Unanchored], index: DiffIndex) -> frozenset[str]:
    """Fingerprints and content keys of findings: what the current run still says."""
    out: set[str] = set()
    for item in items:
        out.add(fingerprint(item.finding))
        out.add(content_key(item.finding, index))
    return frozenset(out)


def suggestion_block(code: str) -> str:
    """A ```` ```suggestion ```` block replacing the commented lines with ``code`` (empty: delete them)."""
    if code.strip("\n") == "":
        return "```suggestion\n```"
    return markdown.fence(code, "suggestion")


def comment_body(f: Finding, fp: str, key: str) -> str:
    """An inline comment: severity, rule, escaped message, a suggestion where it can stand, the marker."""
    message = f.message
    if len(message) > markdown.MAX_MESSAGE:
        message = (
            message[: markdown.MAX_MESSAGE]
            + f" ... ({len(f.message) - markdown.MAX_MESSAGE} more characters)"
        )
    route = f.route if f.route_probability is None else f"{f.route} ({f.route_probability:.2f})"
    parts = [
        f"{_ICON[f.severity]} **{f.severity.value}** · {markdown.code_span(f.rule)} · {markdown.escape(route)}",
        "",
        markdown.escape(message),
    ]
    s = f.suggestion
    if s is not None and f.location.side is Side.RIGHT:
        if len(s) > markdown.MAX_SUGGESTION:
            parts += ["", f"_A suggestion of {len(s)} characters is not shown (too long)._"]
        elif "<!--" in s:
            parts += ["", "_The suggestion is not shown: it contains an HTML comment._"]
        else:
            parts += ["", suggestion_block(s)]
    parts += ["", f"<!-- reviewbot:fp={fp} key={key} -->"]
    return "\n".join(parts)


def _where(f: Finding) -> str:
    loc = f.location
    lines = f"{loc.first}-{loc.line}" if loc.first != loc.line else str(loc.line)
    return markdown.code_span(f"{loc.path}:{lines}") + (" (removed lines)" if loc.side is Side.LEFT else "")


def _listed(f: Finding, fp: str, key: str, why: str | None = None) -> str:
    msg = " ".join(f.message.split())
    if len(msg) > 1000:
        msg = msg[:1000] + " ..."
    extra = f" ({markdown.escape(why)})" if why else ""
    return (
        f"- {_ICON[f.severity]} **{f.severity.value}** {_where(f)} {markdown.code_span(f.rule)}{extra}: "
        f"{markdown.escape(msg)} <!-- reviewbot:fp={fp} key={key} -->"
    )


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
    order = sorted(
        findings,
        key=lambda a: (-a.finding.severity.rank, a.finding.location.path, a.finding.location.line),
    )
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
            listed.append(_listed(f, fp, key, why))
        elif len(comments) < max_inline:
            comments.append({**anchor, "body": comment_body(f, fp, key)[: BODY_LIMIT - 1]})
        else:
            listed.append(_listed(f, fp, key))
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


def conclusion(result: Result, fail_on: str) -> str:
    if fail_on != "never":
        floor = Severity(fail_on).rank
        if any(a.finding.severity.rank >= floor for a in result.anchored):
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
            "message": f.message[:60_000] or f.rule,
            "title": f"{f.rule} ({f.route})"[:255],
        }
        if f.suggestion is not None:
            ann["raw_details"] = f.suggestion[:60_000]
        out.append(ann)
    return out, left


@dataclass(frozen=True, slots=True)
class Posted:
    """What a publish did; every field is filled even when a step failed."""

    review: ReviewInfo | None
    inline: int
    listed: int
    repeated: int
    invalid: int
    summary: IssueCommentInfo | None
    check_run: CheckRunInfo | None
    annotations: int
    errors: tuple[str, ...] = ()
    incremental_since: str | None = None
    resolved: int = 0  # earlier threads resolved: GitHub marked them outdated and the finding is gone


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
    rest = markdown.render(result, limit=max(1000, limit - len(head_text) - 16), markers=False)
    return (head_text + rest)[:limit]


class GitHubReviewer:
    """Posts one Result on one pull request. No request is made until ``publish``."""

    def __init__(
        self,
        client: GitHubClient,
        repo: str,
        number: int,
        *,
        fail_on: str = "error",
        max_inline: int = MAX_INLINE,
        check_run: bool = True,
        step_summary: Path | None = None,
        bot_login: str | None = None,
        details_url: str | None = None,
    ) -> None:
        self.client = client
        self.repo = repo
        self.number = number
        self.fail_on = fail_on
        self.max_inline = max_inline
        self.check_run = check_run
        self.step_summary = step_summary
        self.bot_login = bot_login
        self.details_url = details_url
        self.run = secrets.token_hex(8)

    # ------------------------------------------------------------------------------ state

    def _bot(self) -> str:
        if self.bot_login is None:
            self.bot_login = self.client.login() or DEFAULT_BOT
        return self.bot_login

    def previous(self) -> tuple[frozenset[str], str | None, IssueCommentInfo | None]:
        """Fingerprints and keys the bot posted before, the last reviewed head, the summary comment."""
        bot = self._bot()
        seen: set[str] = set()
        for c in self.client.review_comments(self.repo, self.number):
            if c.user == bot:
                for fp, key in _FP.findall(c.body):
                    seen.update((fp, key))
        for r in self.client.reviews(self.repo, self.number):
            if r.user == bot:
                for fp, key in _FP.findall(r.body):
                    seen.update((fp, key))
        summary = None
        for c in self.client.issue_comments(self.repo, self.number):
            if c.user == bot and c.body.startswith(SUMMARY_MARKER):
                summary = c
        last = None
        if summary is not None:
            m = _HEAD.search(summary.body)
            last = m.group(1) if m else None
        return frozenset(seen), last, summary

    # ---------------------------------------------------------------------------- publish

    def publish(
        self,
        result: Result,
        index: DiffIndex,
        *,
        head: str,
        posted: frozenset[str] | None = None,
        summary: IssueCommentInfo | None = None,
        since: str | None = None,
        findings: Sequence[Anchored | Unanchored] | None = None,
        current: frozenset[str] | None = None,
        resolve: bool = True,
    ) -> Posted:
        """Review, summary comment, check run, job summary, in that order; failures are collected and
        reported in the summary comment, then raised as one PublishError at the end."""
        if posted is None:
            posted, _, summary = self.previous()
        items = list(findings) if findings is not None else [*result.anchored, *result.unanchored]
        plan = plan_review(items, index, posted=posted, max_inline=self.max_inline)
        errors: list[str] = []
        review = None
        if not plan.empty:
            body = review_body(plan, result, self.run, head)
            try:
                review = self.client.create_review(
                    self.repo, self.number, commit_sha=head, body=body, comments=plan.comments,
                    recover=self._find_review,
                )  # fmt: skip
            except ReviewbotError as exc:
                errors.append(f"the review was not posted: {exc}")
        notes: list[str] = []
        resolved = 0
        if resolve and posted:
            if current is None:
                current = keys_of(items, index)
            try:
                resolved = self._resolve_fixed(current)
            except ReviewbotError as exc:
                notes.append(f"earlier threads were not resolved: {exc}")
        run_info, n_ann = None, 0
        if self.check_run:
            try:
                run_info, n_ann = self._check_run(result, head)
            except ReviewbotError as exc:
                errors.append(f"the check run is incomplete: {exc}")
        text = summary_body(
            result,
            head=head,
            plan=plan,
            review=review,
            errors=errors,
            since=since,
            resolved=resolved,
            notes=notes,
        )
        summary_info = None
        try:
            summary_info = self._summary(text, summary)
        except ReviewbotError as exc:
            errors.append(f"the summary comment was not posted: {exc}")
        if self.step_summary is not None:
            self._step_summary(text)
        out = Posted(review, len(plan.comments) if review else 0, len(plan.listed) if review else 0,
                     plan.repeated, plan.invalid, summary_info, run_info, n_ann, tuple(errors), since,
                     resolved)  # fmt: skip
        if errors:
            raise PublishError("; ".join(errors))
        return out

    def _is_bot(self, login: str | None) -> bool:
        bot = self._bot()
        return login is not None and (login == bot or f"{login}[bot]" == bot)  # GraphQL drops "[bot]"

    def _resolve_fixed(self, current: frozenset[str]) -> int:
        """Resolve the bot's unresolved threads that GitHub marked outdated and whose finding is gone."""
        n = 0
        for t in self.client.review_threads(self.repo, self.number):
            if t.resolved or not t.outdated or not self._is_bot(t.author):
                continue
            marks = _FP.findall(t.body)
            if marks and not any(fp in current or key in current for fp, key in marks):
                self.client.resolve_thread(t.id)
                n += 1
        return n

    def _find_review(self) -> ReviewInfo | None:
        for r in self.client.reviews(self.repo, self.number):
            m = _RUN.search(r.body)
            if m and m.group(1) == self.run:
                return r
        return None

    def _summary(self, text: str, existing: IssueCommentInfo | None) -> IssueCommentInfo:
        if existing is not None:
            self.client.edit_issue_comment(self.repo, existing.id, text)
            return IssueCommentInfo(existing.id, text, existing.user)
        bot = self._bot()

        def recover() -> IssueCommentInfo | None:
            for c in self.client.issue_comments(self.repo, self.number):
                if c.user == bot and c.body.startswith(SUMMARY_MARKER):
                    return c
            return None

        return self.client.create_issue_comment(self.repo, self.number, text, recover=recover)

    def _check_run(self, result: Result, head: str) -> tuple[CheckRunInfo, int]:
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
            "conclusion": conclusion(result, self.fail_on),
            "external_id": self.run,
            "output": output,
        }
        if self.details_url:
            payload["details_url"] = self.details_url

        def recover() -> CheckRunInfo | None:
            for c in self.client.check_runs(self.repo, head, CHECK_NAME):
                if c.external_id == self.run:
                    return c
            return None

        info = self.client.create_check_run(self.repo, payload, recover=recover)
        sent = len(output["annotations"])
        while sent < len(anns):
            batch = anns[sent : sent + ANNOTATIONS_PER_REQUEST]
            expected = sent + len(batch)

            def applied(expected: int = expected) -> bool | None:
                return True if self.client.annotations_count(self.repo, info.id) >= expected else None

            self.client.update_check_run(
                self.repo, info.id, {"output": {"title": title[:255], "summary": summary, "annotations": batch}},
                recover=applied,
            )  # fmt: skip
            sent = expected
        return info, sent

    def _step_summary(self, text: str) -> None:
        # $GITHUB_STEP_SUMMARY takes 1 MiB per step; our text is under 64 KiB
        body = "\n".join(line for line in text.splitlines() if not line.startswith("<!-- reviewbot:")) + "\n"
        try:
            with open(self.step_summary, "a", encoding="utf-8") as fh:  # type: ignore[arg-type]
                fh.write(body)
        except OSError as exc:
            raise PublishError(
                f"{self.step_summary}: cannot append the job summary ({exc.strerror or exc})"
            ) from exc


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
        props = f"file={_escape_property(loc.path)},line={loc.first},endLine={loc.line},title={_escape_property(f.rule)}"
        out.append(f"::{_CMD[f.severity]} {props}::{_escape_data(f.message[:4000])}")
    return out


# ------------------------------------------------------------------------------------ incremental


def changed_lines(files: Iterable[Any]) -> dict[str, set[int]]:
    """New-file numbers of the added lines of each file of an interdiff."""
    out: dict[str, set[int]] = {}
    for fd in files:
        if fd.new_path is None:
            continue
        lines = out.setdefault(fd.new_path, set())
        for h in fd.hunks:
            lines.update(ln.new_no for ln in h.lines if ln.kind.value == "added")
    return out


def since_filter(items: Iterable[Anchored | Unanchored], inter: Any) -> list[Anchored | Unanchored]:
    """Only the findings on code that changed in the interdiff (RIGHT lines added since; LEFT and
    unplaced findings of files the interdiff touches)."""
    lines = changed_lines(inter)
    touched = {p for fd in inter for p in (fd.old_path, fd.new_path) if p}
    out = []
    for item in items:
        loc = item.finding.location
        if loc.side is Side.RIGHT and isinstance(item, Anchored):
            if lines.get(loc.path, set()) & set(range(loc.first, loc.line + 1)):
                out.append(item)
        elif loc.path in touched:
            out.append(item)
    return out


# ---------------------------------------------------------------------- untrusted findings (forks)

MAX_ARTIFACT_BYTES = 5 * 1024 * 1024
MAX_ARTIFACT_FINDINGS = 2000


def untrusted_findings(data: bytes) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    """Findings from a fork job's artifact (reviewbot's JSON report), treated as untrusted input.

    Only the fields a finding needs are read, each type- and size-checked; fingerprints, anchors,
    markers and bodies are NOT taken from it: the publisher recomputes all of them and re-anchors
    every finding on the diff it fetches itself. Returns the report's ``source`` and the findings.
    """
    from ..errors import InputError
    from ..model import Location

    if len(data) > MAX_ARTIFACT_BYTES:
        raise InputError(f"findings artifact larger than the {MAX_ARTIFACT_BYTES // (1024 * 1024)} MB limit")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"findings artifact is not JSON: {exc}"[:200]) from exc
    if not isinstance(doc, dict) or doc.get("version") != "1":
        raise InputError("findings artifact is not a reviewbot JSON report (version 1)")
    raw = list(doc.get("findings") or []) + [
        u.get("finding") for u in doc.get("unanchored") or [] if isinstance(u, dict)
    ]
    if len(raw) > MAX_ARTIFACT_FINDINGS:
        raise InputError(
            f"findings artifact holds {len(raw)} findings, over the {MAX_ARTIFACT_FINDINGS} limit"
        )
    out: list[Finding] = []
    for i, r in enumerate(raw):
        try:
            side = Side(r["side"])
            line = r["line"]
            start = r.get("start_line")
            ok = (
                isinstance(r["path"], str) and 0 < len(r["path"]) <= 4096 and "\0" not in r["path"]
                and isinstance(line, int) and not isinstance(line, bool) and 0 < line < 10_000_000
                and (start is None or (isinstance(start, int) and not isinstance(start, bool) and 0 < start <= line))
                and isinstance(r["message"], str) and isinstance(r["rule"], str) and len(r["rule"]) <= 200
                and (r.get("suggestion") is None or isinstance(r["suggestion"], str))
            )  # fmt: skip
            if not ok:
                raise ValueError("bad field")
            f = Finding(
                location=Location(r["path"], side, line, start),
                severity=Severity(r["severity"]),
                message=r["message"][:10_000],
                rule=r["rule"],
                route=str(r.get("route") or "review")[:40],
                category=str(r.get("category") or "bug")[:40],
                suggestion=r.get("suggestion"),
                source=str(r.get("source") or "model")[:40],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"findings artifact: finding {i} is malformed ({exc})") from exc
        out.append(f)
    source = doc.get("source") if isinstance(doc.get("source"), dict) else {}
    return source, tuple(out)


def reanchor(findings: Iterable[Finding], result: Result) -> Result:
    """``result`` with ``findings`` placed afresh on its change's diff (for untrusted findings)."""
    from ..diff import anchor_all

    anchored, unanchored = anchor_all(findings, DiffIndex(result.changeset.files))
    return replace(result, anchored=anchored, unanchored=unanchored)
