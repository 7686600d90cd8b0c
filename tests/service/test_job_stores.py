import time
import uuid

import pytest
from support.service_host import FakeHost

from reviewbot.ports import OpenChange
from reviewbot.service.reconcile import reconcile
from reviewbot.service.redis_jobs import RedisJobStore
from reviewbot.service.sqlite_jobs import SqliteJobStore


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return lambda tmp_path, **kw: SqliteJobStore(str(tmp_path / "jobs.db"), **kw)
    url, prefix = request.getfixturevalue("redis_url"), f"t{uuid.uuid4().hex}:"
    return lambda tmp_path, **kw: RedisJobStore(url, prefix=prefix, **kw)


def test_dedupe_by_delivery_and_head(store, tmp_path):
    s = store(tmp_path)
    assert s.enqueue("d1", "github", "o/r", 1, "aaa")
    assert not s.enqueue("d1", "github", "o/r", 1, "aaa")  # replayed delivery
    assert not s.enqueue("d2", "github", "o/r", 1, "aaa")  # same head, new delivery
    assert len(s.jobs("queued")) == 1


def test_newer_head_supersedes_queued(store, tmp_path):
    s = store(tmp_path)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    s.enqueue("d2", "github", "o/r", 1, "bbb")
    assert [j.head for j in s.jobs("queued")] == ["bbb"]
    assert [j.head for j in s.jobs("superseded")] == ["aaa"]


def test_one_running_job_per_change(store, tmp_path):
    s = store(tmp_path)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    s.enqueue("d2", "github", "o/r", 1, "x", kind="ask", arg="why")
    s.enqueue("d3", "github", "o/r", 2, "ccc")
    first = s.claim(now=100)
    second = s.claim(now=100)
    assert (first.number, second.number) == (1, 2)
    assert s.claim(now=100) is None  # change 1 is busy
    s.done(first.id)
    assert s.claim(now=100).kind == "ask"


def test_expired_lease_is_taken_again(tmp_path):  # sqlite only: Redis expires the lock on its own clock
    s = SqliteJobStore(str(tmp_path / "jobs.db"), lease=10)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    job = s.claim(now=100)
    assert s.claim(now=105) is None
    again = s.claim(now=111)  # the worker died
    assert again.id == job.id and again.attempts == 2


def test_renewed_lease_keeps_the_job(tmp_path):  # sqlite: the clock is the caller's
    s = SqliteJobStore(str(tmp_path / "jobs.db"), lease=10)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    job = s.claim(now=100)
    assert s.renew(job, now=108)  # lease now runs to 118
    assert s.claim(now=115) is None
    again = s.claim(now=119)  # no renewal since: the worker died
    assert again.id == job.id and again.attempts == 2
    assert not s.renew(job, now=120)  # the first worker's claim (attempt 1) is gone
    assert s.renew(again, now=120)


def test_renew_refuses_a_lost_or_finished_job(store, tmp_path):
    s = store(tmp_path, lease=0.3)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    job = s.claim()
    assert s.renew(job)
    time.sleep(0.5)  # the lease runs out (on Redis, the lock expires on the server's clock)
    assert not s.renew(job)
    again = s.claim()
    assert again.id == job.id and again.attempts == 2
    assert s.renew(again)
    s.done(again.id)
    assert not s.renew(again)


def test_retries_with_backoff_then_failed(store, tmp_path):
    s = store(tmp_path, max_attempts=2, backoff=5)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    job = s.claim(now=100)
    s.fail(job.id, "boom", now=100)
    assert s.claim(now=104) is None
    job = s.claim(now=105)
    s.fail(job.id, "boom again", now=105)
    failed = s.jobs("failed")
    assert [(j.id, j.error) for j in failed] == [(job.id, "boom again")]


def test_survives_reopen(store, tmp_path):
    store(tmp_path).enqueue("d1", "github", "o/r", 1, "aaa")
    assert len(store(tmp_path).jobs("queued")) == 1


def test_reconciler_queues_missed_heads(store, tmp_path):
    s = store(tmp_path)
    s.enqueue("d1", "github", "o/r", 1, "aaa")
    host = FakeHost([OpenChange(1, "aaa", False), OpenChange(2, "bbb", False), OpenChange(3, "ccc", True)])
    assert reconcile(s, host, "o/r") == 1
    assert reconcile(s, host, "o/r") == 0
    assert sorted(j.number for j in s.jobs("queued")) == [1, 2]
