"""A fake ServiceHost for the webhook service tests."""


class FakeHost:
    """A ServiceHost of a fixed list of open changes; records replies."""

    name = "github"

    def __init__(self, changes=(), writers=("alice",)):
        self.changes, self.writers, self.replies = list(changes), set(writers), []

    def can_write(self, user):
        return user in self.writers

    def reply(self, number, thread, text):
        self.replies.append((number, thread, text))

    def open_changes(self):
        return self.changes
