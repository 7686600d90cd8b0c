"""The signals read for a repository, kept for ``ttl`` seconds: reviews of several pull requests in
a row (the service, a push to many branches) read the host once. Kept in the process only: a cache
that a pull request's workflow could write (the Actions cache) must not decide what the review
holds back, so the Action and the GitLab job read afresh at the start of each review.

The service's worker process keeps one ``SignalCache`` for all its workers (``CachedSignals``: a
repository's host whose ``signals`` go through it); a repository's first read is made once, and a
worker that asks while it is under way waits for it rather than reading again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .signals import Signal

TTL = 900.0
Read = Callable[[], tuple[Sequence[Signal], tuple[str, ...]]]  # the signals and the notes on reading them


@dataclass
class SignalCache:
    ttl: float = TTL
    clock: Callable[[], float] = time.monotonic
    _kept: dict[str, tuple[float, tuple[Signal, ...], tuple[str, ...]]] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def signals(self, repository: str, read: Callable[[], list[Signal]]) -> tuple[list[Signal], bool]:
        """The repository's signals and whether they came from the cache; ``read`` on a miss."""
        found, _, age = self.read(repository, lambda: (read(), ()))
        return found, age is not None

    def read(self, repository: str, read: Read) -> tuple[list[Signal], tuple[str, ...], float | None]:
        """The repository's signals, the notes on reading them, and how many seconds ago they were
        read (None: just now, by ``read``)."""
        with self._guard:
            lock = self._locks.setdefault(repository, threading.Lock())
        with lock:  # one read per repository at a time: the others wait and take what it read
            now = self.clock()
            hit = self._kept.get(repository)
            if hit is not None and now - hit[0] < self.ttl:
                return list(hit[1]), hit[2], now - hit[0]
            found, notes = read()
            self._kept[repository] = (now, tuple(found), tuple(notes))
            return list(found), tuple(notes), None


class CachedSignals:
    """A repository's ``ports.Host`` whose ``signals`` come from ``cache`` (under ``key``, the host
    and the repository); every other call goes to the host itself."""

    def __init__(self, host: Any, cache: SignalCache, key: str) -> None:
        self._host, self._cache, self._key = host, cache, key

    def signals(self, change: Any, limit: int, seconds: float) -> tuple[list[Signal], tuple[str, ...]]:
        found, notes, age = self._cache.read(
            f"{self._key} {limit} {seconds:g}", lambda: self._host.signals(change, limit, seconds)
        )
        if age is None:
            return found, notes
        kept = f"signals: as read {age:.0f} s ago (kept {self._cache.ttl / 60:g} minutes in this process)"
        return found, (*notes, kept)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._host, name)
