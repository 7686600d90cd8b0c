"""`reviewbot serve` and `reviewbot worker` as real processes against the GitHub stand-in, for the
service's process tests and bench/service_load.py.

with Cluster(tmp, store_url, standin) as c:
    c.serve(); c.workers(3)
    c.deliver(...)                 # a signed pull_request delivery
    c.wait_idle(); c.reviews()     # {(repo, number, head): check runs posted}
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from reviewbot.service import verify

SECRET = "cluster-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def diff_for(n: int, head: str) -> bytes:
    """A one-file diff that differs by head (its added line names the head)."""
    return (
        f"diff --git a/f{n}.py b/f{n}.py\n--- a/f{n}.py\n+++ b/f{n}.py\n@@ -1,2 +1,2 @@\n"
        f" x = 1\n-y = 2\n+y = '{head[:8]}'\n"
    ).encode()


def pull_event(repo: str, number: int, head: str, action: str = "opened") -> bytes:
    pr = {"number": number, "state": "open", "draft": False, "head": {"sha": head}}
    return json.dumps({"action": action, "repository": {"full_name": repo}, "pull_request": pr}).encode()


class Cluster:
    def __init__(self, tmp: Path, store: str, standin: Any, *, lease: float = 30.0) -> None:
        self.tmp, self.store, self.standin, self.lease = tmp, store, standin, lease
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "GITHUB_TOKEN": standin.token,
            "GITHUB_API_URL": standin.url,
            "REVIEWBOT_GITHUB_WEBHOOK_SECRET": SECRET,
            "REVIEWBOT_SERVICE_STORE": store,
            "REVIEWBOT_BACKEND": "none",
            "REVIEWBOT_CACHE_DIR": str(tmp / "cache"),
        }
        self.env.pop("GITHUB_EVENT_PATH", None)
        self.env.pop("GITHUB_STEP_SUMMARY", None)

    def _start(self, name: str, *args: str) -> None:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the process's life)
        cmd = [
            sys.executable,
            "-m",
            "reviewbot.platforms.cli",
            *args,
            "--no-progress",
            "--lease",
            str(self.lease),
        ]
        self.procs[name] = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log)

    def serve(self, *, workers: int = 0) -> None:
        self._start("serve", "serve", "--port", str(self.port), "--workers", str(workers))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).close()
                return
            except OSError:
                assert self.procs["serve"].poll() is None, (self.tmp / "serve.log").read_text()
                time.sleep(0.05)
        raise TimeoutError("reviewbot serve did not answer")

    def workers(self, n: int, *, first: int = 0) -> None:
        for i in range(first, first + n):
            self._start(f"worker{i}", "worker", "--poll", "0.05")

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)

    def deliver(self, body: bytes, delivery: str, *, event: str = "pull_request", timeout: float = 5) -> int:
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "Content-Type": "application/json",
            "X-Hub-Signature-256": verify.github_signature(SECRET.encode(), body),
        }
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/webhooks/github", data=body, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def jobs(self) -> list[dict[str, Any]]:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "reviewbot.platforms.cli",
                "jobs",
                "--format",
                "json",
                "--no-progress",
                "--state",
                "queued",
                "--state",
                "running",
                "--state",
                "done",
                "--state",
                "failed",
                "--state",
                "superseded",
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout)

    def wait_idle(self, store: Any, timeout: float = 120) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = store.count()
            if counts["queued"] == 0 and counts["running"] == 0:
                return counts
            time.sleep(0.1)
        raise TimeoutError(f"jobs still open: {store.count()}")

    def reviews(self) -> dict[tuple[str, int, str], int]:
        """Check runs posted per (repo, PR, head): each review run creates one."""
        heads = {(p.repo, h): p.number for p in self.standin.pulls.values() for h in p.heads}
        out: dict[tuple[str, int, str], int] = {}
        for run in self.standin.check_runs:
            key = (run["repo"], heads[(run["repo"], run["head_sha"])], run["head_sha"])
            out[key] = out.get(key, 0) + 1
        return out

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
