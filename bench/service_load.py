"""The webhook service under load, with faults: `reviewbot serve` and three `reviewbot
worker` processes against the GitHub stand-in (personal token, `--backend none`), once with the
SQLite store and once with Redis (a `redis-server` this script starts).

An open-loop sender posts signed deliveries at a fixed rate (default 100/s for 60 s): one in five
a new head of one of 50 PRs (pushed to the stand-in first), the others a replay of a delivery, a
redelivery of a known head under a new id, a `labeled` event and a comment without a command
(both ignored). A third of the way in, the server is killed with SIGKILL and restarted; at two
thirds, a worker is killed with SIGKILL and another started. Then the queue is drained and the
check runs the stand-in received are counted per (PR, head).

Printed: acknowledgement latency p50/p99 of the accepted deliveries (the time from sending the request
to its answer; also p99 without the deliveries sent in the 5 s after each kill), refused deliveries
(while the server was down), jobs by state, heads reviewed more than once (must be 0), the PRs' last
heads without a review (must be 0).

    PYTHONPATH=.:tests .venv/bin/python bench/service_load.py \\
        [--seconds 60] [--rate 100] [--stores sqlite,redis]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.github_standin import GitHubStandIn  # noqa: E402
from support.redis_server import start_redis  # noqa: E402
from support.service_cluster import Cluster, diff_for, pull_event  # noqa: E402

from reviewbot.compose import job_store  # noqa: E402

REPO = "load/r"
PRS = 50


def _head(pr: int, k: int) -> str:
    return f"{pr:04d}{k:06d}".ljust(40, "0")


def run(store_kind: str, seconds: float, rate: float, faults: bool = True) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"service-load-{store_kind}-"))
    redis_proc = None
    url = f"sqlite:///{tmp}/jobs.sqlite3"
    if store_kind == "redis":
        redis_proc, url = start_redis(tmp)
    gh = GitHubStandIn(writes_per_minute=10**9)
    with gh, Cluster(tmp, url, gh, lease=10) as cluster:
        for n in range(1, PRS + 1):
            gh.add_pull(REPO, n, base="b" * 40, head=_head(n, 0), diff=diff_for(n, _head(n, 0)))
        cluster.serve()
        cluster.workers(3)
        heads = {n: 0 for n in range(1, PRS + 1)}
        latencies: list[tuple[float, float]] = []  # (sent at, seconds to the answer)
        kills: list[float] = []
        refused: list[int] = []
        accepted_heads: set[tuple[int, str]] = set()
        lock = threading.Lock()

        def send(body: bytes, delivery: str, event: str, head: tuple[int, str] | None) -> None:
            t = time.perf_counter()
            try:
                code = cluster.deliver(body, delivery, event=event, timeout=10)
            except OSError:
                code = 0
            took = time.perf_counter() - t
            with lock:
                if 200 <= code < 300:
                    latencies.append((t - t0, took))
                    if head:
                        accepted_heads.add(head)
                else:
                    refused.append(code)

        total = int(seconds * rate)
        kill_server, kill_worker = (total // 3, 2 * total // 3) if faults else (-1, -1)
        last: tuple[bytes, str, str, tuple[int, str] | None] = (
            pull_event(REPO, 1, _head(1, 0)),
            "d-0",
            "pull_request",
            (1, _head(1, 0)),
        )
        t0 = time.perf_counter()
        with ThreadPoolExecutor(64) as pool:
            for i in range(total):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if i == kill_server:
                    kills.append(time.perf_counter() - t0)
                    cluster.kill("serve")
                    pool.submit(cluster.serve)  # restarts while the load goes on
                if i == kill_worker:
                    kills.append(time.perf_counter() - t0)
                    cluster.kill("worker0")
                    cluster.workers(1, first=3)
                n = (i // 5) % PRS + 1
                kind = i % 5
                if kind == 0:  # a new head
                    heads[n] += 1
                    h = _head(n, heads[n])
                    gh.push(REPO, n, head=h, diff=diff_for(n, h))
                    job = (pull_event(REPO, n, h, "synchronize"), f"d-{i}", "pull_request", (n, h))
                    last = job
                elif kind == 1:  # a replay (GitHub's "redeliver")
                    job = last
                elif kind == 2:  # the same head under a new delivery id
                    job = (last[0], f"d-{i}", "pull_request", last[3])
                elif kind == 3:
                    job = (pull_event(REPO, n, _head(n, heads[n]), "labeled"), f"d-{i}", "pull_request", None)
                else:
                    comment = {
                        "action": "created",
                        "repository": {"full_name": REPO},
                        "issue": {"number": n, "pull_request": {}},
                        "comment": {"body": "looks good", "user": {"login": "u"}},
                    }
                    job = (json.dumps(comment).encode(), f"d-{i}", "issue_comment", None)
                pool.submit(send, *job)
        sent_for = time.perf_counter() - t0
        store = job_store(cluster_settings(url))
        t1 = time.perf_counter()
        counts = cluster.wait_idle(store, timeout=600)
        drained = time.perf_counter() - t1
        reviews = cluster.reviews()
    if redis_proc is not None:
        redis_proc.terminate()
        redis_proc.wait(10)
    last_heads = {(REPO, n, _head(n, k)) for n, k in heads.items()}
    twice = {k: v for k, v in reviews.items() if v > 1}
    accepted_last = {(REPO, n, h) for n, h in accepted_heads} & last_heads
    lat = sorted(took for _, took in latencies)
    steady = sorted(took for at, took in latencies if not any(k <= at < k + 5 for k in kills))
    return {
        "store": store_kind,
        "sent": total,
        "seconds": round(sent_for, 1),
        "accepted": len(lat),
        "refused": len(refused),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "p99_ms_steady": round(steady[int(len(steady) * 0.99) - 1] * 1000, 1),
        "jobs": counts,
        "drain_s": round(drained, 1),
        "heads_reviewed": len(reviews),
        "heads_reviewed_twice": len(twice),
        "accepted_last_heads_unreviewed": len(accepted_last - set(reviews)),
    }


def cluster_settings(url: str):
    from reviewbot import config

    return config.load({}, {"REVIEWBOT_SERVICE_STORE": url}, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--stores", default="sqlite,redis")
    ap.add_argument("--no-faults", action="store_true", help="no kill -9 of the server and of a worker")
    args = ap.parse_args()
    for kind in args.stores.split(","):
        r = run(kind, args.seconds, args.rate, not args.no_faults)
        print(json.dumps(r))
        print(
            f"{kind}: {r['accepted']}/{r['sent']} deliveries accepted in {r['seconds']} s "
            f"({r['refused']} refused while the server was down); acknowledgement p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms (p99 outside the 5 s after each kill: "
            f"{r['p99_ms_steady']} ms); jobs {r['jobs']}; drained in {r['drain_s']} s; "
            f"{r['heads_reviewed']} heads reviewed, {r['heads_reviewed_twice']} twice, "
            f"{r['accepted_last_heads_unreviewed']} accepted last heads unreviewed",
            flush=True,
        )


if __name__ == "__main__":
    main()
