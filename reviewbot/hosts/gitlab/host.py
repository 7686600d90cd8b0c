"""GitLab behind ``ports.Host``: merge requests of one project.

host = GitLabHost(client, "group/project", checkout=Path("."))
change = host.fetch(7)
host.post(change, Review(result), host.prior(change))

``Change.diff_version`` and ``Change.diff_start`` hold the version's id and start SHA (with the
change's base and head, the three SHAs every position names); ``post`` refuses to post when the MR
moved on (a newer version exists) and says so in ``Posted.stale``; a failed step raises
``PublishError`` after the others were done (the summary note says what failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ...diff import DiffIndex
from ...errors import PublishError
from ...model import FileDiff
from ...ports import Change, Prior, Review
from ..checkout import interdiff
from ..incremental import head_of, prior_of, to_post
from ..markers import Signer
from ..placement import MAX_INLINE, place
from .client import GitLabClient
from .fetch import GitLabMergeSource
from .post import Bodies, GitLabReviewer, Posted
from .values import NoteInfo, VersionInfo

__all__ = ["GitLabHost"]


@dataclass(eq=False)
class GitLabHost:
    name: ClassVar[str] = "gitlab"
    term: ClassVar[str] = "merge request"
    client: GitLabClient
    project: str
    _: KW_ONLY
    checkout: Path | None = None
    bot_login: str | None = None
    max_threads: int = MAX_INLINE
    signer: Signer = field(default_factory=Signer)
    _reviewers: dict[int, GitLabReviewer] = field(default_factory=dict, init=False, repr=False)

    def reviewer(self, iid: int) -> GitLabReviewer:
        if iid not in self._reviewers:
            self._reviewers[iid] = GitLabReviewer(
                self.client,
                self.project,
                iid,
                bot_login=self.bot_login,
                max_threads=self.max_threads,
                signer=self.signer,
            )
        return self._reviewers[iid]

    def fetch(self, number: int) -> Change:
        src = GitLabMergeSource(self.client, self.project, number, checkout=self.checkout)
        cs = src.load()
        assert src.version is not None
        return Change(number, cs, str(src.version.id), src.version.start_sha)

    def version(self, change: Change) -> VersionInfo:
        """The MR's version ``change`` was fetched at: the SHAs its positions name."""
        cs = change.changeset
        assert change.diff_version is not None and change.diff_start is not None
        assert cs.base is not None and cs.head is not None
        return VersionInfo(int(change.diff_version), cs.base, change.diff_start, cs.head)

    def file_at(self, path: str, ref: str) -> str | None:
        return self.client.file_at(self.project, path, ref)

    def prior(self, change: Change) -> Prior:
        return prior_of(self.reviewer(change.number).previous())

    def interdiff(self, change: Change, since: str) -> Sequence[FileDiff] | None:
        """From git in the checkout (a CI job's clone); None without one, or when ``since`` is gone."""
        return interdiff(self.checkout, since, head_of(change))

    def dry_run(self, change: Change, review: Review, prior: Prior) -> list[dict[str, Any]]:
        """The threads ``post`` would open (their position and body), unsigned."""
        index = DiffIndex(change.changeset.files)
        bodies = Bodies(self.version(change))
        items, _ = to_post(review, index)
        plan = place(items, index, bodies, posted=prior.keys, max_inline=self.max_threads)
        return [{"position": pos, "body": body} for body, pos in plan.inline]

    def post(self, change: Change, review: Review, prior: Prior) -> Posted:
        index = DiffIndex(change.changeset.files)
        items, current = to_post(review, index)
        summary = None
        if prior.summary_id is not None:
            summary = NoteInfo(int(prior.summary_id), "", None, False)
        done = self.reviewer(change.number).publish(
            review.result,
            index,
            self.version(change),
            posted=prior.keys,
            summary=summary,
            findings=items,
            current=current,
            since=review.since,
        )
        if done.errors:
            raise PublishError("; ".join(done.errors))
        return done
