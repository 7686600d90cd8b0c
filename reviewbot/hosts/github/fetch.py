"""A pull request on GitHub as a ChangeSet: the diff from the API, or from git when GitHub refuses it.

    GitHubPullSource(client, "owner/repo", 42, checkout=Path(".")).load() -> ChangeSet

- ``base``/``head`` are the PR's base and head SHAs as the API gives them now (the event's head is
  only a hint: when the PR moved on since the event, the newer head is reviewed and the description
  says so).
- The diff is ``GET /repos/{o}/{r}/pulls/{n}`` with ``Accept: application/vnd.github.diff``.
  GitHub answers 406 above 20,000 lines or 300 files; then the diff is ``git diff BASE...HEAD`` in
  ``checkout`` (the same three-dot diff GitHub shows), which needs both commits there
  (``actions/checkout`` with ``fetch-depth: 0``). Without a checkout that is a ``SourceError``.
- With a checkout that holds the head commit, files at head are read from git (``read_head``), so
  linters run; without one only the model sees the change.

``interdiff`` gives the files changed between the last reviewed head and the new one, for
incremental re-reviews (``compare`` API first, git second, None when neither can say).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

from ...diff.parse import parse_diff_bytes
from ...errors import SourceError
from ...model import ChangeSet, FileDiff
from ..checkout import at_head, changeset, whole_diff
from ..checkout import interdiff as from_git
from .client import DiffTooLarge, GitHubClient
from .values import PullInfo

__all__ = ["GitHubPullSource", "interdiff"]

CHECKOUT_HINT = "review it from a checkout: pass --checkout DIR holding both commits (actions/checkout with fetch-depth: 0)"


@dataclass
class GitHubPullSource:
    client: GitHubClient
    repo: str
    number: int
    _: KW_ONLY
    checkout: Path | None = None
    event_head: str | None = None
    pull: PullInfo | None = field(default=None, init=False)  # filled by load()
    diff_from: str | None = field(default=None, init=False)  # "api" or "git", after load()

    def load(self) -> ChangeSet:
        pr = self.client.pull(self.repo, self.number)
        self.pull = pr
        name = f"GitHub {self.repo}#{self.number} {pr.base_sha[:7]}..{pr.head_sha[:7]}"
        notes: list[str] = []
        if self.event_head and self.event_head != pr.head_sha:
            notes.append(f"the PR moved on from {self.event_head[:7]} since the event")
        try:
            files = parse_diff_bytes(self.client.pull_diff(self.repo, self.number), name=name)
            self.diff_from = "api"
            git = at_head(self.checkout, pr.head_sha)
        except DiffTooLarge as exc:
            git = whole_diff(self.checkout, f"{pr.base_sha}...{pr.head_sha}", f"{exc}; {CHECKOUT_HINT}")
            files, self.diff_from = git.files, "git"
            notes.append("diff from git: GitHub refuses diffs over 20,000 lines or 300 files")
        return changeset(files, name, notes, pr.base_sha, pr.head_sha, git)


def interdiff(
    client: GitHubClient, repo: str, since: str, head: str, checkout: Path | None = None
) -> tuple[FileDiff, ...] | None:
    """Files changed from ``since`` to ``head``; None when neither GitHub nor git can tell (force-push)."""
    if since == head:
        return ()
    try:
        data = client.compare_diff(repo, since, head)
        return parse_diff_bytes(data, name=f"compare {since[:7]}...{head[:7]}") if data.strip() else ()
    except SourceError:
        return from_git(checkout, since, head)
