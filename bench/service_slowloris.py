"""The web process under stalled clients: `reviewbot serve` (a real process, no workers, the SQLite
store) while 200 connections hold it the slowloris way, re-opened as soon as the server drops them:

- stall:   the headers of a signed-looking GitHub delivery (Content-Length: `--length`), then nothing;
- trickle: the same headers, then one byte of body per second;
- fill:    the same headers, then all but the last byte of the body at full speed, then nothing
           (the bytes the server holds before it can check the signature).

The 200 are split evenly between the three kinds and run in a process of their own (threads, at nice
10), so neither the probes nor the server are slowed by the attackers' own work. Meanwhile `/healthz` is
asked every 50 ms on a fresh connection, a correctly signed delivery is sent every second (from a thread
of its own), and the resident memory of the web process is read from /proc/PID/status (VmRSS every 100
ms; VmHWM, the peak, at the end).

Printed: the peak and largest sampled resident memory, /healthz latency (p50, p99, max, and
probes that failed), the server's answers to the attacking connections by status, and how many of
the signed deliveries were accepted during the attack.

    PYTHONPATH=.:tests .venv/bin/python bench/service_slowloris.py [--seconds 30] [--connections 200]
        [--length 4194304]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.github_standin import GitHubStandIn  # noqa: E402
from support.service_cluster import Cluster, pull_event  # noqa: E402

KINDS = ("stall", "trickle", "fill")


def _status(sock: socket.socket) -> str:
    """The status code of the server's answer on ``sock`` ("closed" when it hung up, "" when none yet)."""
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return ""
    except OSError:
        return "closed"
    if not data:
        return "closed"
    return data.split(b" ", 2)[1].decode("ascii", "replace") if data.startswith(b"HTTP/") else "?"


