"""GitHub behind ``ports.Host``: pull requests of one repository.

host = GitHubHost(client, "owner/repo", checkout=Path("."))
change = host.fetch(42)
prior = host.prior(change)
host.post(change, Review(result), prior)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ...diff import DiffIndex
from ...learning.signals import Signal
from ...model import FileDiff
from ...ports import Change, Prior, Review
from ..incremental import head_of, prior_of, to_post
from ..markers import Signer
from ..placement import MAX_INLINE, place
from .client import GitHubClient
from .fetch import GitHubPullSource, interdiff
from .post import GitHubReviewer, Posted
from .review import Bodies, review_payload
from .values import IssueCommentInfo

__all__ = ["WRITE_ROLES", "GitHubHost", "Options"]

WRITE_ROLES = frozenset({"admin", "maintain", "write"})


@dataclass(frozen=True, slots=True)
class Options:
    """How reviews are posted (``Settings``' github fields): ``GitHubReviewer``'s keywords."""

    fail_on: str = "error"
    fail_on_model: bool = False  # a model's guess may fail the check run too
    max_inline: int = MAX_INLINE
    check_run: bool = True
    step_summary: Path | None = None
    bot_login: str | None = None
    details_url: str | None = None


@dataclass(eq=False)
class GitHubHost:
    name: ClassVar[str] = "github"
    term: ClassVar[str] = "pull request"
    client: GitHubClient
    repo: str
    options: Options = Options()
    _: KW_ONLY
    checkout: Path | None = None
    signer: Signer = field(default_factory=Signer)
    _reviewers: dict[int, GitHubReviewer] = field(default_factory=dict, init=False, repr=False)

    def reviewer(self, number: int) -> GitHubReviewer:
        """The poster of one pull request (one per number: it holds the run's nonce and the bot's login)."""
        if number not in self._reviewers:
            options = asdict(self.options)  # its fields are the reviewer's keywords
            reviewer = GitHubReviewer(self.client, self.repo, number, signer=self.signer, **options)
            self._reviewers[number] = reviewer
        return self._reviewers[number]

    def fetch(self, number: int, *, event_head: str | None = None) -> Change:
        """The pull request at its current head (``event_head``: the head the event named, a hint)."""
        src = GitHubPullSource(self.client, self.repo, number, checkout=self.checkout, event_head=event_head)
        return Change(number, src.load())

    def file_at(self, path: str, ref: str) -> str | None:
        return self.client.file_text(self.repo, path, ref)

    def can_write(self, user: str) -> bool:
        """admin, maintain and write can; triage, read, none and non-collaborators (404) cannot."""
        return self.client.permission(self.repo, user) in WRITE_ROLES

    def signals(
        self, change: Change | None, limit: int, seconds: float
    ) -> tuple[list[Signal], tuple[str, ...]]:
        """The team's verdicts on the bot's signed comments of the ``limit`` most recently updated
        pull requests (one GraphQL call per ten), read for at most ``seconds``."""
        from ...learning.github_signals import GitHubSignals

        reviewer = self.reviewer(change.number if change is not None else 0)  # 0: no change (learn)
        reviewer.bot()  # the login its comments are by, asked once

        def is_ours(body: str, number: int, author: str) -> bool:
            return reviewer._is_bot(author) and bool(
                self.signer.for_scope(f"{self.repo}#{number}").findings(body)
            )

        def post(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            return self.client.graphql(query, variables, f"signals of {self.repo}", budget_s=seconds)

        reader = GitHubSignals(post, self.can_write, is_ours, max_prs=limit, seconds=seconds)
        owner, name = self.repo.split("/", 1)
        found = reader.read(owner, name)
        cost = f"signals: {reader.calls} GraphQL call(s), {reader.asked} write-access lookups"
        return found, (*reader.notes, cost)

    def prior(self, change: Change) -> Prior:
        return prior_of(self.reviewer(change.number).previous())

    def interdiff(self, change: Change, since: str) -> Sequence[FileDiff] | None:
        """GitHub's compare API, else git in the checkout."""
        return interdiff(self.client, self.repo, since, head_of(change), self.checkout)

    def dry_run(self, change: Change, review: Review, prior: Prior) -> dict[str, Any]:
        """The review ``post`` would create (its body and inline comments), unsigned."""
        index = DiffIndex(change.changeset.files)
        items, _ = to_post(review, index)
        plan = place(items, index, Bodies(), posted=prior.keys, max_inline=self.options.max_inline)
        return review_payload(plan, change.changeset.head or "")

    def post(self, change: Change, review: Review, prior: Prior) -> Posted:
        reviewer = self.reviewer(change.number)
        cs = change.changeset
        assert cs.head is not None
        index = DiffIndex(cs.files)
        items, current = to_post(review, index)
        summary = None
        if prior.summary_id is not None:  # the bot's own comment: its author is the bot
            summary = IssueCommentInfo(int(prior.summary_id), "", reviewer.bot())
        return reviewer.publish(
            review.result,
            index,
            head=cs.head,
            posted=prior.keys,
            summary=summary,
            since=review.since,
            findings=items,
            current=current,
        )
