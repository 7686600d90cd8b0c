"""GitLab behind ``ports.ServiceHost``: what the webhook service needs of one project.

host = GitLabServiceHost(GitLabHost(client, "group/project"))
host.can_write("alice")                      # Developer (30) or above, inherited membership included
host.reply(7, "6a9c...", "text")             # a note in MR discussion 6a9c..., else a new MR note
host.open_changes()                          # open MRs, their heads, whether the bot reviewed them
"""

from __future__ import annotations

from functools import partial

from ..service import ServiceHostBase, posted
from .client import GitLabClient
from .host import DEVELOPER, GitLabHost

__all__ = ["DEVELOPER", "GitLabServiceHost"]


class GitLabServiceHost(ServiceHostBase):
    name = "gitlab"
    host: GitLabHost
    client: GitLabClient

    def can_write(self, user: str) -> bool:
        """Asked of the host (its write roles), one API call."""
        return self.host.can_write(user)

    def reply(self, number: int, thread: str | None, text: str) -> None:
        """A note in MR discussion ``thread``, else a new note on the MR."""
        project, bot = self.host.project, self.host.reviewer(number).bot()
        mine = posted(partial(self.client.notes, project, number), lambda n: n.author, bot, text)
        if thread is not None:
            self.client.reply_in_thread(project, number, thread, text, recover=mine)
        else:
            self.client.create_note(project, number, text, recover=mine)

    def _heads(self) -> list[tuple[int, str]]:
        return self.client.open_merge_requests(self.host.project)
