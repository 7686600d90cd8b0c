"""GitHub behind ``ports.Host``: pull requests of one repository.

host = GitHubHost(client, "owner/repo", checkout=Path("."))
change = host.fetch(42)
prior = host.prior(change)
host.post(change, Review(result), prior)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...diff import DiffIndex
from ...merge import keys_of
from ...model import FileDiff
from ...ports import Change, Prior, Review
from ..markers import Signer
from ..placement import MAX_INLINE, place, to_post
from .client import GitHubClient
from .fetch import GitHubPullSource, interdiff
from .post import GitHubReviewer, Posted
from .review import Bodies, review_payload
from .values import IssueCommentInfo

__all__ = ["GitHubHost", "Options"]


@dataclass(frozen=True, slots=True)
class Options:
    """How reviews are posted (``Settings``' github fields)."""

    fail_on: str = "error"
    fail_on_model: bool = False  # a model's guess may fail the check run too
    max_inline: int = MAX_INLINE
    check_run: bool = True
    step_summary: Path | None = None
    bot_login: str | None = None
    details_url: str | None = None


class GitHubHost:
    name = "github"
    term = "pull request"

    def __init__(
        self,
        client: GitHubClient,
        repo: str,
        options: Options = Options(),
        *,
        checkout: Path | None = None,
        signer: Signer | None = None,
    ) -> None:
        self.client = client
        self.signer = signer or Signer()
        self.repo = repo
        self.options = options
        self.checkout = checkout
        self._reviewers: dict[int, GitHubReviewer] = {}

    def reviewer(self, number: int) -> GitHubReviewer:
        """The poster of one pull request (one per number: it holds the run's nonce and the bot's login)."""
        if number not in self._reviewers:
            o = self.options
            self._reviewers[number] = GitHubReviewer(
                self.client, self.repo, number, fail_on=o.fail_on, fail_on_model=o.fail_on_model, max_inline=o.max_inline,
                check_run=o.check_run, step_summary=o.step_summary, bot_login=o.bot_login,
                details_url=o.details_url, signer=self.signer,
            )  # fmt: skip
        return self._reviewers[number]

    def fetch(self, number: int, *, event_head: str | None = None) -> Change:
        """The pull request at its current head (``event_head``: the head the event named, a hint)."""
        src = GitHubPullSource(self.client, self.repo, number, checkout=self.checkout, event_head=event_head)
        return Change(number, src.load())

    def file_at(self, path: str, ref: str) -> str | None:
        return self.client.file_text(self.repo, path, ref)

    def prior(self, change: Change) -> Prior:
        keys, head, summary = self.reviewer(change.number).previous()
        return Prior(keys, head, str(summary.id) if summary is not None else None)

    def interdiff(self, change: Change, since: str) -> Sequence[FileDiff] | None:
        """GitHub's compare API, else git in the checkout."""
        head = change.changeset.head
        assert head is not None
        return interdiff(self.client, self.repo, since, head, self.checkout)

    def dry_run(self, change: Change, review: Review, prior: Prior) -> dict[str, Any]:
        """The review ``post`` would create (its body and inline comments), unsigned."""
        index = DiffIndex(change.changeset.files)
        plan = place(to_post(review), index, Bodies(), posted=prior.keys, max_inline=self.options.max_inline)
        return review_payload(plan, change.changeset.head or "")

    def post(self, change: Change, review: Review, prior: Prior) -> Posted:
        reviewer = self.reviewer(change.number)
        result = review.result
        cs = change.changeset
        assert cs.head is not None
        index = DiffIndex(cs.files)
        current = keys_of([*result.anchored, *result.unanchored], index)  # all this run found, posted or not
        summary = None
        if prior.summary_id is not None:  # the bot's own comment: its author is the bot
            summary = IssueCommentInfo(int(prior.summary_id), "", reviewer.bot())
        return reviewer.publish(
            result, index, head=cs.head, posted=prior.keys, summary=summary, since=review.since,
            findings=to_post(review), current=current,
        )  # fmt: skip
