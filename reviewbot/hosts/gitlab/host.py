"""GitLab behind ``ports.Host``: merge requests of one project.

host = GitLabHost(client, "group/project", checkout=Path("."))
change = host.fetch(7)
host.post(change, Review(result), host.prior(change))

``Change.diff_version`` holds the version's id; ``post`` refuses to post when the MR moved on
(a newer version exists) and says so in ``Posted.stale``; a failed step raises ``PublishError``
after the others were done (the summary note says what failed).
"""

from __future__ import annotations

from pathlib import Path

from ...diff import DiffIndex
from ...errors import PublishError
from ...merge import fingerprint, keys_of
from ...ports import Change, Prior, Review
from ..markers import Signer
from .client import GitLabClient
from .fetch import GitLabMergeSource
from .post import MAX_THREADS, GitLabReviewer, Posted
from .values import NoteInfo, VersionInfo

__all__ = ["GitLabHost"]


class GitLabHost:
    name = "gitlab"

    def __init__(self, client: GitLabClient, project: str, *, checkout: Path | None = None,
                 bot_login: str | None = None, max_threads: int = MAX_THREADS,
                 signer: Signer | None = None) -> None:  # fmt: skip
        self.client = client
        self.signer = signer or Signer()
        self.project = project
        self.checkout = checkout
        self.bot_login = bot_login
        self.max_threads = max_threads
        self._versions: dict[int, VersionInfo] = {}
        self._reviewers: dict[int, GitLabReviewer] = {}

    def reviewer(self, iid: int) -> GitLabReviewer:
        if iid not in self._reviewers:
            self._reviewers[iid] = GitLabReviewer(self.client, self.project, iid, bot_login=self.bot_login,
                                                  max_threads=self.max_threads, signer=self.signer)  # fmt: skip
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
        result = review.result
        items = [*result.anchored, *result.unanchored]
        current = keys_of(items, index)
        if review.only is not None:
            items = [i for i in items if fingerprint(i.finding) in review.only]
        summary = NoteInfo(int(prior.summary_id), "", None, False) if prior.summary_id is not None else None
        done = self.reviewer(change.number).publish(
            result, index, self.version(change), posted=prior.keys, summary=summary, findings=items,
            current=current, since=review.since,
        )  # fmt: skip
        if done.errors:
            raise PublishError("; ".join(done.errors))
        return done
