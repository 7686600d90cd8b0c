"""The team's signals on GitHub: one paginated GraphQL query reads the recent pull requests' review
threads with their comments, reactions and resolution; the bot's own threads (its signed marker)
become signals.

- 👍/👎 on the bot's comment (``THUMBS_UP``/``THUMBS_DOWN`` reactions): ``up``/``down`` by the reactor;
- the thread resolved by a person while GitHub does not mark it outdated (the commented code did not
  change): ``dismissed`` by the resolver;
- the thread resolved by the bot because it is outdated and its finding gone (``post.py`` resolves
  exactly those): ``fixed`` by the pull request's author;
- a reply that starts with a command (``/wrong``, ``/useful``): that signal by the replier.

Bounded: at most ``max_prs`` pull requests, ``PER_PAGE`` per call, and no new call after
``seconds``; the limits reached are named in the notes. Who may write to the repository is asked
once per person (``can_write``) and kept for the reader's life. ``post(query, variables)`` is the
transport: it sends one GraphQL request and returns the decoded answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .marker import message_of, read_about
from .reading import Pages, Post, Writers
from .signals import Kind, Signal, Subject, Thread, stamp, thread_signals

PER_PAGE = (
    10  # pull requests per call: 10 x 50 threads x 20 comments x 20 reactions stays under GitHub's node limit
)
QUERY = """query($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number updatedAt author { login }
        reviewThreads(first: 50) {
          nodes {
            isResolved isOutdated path resolvedBy { login }
            comments(first: 20) {
              nodes {
                body createdAt diffHunk author { login }
                reactions(first: 20) { nodes { content createdAt user { login } } }
              }
            }
          }
        }
      }
    }
  }
}"""
REACTIONS: dict[str, Kind] = {"THUMBS_UP": "up", "THUMBS_DOWN": "down"}


def _login(node: dict | None) -> str:
    return str((node or {}).get("login") or "")


def commented_code(diff_hunk: str) -> str:
    """The commented line: the last line of the comment's diff hunk, without its +/-/space."""
    lines = [ln for ln in diff_hunk.splitlines() if not ln.startswith("@@")]
    return lines[-1][1:].strip() if lines else ""


@dataclass
class GitHubSignals:
    post: Post
    can_write: Callable[[str], bool]  # whether a login may write to the repository
    is_ours: Callable[[str, int, str], bool]  # (comment body, pull request, author): the bot's own, signed
    max_prs: int = 50
    seconds: float = 10.0
    calls: int = 0  # calls that read threads
    asked: int = 0  # people whose write access was asked (one lookup each, kept for the reader's life)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.writer = Writers(self.can_write)

    def read(self, owner: str, name: str) -> list[Signal]:
        def connection(data):
            return ((data.get("repository") or {}).get("pullRequests")) or None

        pages = Pages(
            self.post, QUERY, connection, PER_PAGE, self.max_prs, self.seconds, "pull requests", "GitHub"
        )
        signals = [s for pr in pages.nodes({"owner": owner, "name": name}) for s in self.of_pull_request(pr)]
        self.calls, self.asked = self.calls + pages.calls, self.writer.asked
        self.notes += pages.notes
        return signals

    def of_pull_request(self, pr: dict[str, Any]) -> list[Signal]:
        number, updated, author = int(pr["number"]), stamp(pr.get("updatedAt")), _login(pr.get("author"))
        return [s for t in pr["reviewThreads"]["nodes"] for s in self.of_thread(t, number, author, updated)]

    def of_thread(self, thread: dict[str, Any], number: int, author: str, updated: datetime) -> list[Signal]:
        """The signals on one review thread, when the bot opened it."""
        comments = thread["comments"]["nodes"]
        first = comments[0] if comments else None
        about = read_about(first["body"]) if first else None
        bot = _login(first.get("author")) if first else ""
        if first is None or about is None or not self.is_ours(first["body"], number, bot):
            return []
        rule, fact_kind, confidence = about
        code = commented_code(first.get("diffHunk") or "")
        subject = Subject(
            rule, fact_kind, str(thread.get("path") or ""), message_of(first["body"]), code, confidence
        )
        verdicts = tuple(
            (REACTIONS[r["content"]], _login(r.get("user")), stamp(r.get("createdAt")))
            for r in first["reactions"]["nodes"]
            if r["content"] in REACTIONS
        )
        replies = tuple(
            (c.get("body") or "", _login(c.get("author")), stamp(c.get("createdAt"))) for c in comments[1:]
        )
        resolver = _login(thread.get("resolvedBy")) if thread.get("isResolved") else ""
        t = Thread(
            number, subject, bot, author, updated, verdicts, replies, resolver, bool(thread.get("isOutdated"))
        )
        return thread_signals(t, self.writer)
