"""GitLab behind ``ports.ServiceHost``: what the webhook service needs of one project.

host = GitLabServiceHost(GitLabHost(client, "group/project"))
host.can_write("alice")                      # Developer (30) or above, inherited membership included
host.reply(7, "6a9c...", "text")             # a note in MR discussion 6a9c..., else a new MR note
host.open_changes()                          # open MRs, their heads, whether the bot reviewed them
"""

from __future__ import annotations

from ...ports import OpenChange
from .host import GitLabHost
from .values import NoteInfo

__all__ = ["DEVELOPER", "GitLabServiceHost"]

DEVELOPER = 30  # GitLab's access levels: Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50


class GitLabServiceHost:
    name = "gitlab"

    def __init__(self, host: GitLabHost) -> None:
        self.host = host
        self.client = host.client
        self.project = host.project

    def can_write(self, user: str) -> bool:
        level = self.client.access_level(self.project, user)
        return level is not None and level >= DEVELOPER

    def reply(self, number: int, thread: str | None, text: str) -> None:
        bot = self.host.reviewer(number).bot()

        def mine() -> NoteInfo | None:  # a retried POST that had landed
            return next((n for n in self.client.notes(self.project, number)
                         if n.author == bot and n.body == text), None)  # fmt: skip

        if thread is not None:
            self.client.reply_in_thread(self.project, number, thread, text, recover=mine)
        else:
            self.client.create_note(self.project, number, text, recover=mine)

    def open_changes(self) -> list[OpenChange]:
        """Open MRs with their head; reviewed when the bot's summary note names that head."""
        out = []
        for iid, head in self.client.open_merge_requests(self.project):
            _, last, _ = self.host.reviewer(iid).previous()
            out.append(OpenChange(iid, head, last == head))
        return out
