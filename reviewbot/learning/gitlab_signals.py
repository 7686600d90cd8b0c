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
    _writers: dict[str, bool] = field(default_factory=dict)
    _started: float = 0.0

    def writer(self, username: str) -> bool:
        if username not in self._writers:
            self.asked += bool(username)
            self._writers[username] = bool(username) and self.can_write(username)
        return self._writers[username]

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