class Attacker(threading.Thread):
    """One connection slot, re-opened whenever the server answers or drops it."""

    def __init__(
        self,
        port: int,
        kind: str,
        length: int,
        stop: threading.Event,
        answers: Counter[str],
        lock: threading.Lock,
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.kind, self.length, self.stop, self.answers, self.lock = (
            port,
            kind,
            length,
            stop,
            answers,
            lock,
        )
        self.opened = 0

    def _head(self) -> bytes:
        return (
            f"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\n"
            f"X-GitHub-Delivery: slow-{id(self)}-{self.opened}\r\nX-Hub-Signature-256: sha256={'0' * 64}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {self.length}\r\n\r\n"
        ).encode()

    def _one(self) -> str:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            self.opened += 1
            s.sendall(self._head())
            if self.kind == "fill":
                chunk, sent = b"x" * 65536, 0
                try:
                    while sent < self.length - 1 and not self.stop.is_set():
                        n = min(len(chunk), self.length - 1 - sent)
                        s.sendall(chunk[:n])
                        sent += n
                except OSError:
                    return _status(s) or "closed"
            s.setblocking(False)
            while not self.stop.is_set():
                answer = _status(s)
                if answer:
                    return answer
                if self.kind == "trickle":
                    try:
                        s.send(b"{")
                    except BlockingIOError:
                        pass
                    except OSError:
                        return "closed"
                self.stop.wait(1.0 if self.kind == "trickle" else 0.1)
            return ""

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                answer = self._one()
            except OSError as exc:
                answer = type(exc).__name__
            if answer:
                with self.lock:
                    self.answers[f"{self.kind} {answer}"] += 1


def _rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _healthz(port: int) -> float | None:
    t = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if not s.recv(4096).startswith(b"HTTP/1.1 200"):
                return None
    except OSError:
        return None
    return time.perf_counter() - t


def _attack(
    port: int,
    connections: int,
    length: int,
    seconds: float,
    out: multiprocessing.Queue,
    kinds: tuple[str, ...],
) -> None:
    os.nice(10)  # a real attacker's CPU is elsewhere: this one's must not starve the server it measures
    stop, lock, answers = threading.Event(), threading.Lock(), Counter[str]()
    attackers = [
        Attacker(port, kinds[i % len(kinds)], length, stop, answers, lock) for i in range(connections)
    ]
    for a in attackers:
        a.start()
    stop.wait(seconds)
    stop.set()
    for a in attackers:
        a.join(10)
    out.put((sum(a.opened for a in attackers), dict(answers)))


def run(seconds: float, connections: int, length: int, kinds: tuple[str, ...] = KINDS) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="service-slowloris-"))
    with GitHubStandIn() as gh, Cluster(tmp, f"sqlite:///{tmp}/jobs.sqlite3", gh) as cluster:
        cluster.serve(workers=0)
        pid = cluster.procs["serve"].pid
        idle_rss, _ = _rss(pid)
        results: multiprocessing.Queue = multiprocessing.Queue()
        attack = multiprocessing.Process(
            target=_attack, args=(cluster.port, connections, length, seconds, results, kinds)
        )
        attack.start()
        rss: list[int] = []
        health: list[float] = []
        failed_probes = 0
        slow: list[tuple[float, int]] = []  # (seconds into the run, ms) of the probes over 100 ms
        delivered: Counter[int] = Counter()
        t0 = time.monotonic()

        def deliver() -> None:  # one signed delivery a second, on a thread of its own
            for n in range(1, int(seconds)):
                time.sleep(max(0.0, t0 + n - time.monotonic()))
                try:
                    code = cluster.deliver(pull_event("slow/r", n, f"{n:040x}"), f"real-{n}", timeout=10)
                except OSError:
                    code = 0  # no answer within 10 s (GitHub gives up after 10 s)
                delivered[code] += 1

        sender = threading.Thread(target=deliver, daemon=True)
        sender.start()
        while time.monotonic() - t0 < seconds:
            rss.append(_rss(pid)[0])
            at = time.monotonic() - t0
            took = _healthz(cluster.port)
            if took is None:
                failed_probes += 1
            else:
                health.append(took)
                if took > 0.1:
                    slow.append((round(at, 1), round(took * 1000)))
            time.sleep(0.05)
        sender.join(15)
        opened, answers = results.get(timeout=60)
        attack.join(10)
        _, peak = _rss(pid)
        alive = cluster.procs["serve"].poll() is None
    health.sort()
    return {
        "seconds": seconds,
        "connections": connections,
        "kinds": kinds,
        "content_length": length,
        "connections_opened": opened,
        "server_alive": alive,
        "rss_idle_mb": round(idle_rss / 1024, 1),
        "rss_max_sampled_mb": round(max(rss) / 1024, 1),
        "rss_peak_vmhwm_mb": round(peak / 1024, 1),
        "rss_samples": len(rss),
        "healthz_probes": len(health) + failed_probes,
        "healthz_failed": failed_probes,
        "healthz_p50_ms": round(statistics.median(health) * 1000, 1) if health else None,
        "healthz_p99_ms": round(health[max(0, int(len(health) * 0.99) - 1)] * 1000, 1) if health else None,
        "healthz_max_ms": round(health[-1] * 1000, 1) if health else None,
        "healthz_over_100ms": slow,
        "attack_answers": dict(sorted(answers.items())),
        "signed_deliveries": {str(k): v for k, v in sorted(delivered.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--kinds", default=",".join(KINDS), help="the kinds of stalled client, in turn")
    ap.add_argument(
        "--length", type=int, default=4 * 1024 * 1024, help="the Content-Length the attackers announce"
    )
    args = ap.parse_args()
    r = run(args.seconds, args.connections, args.length, tuple(args.kinds.split(",")))
    print(json.dumps(r))
    print(
        f"{r['connections']} stalled connections ({', '.join(r['kinds'])}; Content-Length "
        f"{r['content_length']}) "
        f"for {r['seconds']:g} s, {r['connections_opened']} opened in all: resident memory of the web "
        "process "
        f"{r['rss_idle_mb']} MB idle, at most {r['rss_max_sampled_mb']} MB sampled every 100 ms, peak "
        "(VmHWM) "
        f"{r['rss_peak_vmhwm_mb']} MB; /healthz p50 {r['healthz_p50_ms']} ms, p99 {r['healthz_p99_ms']} ms, "
        f"max {r['healthz_max_ms']} ms over {r['healthz_probes']} probes ({r['healthz_failed']} failed; "
        f"{len(r['healthz_over_100ms'])} over 100 ms); "
        f"answers to the attackers {r['attack_answers']}; signed deliveries by status "
        f"{r['signed_deliveries']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
