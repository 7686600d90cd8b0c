"""Post one Result on one GitHub pull request: one review, a summary comment, a check run, a job summary.

The rules (GitHub's REST documentation):

- One review per run, ``event: COMMENT`` (without ``event`` GitHub leaves it PENDING), ``commit_id``
  = the head SHA reviewed. The bot never approves and never requests changes.
- Inline comments use ``path``, ``line``, ``side`` and, for ranges, ``start_line``/``start_side``
  (never the deprecated ``position``); ``placement`` decides which findings go inline, ``review``
  and ``render`` write the bodies, ``checks`` the check run.
- On a re-run, findings whose fingerprint or content key was already posted by the bot are not
  posted again; markers in comments by anyone else, or without a valid signature (``markers``), are
  ignored (they could be forged to hide a finding).
- When the review's POST fails with a 5xx or a connection error, the retry first lists the reviews
  and takes the one with this run's NONCE if GitHub did create it: no duplicate review.
- The summary comment (``hosts/summary``) is edited in place on every run.
- The bot's unresolved threads that GitHub marked outdated, and whose finding is gone, are resolved.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...diff import DiffIndex
from ...errors import PublishError, ReviewbotError
from ...merge import keys_of
from ...model import Anchored, Result, Unanchored
from ..markers import Signer
from ..placement import MAX_INLINE, place
from ..summary import summary_body
from .checks import append_step_summary, post_check_run
from .client import GitHubClient
from .render import BODY_LIMIT, RUN_MARK, SUMMARY_MARKER
from .review import Bodies, comments, review_body
from .values import CheckRunInfo, IssueCommentInfo, ReviewInfo

__all__ = ["DEFAULT_BOT", "GitHubReviewer", "Posted"]

DEFAULT_BOT = "github-actions[bot]"


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


class GitHubReviewer:
    """Posts one Result on one pull request. No request is made until ``publish``."""

    def __init__(
        self,
        client: GitHubClient,
        repo: str,
        number: int,
        *,
        fail_on: str = "error",
        fail_on_model: bool = False,
        max_inline: int = MAX_INLINE,
        check_run: bool = True,
        step_summary: Path | None = None,
        bot_login: str | None = None,
        details_url: str | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.client = client
        self.signer = (signer or Signer()).for_scope(f"{repo}#{number}")
        self.repo = repo
        self.number = number
        self.fail_on = fail_on
        self.fail_on_model = fail_on_model
        self.max_inline = max_inline
        self.check_run = check_run
        self.step_summary = step_summary
        self.bot_login = bot_login
        self.details_url = details_url
        self.run = secrets.token_hex(8)

    # ------------------------------------------------------------------------------ state

    def bot(self) -> str:
        """The bot's login: the configured one, else the token's user, else github-actions[bot]."""
        if self.bot_login is None:
            self.bot_login = self.client.login() or DEFAULT_BOT
        return self.bot_login

    def previous(self) -> tuple[frozenset[str], str | None, IssueCommentInfo | None]:
        """Fingerprints and keys the bot posted before, the last reviewed head, the summary comment."""
        bot = self.bot()
        seen: set[str] = set()
        for c in self.client.review_comments(self.repo, self.number):
            if c.user == bot:
                for fp, key in self.signer.findings(c.body):
                    seen.update((fp, key))
        for r in self.client.reviews(self.repo, self.number):
            if r.user == bot:
                for fp, key in self.signer.findings(r.body):
                    seen.update((fp, key))
        summary = None
        for c in self.client.issue_comments(self.repo, self.number):
            if self._is_summary(c, bot):
                summary = c
        last = self.signer.head(summary.body) if summary is not None else None
        return frozenset(seen), last, summary

    def _is_summary(self, c: IssueCommentInfo, bot: str) -> bool:
        """The bot's summary comment: its marker first and a validly signed head."""
        return c.user == bot and c.body.startswith(SUMMARY_MARKER) and self.signer.head(c.body) is not None

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
        plan = place(items, index, Bodies(), posted=posted, max_inline=self.max_inline)
        plan = plan.signed(self.signer.sign, BODY_LIMIT - 1)  # before the review body is cut to its limit
        errors: list[str] = []
        review = None
        if not plan.empty:
            body = review_body(plan, self.run, head)
            try:
                review = self.client.create_review(
                    self.repo,
                    self.number,
                    commit_sha=head,
                    body=body,
                    comments=comments(plan),
                    recover=self._find_review,
                )
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
                run_info, n_ann = post_check_run(
                    self.client,
                    self.repo,
                    result,
                    head,
                    run=self.run,
                    fail_on=self.fail_on,
                    fail_on_model=self.fail_on_model,
                    details_url=self.details_url,
                )
            except ReviewbotError as exc:
                errors.append(f"the check run is incomplete: {exc}")
        posting = []
        if review is not None:
            posting.append(f"review posted: {len(plan.inline)} inline, {len(plan.listed)} in its body")
        elif plan.empty:
            posting.append("no new review: nothing new to say")
        gone = f"earlier comments resolved (their code changed and the finding is gone): {resolved}"
        text = summary_body(
            result,
            head=head,
            term="pull request",
            plan=plan,
            posting=posting,
            errors=errors,
            since=since,
            resolved=gone if resolved else None,
            notes=notes,
            limit=BODY_LIMIT,
        )
        text = self.signer.sign(text)[:BODY_LIMIT]  # the head marker is at the top
        summary_info = None
        try:
            summary_info = self._summary(text, summary)
        except ReviewbotError as exc:
            errors.append(f"the summary comment was not posted: {exc}")
        if self.step_summary is not None:
            append_step_summary(self.step_summary, text)
        out = Posted(
            review,
            len(plan.inline) if review else 0,
            len(plan.listed) if review else 0,
            plan.repeated,
            plan.invalid,
            summary_info,
            run_info,
            n_ann,
            tuple(errors),
            since,
            resolved,
        )
        if errors:
            raise PublishError("; ".join(errors))
        return out

    def _is_bot(self, login: str | None) -> bool:
        bot = self.bot()
        return login is not None and (login == bot or f"{login}[bot]" == bot)  # GraphQL drops "[bot]"

    def _resolve_fixed(self, current: frozenset[str]) -> int:
        """Resolve the bot's unresolved threads that GitHub marked outdated and whose finding is gone."""
        n = 0
        for t in self.client.review_threads(self.repo, self.number):
            if t.resolved or not t.outdated or not self._is_bot(t.author):
                continue
            marks = self.signer.findings(t.body)
            if marks and not any(fp in current or key in current for fp, key in marks):
                self.client.resolve_thread(t.id)
                n += 1
        return n

    def _find_review(self) -> ReviewInfo | None:
        for r in self.client.reviews(self.repo, self.number):
            m = RUN_MARK.search(r.body)
            if m and m.group(1) == self.run:
                return r
        return None

    def _summary(self, text: str, existing: IssueCommentInfo | None) -> IssueCommentInfo:
        if existing is not None:
            self.client.edit_issue_comment(self.repo, existing.id, text)
            return IssueCommentInfo(existing.id, text, existing.user)
        bot = self.bot()

        def recover() -> IssueCommentInfo | None:
            for c in self.client.issue_comments(self.repo, self.number):
                if self._is_summary(c, bot):
                    return c
            return None

        return self.client.create_issue_comment(self.repo, self.number, text, recover=recover)
