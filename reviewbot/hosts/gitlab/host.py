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
from ...learning.signals import Signal
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

__all__ = ["DEVELOPER", "GitLabHost"]

DEVELOPER = 30  # GitLab's access levels: Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50


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

    def can_write(self, user: str) -> bool:
        """Developer or above, an inherited membership included."""
        level = self.client.access_level(self.project, user)
        return level is not None and level >= DEVELOPER

    def signals(
        self, change: Change | None, limit: int, seconds: float
    ) -> tuple[list[Signal], tuple[str, ...]]:
        """The team's verdicts on the bot's signed threads of the ``limit`` most recently updated
        merge requests, read for at most ``seconds``: one GraphQL query per 10 merge requests (their
        discussions with award emoji, GitLab 15.11 and later); where GraphQL answers an error before
        anything was read (an older server), the REST API (one call per thread for its emoji)."""
        from ...learning.gitlab_signals import GitLabGraphQLSignals, GitLabSignals

        bot = self.reviewer(change.number if change is not None else 0).bot()  # 0: no change (learn)
        lines: dict[tuple[str, str], list[str]] = {}

        def is_ours(body: str, iid: int, author: str) -> bool:
            return author == bot and bool(self.signer.for_scope(f"{self.project}!{iid}").findings(body))

        def code_at(position: dict[str, Any]) -> str:
            """The commented line as the thread's version holds it (each file version read once)."""
            path, sha, line = position.get("new_path"), position.get("head_sha"), position.get("new_line")
            if not (path and sha and isinstance(line, int)):
                return ""
            if (path, sha) not in lines:
                lines[(path, sha)] = (self.client.file_at(self.project, path, sha) or "").splitlines()
            text = lines[(path, sha)]
            return text[line - 1].strip() if 0 < line <= len(text) else ""

        what = f"read the signals of {self.project}"
        judged = (self.can_write, is_ours, code_at)  # who may teach, whose comments, the code then
        bounds = {"max_mrs": limit, "seconds": seconds}
        graphql = GitLabGraphQLSignals(
            lambda query, variables: self.client.graphql(query, variables, what, budget_s=seconds),
            *judged,
            **bounds,
        )
        found = graphql.read(self.project)
        files = f"{len(lines)} file reads, {graphql.asked} access-level lookups"
        failed = [n for n in graphql.notes if "answered an error" in n]
        if found or not failed or graphql.calls > 1:
            return found, (*graphql.notes, f"signals: {graphql.calls} GraphQL call(s), {files}")
        rest = GitLabSignals(
            lambda path, params: self.client.page(path, params, what, budget_s=seconds), *judged, **bounds
        )
        found = rest.read(self.project)
        files = f"{len(lines)} file reads, {rest.asked} access-level lookups"
        cost = f"signals: {rest.calls} REST calls for threads and award emoji, {files}"
        return found, (*failed, "signals: read over the REST API instead", *rest.notes, cost)

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
