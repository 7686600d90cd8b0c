"""GitHub behind ``ports.ServiceHost``: what the webhook service needs of one repository.

host = GitHubServiceHost(GitHubHost(client, "owner/repo"))
host.can_write("octocat")                    # GET .../collaborators/octocat/permission
host.reply(42, "1234", "text")               # a reply in review comment 1234's thread
host.open_changes()                          # open PRs, their heads, whether the bot reviewed them

``Installations`` keeps one client per App installation (each renews its own token).
"""

from __future__ import annotations

from functools import partial

from ..service import ServiceHostBase, posted
from .client import GitHubClient
from .host import WRITE_ROLES, GitHubHost
from .values import AppInstallation

__all__ = ["WRITE_ROLES", "GitHubServiceHost", "Installations"]


class GitHubServiceHost(ServiceHostBase):
    name = "github"
    host: GitHubHost
    client: GitHubClient

    def can_write(self, user: str) -> bool:
        """Asked of the host (its write roles), one API call."""
        return self.host.can_write(user)

    def reply(self, number: int, thread: str | None, text: str) -> None:
        """In review comment ``thread``'s thread (its top-level comment id), else a PR comment."""
        repo, bot = self.host.repo, self.host.reviewer(number).bot()
        if thread is not None:
            mine = posted(partial(self.client.review_comments, repo, number), lambda c: c.user, bot, text)
            self.client.reply_review_comment(repo, number, int(thread), text, recover=mine)
            return
        mine = posted(partial(self.client.issue_comments, repo, number), lambda c: c.user, bot, text)
        self.client.create_issue_comment(repo, number, text, recover=mine)

    def _heads(self) -> list[tuple[int, str]]:
        return self.client.open_pulls(self.host.repo)


class Installations:
    """One client per App installation, made on first use and kept: PyGithub's app auth caches the
    installation token and asks for a new one shortly before it expires."""

    def __init__(self, app_id: int, private_key: str, **client_options: object) -> None:
        self.app_id = app_id
        self._key = private_key
        self._options = client_options
        self._clients: dict[int, GitHubClient] = {}

    def __repr__(self) -> str:
        return f"Installations(app_id={self.app_id}, {len(self._clients)} clients)"

    def client(self, installation_id: int) -> GitHubClient:
        if installation_id not in self._clients:
            app = AppInstallation(self.app_id, installation_id, self._key)
            self._clients[installation_id] = GitHubClient(app, **self._options)  # type: ignore[arg-type]
        return self._clients[installation_id]
