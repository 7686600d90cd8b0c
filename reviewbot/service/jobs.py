"""The durable job store: a `Job` and what the app and the workers need of a store (`JobStore`).
`compose.job_store` opens the store the settings name.

Both stores (`sqlite_jobs.SqliteJobStore`, `redis_jobs.RedisJobStore`) keep the same rules: a job is
committed before the webhook is acknowledged; dedupe by delivery id and by (host, repo, change, head);
a newer head supersedes a queued older job of the same change; one running job per change (a lease);
bounded retries with backoff; failed jobs stay listed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["STATES", "Job", "JobStore"]

STATES = ("queued", "running", "done", "failed", "superseded")


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    delivery: str
    host: str
    repo: str
    number: int
    head: str
    kind: str  # "review" | "ask" | "test"
    arg: str
    state: str
    attempts: int
    error: str


class JobStore(Protocol):
    """What the app and the workers use of a job store."""

    lease: float  # seconds a claimed job stays its worker's without a renewal

    def enqueue(
        self, delivery: str, host: str, repo: str, number: int, head: str, kind: str = ..., arg: str = ...
    ) -> bool: ...
    def claim(self, now: float | None = None) -> Job | None: ...
    def renew(self, job: Job, now: float | None = None) -> bool: ...
    def done(self, job_id: int) -> None: ...
    def fail(self, job_id: int, error: str, now: float | None = None) -> None: ...
    def jobs(self, *states: str) -> list[Job]: ...
    def count(self) -> dict[str, int]: ...
    def ping(self) -> bool: ...
    def reviewed(self, host: str, repo: str, number: int, head: str) -> bool: ...
