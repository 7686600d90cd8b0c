"""GitHub behind ``ports.Host``: pull requests of one repository.

host = GitHubHost(client, "owner/repo", checkout=Path("."))
change = host.fetch(42)
prior = host.prior(change)
host.post(change, Review(result), prior)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...diff import DiffIndex
from ...merge import fingerprint, keys_of
from ...ports import Change, Prior, Review
from ..markers import Signer
from .client import GitHubClient
from .fetch import GitHubPullSource
from .plan import MAX_INLINE
from .post import GitHubReviewer, Posted
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

    def prior(self, change: Change) -> Prior:
        keys, head, summary = self.reviewer(change.number).previous()
        return Prior(keys, head, str(summary.id) if summary is not None else None)

    def post(self, change: Change, review: Review, prior: Prior) -> Posted:
        reviewer = self.reviewer(change.number)
        result = review.result
        cs = change.changeset
        assert cs.head is not None
        index = DiffIndex(cs.files)
        items = [*result.anchored, *result.unanchored]
        current = keys_of(items, index)  # everything this run found, posted before or not
        if review.only is not None:
            items = [i for i in items if fingerprint(i.finding) in review.only]
        summary = None
        if prior.summary_id is not None:  # the bot's own comment: its author is the bot
            summary = IssueCommentInfo(int(prior.summary_id), "", reviewer.bot())
        return reviewer.publish(
            result, index, head=cs.head, posted=prior.keys, summary=summary, since=review.since,
            findings=items, current=current,
        )  # fmt: skip
