"""One `reviewbot serve` and three `reviewbot worker` processes on one redis-server, reviewing PRs of
the GitHub stand-in (personal token, `--backend none`): every head is reviewed exactly once (counted
in the check runs the stand-in received), replays are dropped, and no two jobs of one PR run at once
(the store's running set, sampled while they work)."""

from __future__ import annotations

import threading
import time

import redis
from support.github_standin import GitHubStandIn
from support.service_cluster import Cluster, diff_for, pull_event

from reviewbot.service.redis_jobs import RedisJobStore

REPO = "o/r"
PRS = range(1, 5)


def _sample_running(store: RedisJobStore, stop: threading.Event, overlaps: list[tuple[int, ...]]) -> int:
    samples = 0
    while not stop.is_set():
        numbers = [
            int(store.r.hget(f"{store.prefix}job:{i}", "number") or 0)
            for i in store.r.smembers(f"{store.prefix}state:running")
        ]
        if len(numbers) != len(set(numbers)):
            overlaps.append(tuple(numbers))
        samples += 1
        time.sleep(0.005)
    return samples


def test_one_server_three_workers_review_each_head_once(redis_url, tmp_path) -> None:
    url = redis_url.rsplit("/", 1)[0] + "/2"
    redis.Redis.from_url(url).flushdb()
    store = RedisJobStore(url)
    with GitHubStandIn() as gh, Cluster(tmp_path, url, gh) as cluster:
        for n in PRS:
            gh.add_pull(REPO, n, base="b" * 40, head=f"{n}1" * 20, diff=diff_for(n, f"{n}1" * 20))
        cluster.serve()
        cluster.workers(3)
        stop, overlaps = threading.Event(), []
        sampler = threading.Thread(target=_sample_running, args=(store, stop, overlaps))
        sampler.start()
        for n in PRS:
            body = pull_event(REPO, n, f"{n}1" * 20)
            assert [cluster.deliver(body, f"open-{n}") for _ in range(2)] == [202, 202]  # and a replay
        time.sleep(0.3)  # some first reviews are running when the new heads come
        for n in PRS:
            head = f"{n}2" * 20
            gh.push(REPO, n, head=head, diff=diff_for(n, head))
            body = pull_event(REPO, n, head, "synchronize")
            assert [cluster.deliver(body, f"sync-{n}") for _ in range(3)] == [202, 202, 202]
        counts = cluster.wait_idle(store, timeout=90)
        stop.set()
        sampler.join()
        reviews = cluster.reviews()
        jobs = cluster.jobs()
    assert overlaps == []
    assert counts["failed"] == 0 and len(jobs) == 2 * len(PRS)  # the replays stored nothing
    assert all(n == 1 for n in reviews.values()), reviews  # no head reviewed twice
    assert {(REPO, n, f"{n}2" * 20) for n in PRS} <= set(reviews)  # every current head reviewed
    done = {(j["number"], j["head"]) for j in jobs if j["state"] == "done"}
    assert {(n, h) for _, n, h in reviews} <= done
