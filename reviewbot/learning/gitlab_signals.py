"""The team's signals on GitLab: the recent merge requests (one call per 100), each one's
discussions (one call per 100 threads), and the award emoji of each of the bot's own thread notes
(one call per note: GitLab's REST API has no other way to them).

- 👍/👎 (``thumbsup``/``thumbsdown``) on the bot's note: ``up``/``down`` by the awarder;
- the thread resolved by a person: ``dismissed`` by the resolver, when the merge request has no
  newer version than the note's position (the commented code was not changed);
- the thread resolved by the bot (it resolves only threads whose finding is gone) after a newer
  version was pushed: ``fixed`` by the merge request's author;
- a reply that starts with a command (``/wrong``, ``/useful``): that signal by the replier.

Bounded by ``max_mrs``, ``max_award_calls`` and ``seconds``; the limits reached are named in the
notes. ``get(path, params)`` is the transport: one GET of the REST API (``/projects/...``), the
decoded JSON and whether there is a next page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .marker import message_of, read_about
from .reading import Pages, Post, Writers
from .signals import Kind, Signal, Subject, Thread, stamp, thread_signals

AWARDS: dict[str, Kind] = {"thumbsup": "up", "thumbsdown": "down"}
Get = Callable[[str, dict[str, Any]], tuple[Any, bool]]


def _user(node: dict | None) -> str:
    return str((node or {}).get("username") or "")


@dataclass
class GitLabSignals:
    get: Get
    can_write: Callable[[str], bool]  # Developer or above on the project
    is_ours: Callable[[str, int, str], bool]  # (note body, merge request iid, author): the bot's own, signed
    code_at: Callable[[dict[str, Any]], str] = lambda _position: (
        ""
    )  # the commented line, where it can be read
    max_mrs: int = 50
    max_award_calls: int = 200
    seconds: float = 10.0
    calls: int = 0  # calls that read threads
    asked: int = 0  # people whose write access was asked (one lookup each, kept for the reader's life)
    award_calls: int = 0
    notes: list[str] = field(default_factory=list)
    _started: float = 0.0

    def __post_init__(self) -> None:
        self.writer = Writers(self.can_write)

    def _get(self, path: str, params: dict[str, Any]) -> tuple[Any, bool]:
        self.calls += 1
        return self.get(path, params)

    def _late(self) -> bool:
        return time.monotonic() - self._started > self.seconds

    def read(self, project: str) -> list[Signal]:
        self._started = time.monotonic()
        base = f"/projects/{quote(project, safe='')}"
        mrs: list[dict[str, Any]] = []
        page, more = 1, False
        while len(mrs) < self.max_mrs:
            params = {
                "state": "all",
                "order_by": "updated_at",
                "sort": "desc",
                "per_page": min(100, self.max_mrs),
                "page": page,
            }
            rows, more = self._get(f"{base}/merge_requests", params)
            mrs += rows
            if not more:
                break
            page += 1
        if more or len(mrs) > self.max_mrs:
            mrs = mrs[: self.max_mrs]
            self.notes.append(
                f"signals: read the {self.max_mrs} most recently updated merge requests (the limit)"
            )
        signals: list[Signal] = []
        for mr in mrs:
            if self._late():
                self.notes.append(f"signals: stopped at the {self.seconds:g} s limit")
                break
            signals += self.of_merge_request(base, mr)
        self.asked = self.writer.asked
        return signals

    def of_merge_request(self, base: str, mr: dict[str, Any]) -> list[Signal]:
        iid, author, head = int(mr["iid"]), _user(mr.get("author")), str(mr.get("sha") or "")
        discussions: list[dict[str, Any]] = []
        page = 1
        while True:
            rows, more = self._get(
                f"{base}/merge_requests/{iid}/discussions", {"per_page": 100, "page": page}
            )
            discussions += rows
            if not more:
                break
            page += 1
        out: list[Signal] = []
        for d in discussions:
            out += self.of_thread(base, iid, author, head, stamp(mr.get("updated_at")), d)
        return out

    def of_thread(
        self, base: str, iid: int, author: str, head: str, updated: datetime, d: dict
    ) -> list[Signal]:
        notes = d.get("notes") or []
        first = notes[0] if notes else None
        about = read_about(first["body"]) if first else None
        bot = _user(first.get("author")) if first else ""
        if first is None or about is None or not self.is_ours(first["body"], iid, bot):
            return []
        position = first.get("position") or {}
        rule, fact_kind, confidence = about
        path = str(position.get("new_path") or position.get("old_path") or "")
        subject = Subject(
            rule, fact_kind, path, message_of(first["body"]), self.code_at(position), confidence
        )
        verdicts: tuple = ()
        if self.award_calls >= self.max_award_calls:
            if not any(n.startswith("signals: award emoji") for n in self.notes):
                self.notes.append(
                    f"signals: award emoji read for the first {self.max_award_calls} notes only"
                )
        else:
            self.award_calls += 1
            awards, _ = self._get(
                f"{base}/merge_requests/{iid}/notes/{first['id']}/award_emoji", {"per_page": 100}
            )
            verdicts = tuple(
                (AWARDS[a["name"]], _user(a.get("user")), stamp(a.get("created_at")))
                for a in awards
                if a.get("name") in AWARDS
            )
        replies = tuple(
            (n.get("body") or "", _user(n.get("author")), stamp(n.get("created_at"))) for n in notes[1:]
        )
        resolver = _user(first.get("resolved_by")) if first.get("resolved") else ""
        changed = bool(position.get("head_sha")) and position.get("head_sha") != head
        return thread_signals(
            Thread(iid, subject, bot, author, updated, verdicts, replies, resolver, changed), self.writer
        )


GRAPHQL = """query($path: ID!, $first: Int!, $after: String) {
  project(fullPath: $path) {
    mergeRequests(first: $first, after: $after, sort: UPDATED_DESC) {
      pageInfo { hasNextPage endCursor }
      nodes {
        iid updatedAt diffHeadSha author { username }
        discussions(first: 50) {
          nodes {
            resolved resolvedBy { username }
            notes(first: 20) {
              nodes {
                body createdAt author { username }
                position { newPath oldPath newLine diffRefs { headSha } }
                awardEmoji(first: 20) { nodes { name user { username } } }
              }
            }
          }
        }
      }
    }
  }
}"""
PER_PAGE = 10


@dataclass
class GitLabGraphQLSignals:
    """The same signals from GitLab's GraphQL API (``Note.awardEmoji``: GitLab 15.11 and later):
    one query per ``PER_PAGE`` merge requests, award emoji included. ``post(query, variables)``
    sends one request to ``/api/graphql`` and returns the decoded answer."""

    post: Post
    can_write: Callable[[str], bool]
    is_ours: Callable[[str, int, str], bool]
    code_at: Callable[[dict[str, Any]], str] = lambda _position: ""
    max_mrs: int = 50
    seconds: float = 10.0
    calls: int = 0
    asked: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.writer = Writers(self.can_write)

    def read(self, project: str) -> list[Signal]:
        def connection(data):
            return (data.get("project") or {}).get("mergeRequests") or None

        pages = Pages(
            self.post, GRAPHQL, connection, PER_PAGE, self.max_mrs, self.seconds, "merge requests", "GitLab"
        )
        signals = [s for mr in pages.nodes({"path": project}) for s in self.of_merge_request(mr)]
        self.calls, self.asked = self.calls + pages.calls, self.writer.asked
        self.notes += pages.notes
        return signals

    def of_merge_request(self, mr: dict[str, Any]) -> list[Signal]:
        iid, author, head = int(mr["iid"]), _user(mr.get("author")), str(mr.get("diffHeadSha") or "")
        updated = stamp(mr.get("updatedAt"))
        out: list[Signal] = []
        for d in mr["discussions"]["nodes"]:
            notes = d["notes"]["nodes"]
            first = notes[0] if notes else None
            about = read_about(first["body"]) if first else None
            bot = _user(first.get("author")) if first else ""
            if first is None or about is None or not self.is_ours(first["body"], iid, bot):
                continue
            position = first.get("position") or {}
            rest = {
                "new_path": position.get("newPath"),
                "old_path": position.get("oldPath"),
                "new_line": position.get("newLine"),
                "head_sha": (position.get("diffRefs") or {}).get("headSha"),
            }
            subject = Subject(
                about[0],
                about[1],
                str(rest["new_path"] or rest["old_path"] or ""),
                message_of(first["body"]),
                self.code_at(rest),
                about[2],
            )
            verdicts = tuple(
                (AWARDS[a["name"]], _user(a.get("user")), updated)
                for a in first["awardEmoji"]["nodes"]
                if a.get("name") in AWARDS
            )
            replies = tuple(
                (n.get("body") or "", _user(n.get("author")), stamp(n.get("createdAt"))) for n in notes[1:]
            )
            resolver = _user(d.get("resolvedBy")) if d.get("resolved") else ""
            changed = bool(rest["head_sha"]) and rest["head_sha"] != head
            t = Thread(iid, subject, bot, author, updated, verdicts, replies, resolver, changed)
            out += thread_signals(t, self.writer)
        return out
