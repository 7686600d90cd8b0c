"""GitLab behind ``ports.Host``: merge requests of one project.

host = GitLabHost(client, "group/project", checkout=Path("."))
change = host.fetch(7)
host.post(change, Review(result), host.prior(change))

``Change.diff_version`` holds the version's id; ``post`` refuses to post when the MR moved on
(a newer version exists) and says so in ``Posted.stale``; a failed step raises ``PublishError``
after the others were done (the summary note says what failed).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import ClassVar

from ...diff import DiffIndex
from ...errors import PublishError
from ...ports import Change, Prior, Review
from ..incremental import to_post
from ..markers import Signer
from .client import GitLabClient
from .fetch import GitLabMergeSource
from .post import MAX_THREADS, GitLabReviewer, Posted
from .values import NoteInfo, VersionInfo

__all__ = ["GitLabHost"]


@dataclass(eq=False)
class GitLabHost:
    name: ClassVar[str] = "gitlab"
    client: GitLabClient
    project: str
    _: KW_ONLY
    checkout: Path | None = None
    bot_login: str | None = None
    max_threads: int = MAX_THREADS
    signer: Signer = field(default_factory=Signer)
    _versions: dict[int, VersionInfo] = field(default_factory=dict, init=False, repr=False)
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
        self._versions[number] = src.version
        return Change(number, cs, str(src.version.id))

    def version(self, change: Change) -> VersionInfo:
        return self._versions[change.number]

    def prior(self, change: Change) -> Prior:
        keys, head, summary = self.reviewer(change.number).previous()
        return Prior(keys, head, str(summary.id) if summary is not None else None)

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
