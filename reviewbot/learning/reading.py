"""What every host's signal reader shares: who may write (asked once per person), and the pages of
a GraphQL connection of pull (merge) requests, bounded in count and time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Post = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass
class Writers:
    """Whether a person may write to the repository: one lookup per person, kept for the read."""

    can_write: Callable[[str], bool]
    asked: int = 0
    _known: dict[str, bool] = field(default_factory=dict)

    def __call__(self, name: str) -> bool:
        if name not in self._known:
            self.asked += bool(name)
            self._known[name] = bool(name) and self.can_write(name)
        return self._known[name]


@dataclass
class Pages:
    """The nodes of a GraphQL connection, a page per call, newest first: at most ``limit`` nodes
    and no new call after ``seconds``; each limit reached, and an error answer, is a note."""

    post: Post
    query: str
    connection: Callable[[dict[str, Any]], dict[str, Any] | None]  # the answer's data -> the connection
    per_page: int
    limit: int
    seconds: float
    noun: str  # "pull requests", "merge requests"
    host: str
    calls: int = 0
    notes: list[str] = field(default_factory=list)

    def nodes(self, variables: dict[str, Any]) -> Iterator[dict[str, Any]]:
        start = time.monotonic()
        after, seen = None, 0
        while seen < self.limit:
            if time.monotonic() - start > self.seconds:
                self.notes.append(
                    f"signals: stopped at the {self.seconds:g} s limit after {seen} {self.noun}"
                )
                return
            first = min(self.per_page, self.limit - seen)
            answer = self.post(self.query, {**variables, "first": first, "after": after})
            self.calls += 1
            page = None if answer.get("errors") else self.connection(answer.get("data") or {})
            if page is None:
                why = (answer.get("errors") or [{}])[0].get("message", "no such repository")
                self.notes.append(
                    f"signals: {self.host} answered an error ({why}); learning from what was read"
                )
                return
            yield from page["nodes"]
            seen += len(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]
        self.notes.append(f"signals: read the {self.limit} most recently updated {self.noun} (the limit)")
