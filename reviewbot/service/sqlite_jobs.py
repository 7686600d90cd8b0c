"""The job store on SQLite: a job is committed before the webhook is acknowledged.

Dedupe by delivery id and by (host, repo, change, head); a newer head supersedes a queued
older job of the same change; one running job per change (a lease); bounded retries with
backoff; failed jobs stay listed."""

from __future__ import annotations

import sqlite3
import time

from .jobs import STATES, Job

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL, repo TEXT NOT NULL, number INTEGER NOT NULL, head TEXT NOT NULL,
    kind TEXT NOT NULL, arg TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_review_head ON jobs(host, repo, number, head)
    WHERE kind = 'review' AND state != 'superseded';
"""


class SqliteJobStore:
    """Jobs in one SQLite file, shared by the server and any number of worker processes."""

    def __init__(self, path: str, *, max_attempts: int = 3, backoff: float = 5.0, lease: float = 900.0):
        self.max_attempts, self.backoff, self.lease = max_attempts, backoff, lease
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def enqueue(
        self, delivery: str, host: str, repo: str, number: int, head: str, kind: str = "review", arg: str = ""
    ) -> bool:
        """Store the job durably; False when it duplicates a delivery or an already known review head."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if kind == "review":
                db.execute(
                    "UPDATE jobs SET state='superseded' WHERE host=? AND repo=? AND number=?"
                    " AND kind='review' AND state='queued' AND head != ?",
                    (host, repo, number, head),
                )
            cur = db.execute(
                "INSERT OR IGNORE INTO jobs(delivery, host, repo, number, head, kind, arg)"
                " VALUES (?,?,?,?,?,?,?)",
                (delivery, host, repo, number, head, kind, arg),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return cur.rowcount == 1

    def claim(self, now: float | None = None) -> Job | None:
        """Take the oldest runnable job whose change has no job running (expired leases count as free)."""
        now = time.time() if now is None else now
        db = self.db
        if db.execute(_CLAIMABLE, (now, now, now)).fetchone() is None:  # a read: no write lock while idle
            return None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(_CLAIMABLE, (now, now, now)).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE jobs SET state='running', attempts=attempts+1, lease_until=? WHERE id=?",
                (now + self.lease, row[0]),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return self.get(row[0])

    def renew(self, job: Job, now: float | None = None) -> bool:
        """Extend the lease of a job this worker claimed; False when it is no longer this worker's
        (its lease ran out and another worker took it, or it was finished)."""
        now = time.time() if now is None else now
        cur = self.db.execute(
            "UPDATE jobs SET lease_until=?"
            " WHERE id=? AND state='running' AND attempts=? AND lease_until >= ?",
            (now + self.lease, job.id, job.attempts, now),
        )
        return cur.rowcount == 1

    def done(self, job_id: int) -> None:
        self.db.execute("UPDATE jobs SET state='done', lease_until=0 WHERE id=?", (job_id,))

    def fail(self, job_id: int, error: str, now: float | None = None) -> None:
        """Requeue with exponential backoff, or mark failed once the attempts are spent."""
        now = time.time() if now is None else now
        job = self.get(job_id)
        if job.attempts >= self.max_attempts:
            self.db.execute(
                "UPDATE jobs SET state='failed', lease_until=0, error=? WHERE id=?", (error, job_id)
            )
            return
        delay = self.backoff * 2 ** (job.attempts - 1)
        self.db.execute(
            "UPDATE jobs SET state='queued', lease_until=0, not_before=?, error=? WHERE id=?",
            (now + delay, error, job_id),
        )

    def get(self, job_id: int) -> Job:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return Job(*row)

    def jobs(self, *states: str) -> list[Job]:
        """Jobs in the given states (all when none), oldest first."""
        states = states or STATES
        marks = ",".join("?" * len(states))
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE state IN ({marks}) ORDER BY id", states)
        return [Job(*r) for r in rows]

    def count(self) -> dict[str, int]:
        """Jobs by state."""
        rows = self.db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {s: 0 for s in STATES} | {s: n for s, n in rows}

    def ping(self) -> bool:
        return self.db.execute("SELECT 1").fetchone() == (1,)

    def reviewed(self, host: str, repo: str, number: int, head: str) -> bool:
        """True when a review job for this head exists and is not superseded."""
        row = self.db.execute(
            "SELECT 1 FROM jobs WHERE host=? AND repo=? AND number=? AND head=? AND kind='review'"
            " AND state != 'superseded'",
            (host, repo, number, head),
        ).fetchone()
        return row is not None


_CLAIMABLE = (
    "SELECT id FROM jobs j WHERE (state='queued' AND not_before <= ? OR state='running' AND lease_until < ?)"
    " AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.id != j.id AND r.state='running'"
    " AND r.lease_until >= ? AND r.host=j.host AND r.repo=j.repo AND r.number=j.number)"
    " ORDER BY id LIMIT 1"
)
_COLUMNS = "id, delivery, host, repo, number, head, kind, arg, state, attempts, error"
