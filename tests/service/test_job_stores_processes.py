"""Three worker processes on one SQLite store: each job runs once, one at a time per change."""

import multiprocessing
import time

from reviewbot.service.sqlite_jobs import SqliteJobStore


def work(path, log):
    s = SqliteJobStore(path)
    idle = 0
    while idle < 20:
        job = s.claim()
        if job is None:
            idle += 1
            time.sleep(0.02)
            continue
        idle = 0
        with open(log, "a") as f:
            f.write(f"start {job.id} {job.number} {time.monotonic()}\n")
        time.sleep(0.01)
        with open(log, "a") as f:
            f.write(f"end {job.id} {job.number} {time.monotonic()}\n")
        s.done(job.id)


def test_exactly_once_and_per_change_serialization(tmp_path):
    path, log = str(tmp_path / "jobs.db"), str(tmp_path / "log")
    s = SqliteJobStore(path)
    for i in range(60):
        s.enqueue(f"d{i}", "github", "o/r", i % 4, f"h{i}", kind="ask")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=work, args=(path, log)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = [line.split() for line in open(log)]
    starts = [int(x[1]) for x in lines if x[0] == "start"]
    assert sorted(starts) == sorted(j.id for j in s.jobs())
    assert len(starts) == len(set(starts)) == 60
    running = {}
    for kind, _, number, _ in lines:  # the file is appended in time order
        running[number] = running.get(number, 0) + (1 if kind == "start" else -1)
        assert running[number] <= 1
