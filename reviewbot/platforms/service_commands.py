"""The webhook service's commands (docs/service.md):

    reviewbot serve [--host H] [--port P] [--workers N]   the web process (and N workers in it)
    reviewbot worker [--concurrency N] [--once]           workers on any machine sharing the store
    reviewbot jobs [--state S] [--format json]            queued, running and failed jobs

The web libraries (starlette, uvicorn, prometheus-client) and redis are imported only here, inside
the commands: ``reviewbot --help`` and ``reviewbot review`` never load them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from typing import Any, TextIO

from ..errors import UsageError
from .shared import StderrProgress, settings_for

__all__ = ["cmd_jobs", "cmd_serve", "cmd_worker", "service_parsers"]

_STATES = ("queued", "running", "done", "failed", "superseded")


def service_parsers(sub: Any, common: Any, settings_args: Any) -> None:
    s = sub.add_parser(
        "serve",
        help="the webhook service: receive, verify and queue GitHub and GitLab events",
        epilog="example:\n  REVIEWBOT_GITHUB_WEBHOOK_SECRET=... reviewbot serve --port 8080\n",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="workers inside this process (default: 1; 0 with `reviewbot worker`)",
    )
    _lease(s)
    common(s)
    w = sub.add_parser(
        "worker",
        help="run queued webhook jobs (any number, on any machine sharing the store)",
        epilog="example:\n  REVIEWBOT_SERVICE_STORE=redis://queue:6379/0 reviewbot worker --concurrency 2\n",
    )
    w.add_argument("--concurrency", type=int, default=1, help="jobs run at once by this process (default: 1)")
    w.add_argument("--once", action="store_true", help="run the jobs ready now, then exit")
    w.add_argument("--poll", type=float, default=1.0, help="seconds between looks at an empty queue")
    w.add_argument("--metrics-port", type=int, help="serve this worker's Prometheus metrics on this port")
    _lease(w)
    common(w)
    j = sub.add_parser("jobs", help="list the webhook service's jobs (default: queued, running, failed)")
    j.add_argument("--state", action="append", choices=_STATES, help="only jobs in this state (repeatable)")
    j.add_argument("--format", choices=("terminal", "json"), default="terminal", help="output format")
    settings_args(j)


def _lease(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--lease",
        type=float,
        default=900.0,
        help=(
            "seconds a claimed job is held without a heartbeat before another worker may take it "
            "(renewed every third)"
        ),
    )


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _log(args: argparse.Namespace) -> None:
    """One line per job and delivery on stderr (ids, repositories and errors; never a secret)."""
    from ..service.logs import OneLineFormatter

    log = logging.getLogger("reviewbot.service")
    if not args.debug and not log.handlers:
        handler = _Stderr()
        handler.setFormatter(OneLineFormatter("reviewbot: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def _workers(args: argparse.Namespace, settings: Any, n: int, stderr: TextIO, metrics: Any) -> list[Any]:
    from ..compose import job_store
    from ..learning.cache import SignalCache
    from ..service.worker import Worker
    from .service_handlers import Clients, run_job

    progress = StderrProgress(stderr, False)

    def configure(rc):
        return settings_for(args, None, repo_config=rc)

    out = []
    signals = SignalCache()  # one per worker process: its workers read a repository's signals once
    for _ in range(n):
        clients = Clients(settings, signals)
        handle = lambda job, c=clients: run_job(job, c, configure, progress)  # noqa: E731
        out.append(
            Worker(
                job_store(settings, lease=args.lease),
                handle,
                metrics=metrics,
                poll=getattr(args, "poll", 1.0),
            )
        )
    return out


def _start(target: Any, *args: Any) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def cmd_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    settings = settings_for(args, None)
    if settings.hosts.github.webhook_secret is None and settings.hosts.gitlab.webhook_secret is None:
        raise UsageError(  # fail closed, before anything listens
            "no webhook secret: set REVIEWBOT_GITHUB_WEBHOOK_SECRET and/or REVIEWBOT_GITLAB_WEBHOOK_SECRET "
            "(the service accepts no unverified delivery)"
        )
    _log(args)
    import uvicorn

    from ..compose import job_store
    from ..service.app import create_app
    from ..service.metrics import Metrics
    from ..service.worker import reconcile_forever
    from .service_handlers import Clients, service_host

    store = job_store(settings, lease=args.lease)
    metrics = Metrics()
    stop = threading.Event()
    for w in _workers(args, settings, args.workers, stderr, metrics):
        _start(w.run, stop)
    if settings.service.reconcile > 0:
        clients, seen = Clients(settings), job_store(settings, lease=args.lease)

        def targets():
            repos = {(j.host, j.repo): json.loads(j.arg or "{}").get("installation") for j in seen.jobs()}
            return [(service_host(clients, h, r, inst), r) for (h, r), inst in repos.items()]

        _start(reconcile_forever, seen, targets, settings.service.reconcile, stop)
    app = create_app(settings, store, metrics)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        stop.set()
    return 0


def cmd_worker(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    settings = settings_for(args, None)  # a worker receives no webhook: it needs no secret
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    _log(args)
    from ..service.metrics import Metrics

    metrics = Metrics()
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, registry=metrics.registry)
    stop = threading.Event()
    workers = _workers(args, settings, args.concurrency, stderr, metrics)
    threads = [threading.Thread(target=w.run, args=(stop,), kwargs={"once": args.once}) for w in workers]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        stop.set()
        raise
    return 0


def cmd_jobs(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..compose import job_store

    store = job_store(settings_for(args, None))
    jobs = store.jobs(*(args.state or ("queued", "running", "failed")))
    if args.format == "json":
        keys = ("id", "delivery", "host", "repo", "number", "head", "kind", "state", "attempts", "error")
        stdout.write(json.dumps([{k: getattr(j, k) for k in keys} for j in jobs], indent=2) + "\n")
        return 0
    for j in jobs:
        what = j.kind if j.kind == "review" else "command"
        line = f"{j.id:>6} {j.state:<10} {j.host} {j.repo}#{j.number} {what} {j.head[:12]} tries {j.attempts}"
        stdout.write(line + (f": {j.error[:200]}" if j.error else "") + "\n")
    if not jobs:
        stdout.write("no jobs\n")
    return 0
