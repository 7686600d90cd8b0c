"""The job store the settings name: ``service.store`` is ``sqlite`` (a file in the cache),
``sqlite:///PATH`` (that file) or a ``redis://`` URL (workers on several machines)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..config import Settings
from ..errors import UsageError
from .store import Job, Store

__all__ = ["JobStore", "open_store"]


class JobStore(Protocol):
    """What the app and the workers use of `store.Store` and `redis_store.RedisStore`."""

    lease: float  # seconds a claimed job stays its worker's without a renewal

    def enqueue(self, delivery: str, host: str, repo: str, number: int, head: str, kind: str = ...,
                arg: str = ...) -> bool: ...  # fmt: skip
    def claim(self, now: float | None = None) -> Job | None: ...
    def renew(self, job: Job, now: float | None = None) -> bool: ...
    def done(self, job_id: int) -> None: ...
    def fail(self, job_id: int, error: str, now: float | None = None) -> None: ...
    def jobs(self, *states: str) -> list[Job]: ...
    def count(self) -> dict[str, int]: ...
    def ping(self) -> bool: ...
    def reviewed(self, host: str, repo: str, number: int, head: str) -> bool: ...


def open_store(settings: Settings, *, lease: float = 900.0) -> JobStore:
    """A new connection to the configured store (one per thread: SQLite connections are not shared)."""
    where = settings.service.store
    opts = {
        "max_attempts": settings.service.max_attempts,
        "backoff": settings.service.backoff,
        "lease": lease,
    }
    if where.startswith(("redis://", "rediss://", "unix://")):
        from .redis_store import RedisStore

        return RedisStore(where, **opts)  # type: ignore[arg-type]
    if where == "sqlite":
        path = Path(settings.cache) / "service" / "jobs.sqlite3"
    elif where.startswith("sqlite:///"):
        path = Path(where[len("sqlite://") :])
    else:
        raise UsageError(f"service.store: sqlite, sqlite:///PATH or redis://HOST:PORT/DB, got {where!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return Store(str(path), **opts)  # type: ignore[arg-type]
