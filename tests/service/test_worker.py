"""The worker's heartbeat: a job that runs longer than its lease is not taken by a second worker."""

import threading
import time
import uuid

import pytest

from reviewbot.service.redis_jobs import RedisJobStore
from reviewbot.service.sqlite_jobs import SqliteJobStore
from reviewbot.service.worker import Worker


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request, tmp_path):
    if request.param == "sqlite":
        return lambda: SqliteJobStore(str(tmp_path / "jobs.db"), lease=0.6)
    url, prefix = request.getfixturevalue("redis_url"), f"t{uuid.uuid4().hex}:"
    return lambda: RedisJobStore(url, prefix=prefix, lease=0.6)


def test_a_review_longer_than_the_lease_runs_once(open_store):
    open_store().enqueue("d1", "github", "o/r", 1, "aaa")
    runs: list[str] = []
    slow_started = threading.Event()

    def slow(job):
        runs.append("slow")
        slow_started.set()
        time.sleep(2.0)  # over three leases: only the heartbeat keeps the job
        return "reviewed"

    def other(job):
        runs.append("other")
        return "reviewed"

    first, second = Worker(open_store(), slow), Worker(open_store(), other)
    t = threading.Thread(target=first.run_once)
    t.start()
    assert slow_started.wait(5)
    deadline = time.monotonic() + 1.8
    while time.monotonic() < deadline:
        assert not second.run_once()  # never claimable while the heartbeat runs
        time.sleep(0.1)
    t.join()
    assert runs == ["slow"]
    store = open_store()
    assert [(j.state, j.attempts) for j in store.jobs()] == [("done", 1)]


def test_a_worker_that_lost_its_lease_leaves_the_outcome_to_the_next(open_store, monkeypatch):
    store = open_store()
    store.enqueue("d1", "github", "o/r", 1, "aaa")
    stalled = Worker(open_store(), lambda job: "reviewed")
    monkeypatch.setattr(
        stalled.store, "renew", lambda job, now=None: False
    )  # as if it stalled past the lease
    taken = threading.Event()

    def handle(job):
        time.sleep(0.9)  # the lease (0.6 s) runs out; a second worker takes the job meanwhile
        assert Worker(open_store(), lambda job: "again").run_once()
        taken.set()
        raise RuntimeError("late failure")

    stalled.handle = handle
    assert stalled.run_once()
    assert taken.is_set()
    [job] = store.jobs()
    assert (job.state, job.attempts, job.error) == ("done", 2, "")  # not failed by the stalled worker
