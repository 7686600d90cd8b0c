"""The worker loop: claim a job under the store's per-change lease, run it, mark it done, or failed
(retried with backoff until ``service.max_attempts``, then listed by ``reviewbot jobs``).

The lease is the store's (15 minutes by default, ``--lease``): a job whose worker died is claimed
again when its lease runs out, and no other job of the same change runs before that. While a job
runs, a heartbeat renews its lease every third of the lease, so a review may outlast the lease;
a worker that lost its lease anyway (stalled past it, and another worker took the job) leaves the
job's outcome to that worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from ..errors import ModelError
from ..ports import ServiceHost
from .jobs import Job, JobStore
from .metrics import Metrics
from .reconcile import reconcile

__all__ = ["Worker", "reconcile_forever"]

log = logging.getLogger("reviewbot.service")


class Worker:
    """One worker: one store connection, one job at a time (run several for concurrency)."""

    def __init__(
        self,
        store: JobStore,
        handle: Callable[[Job], str],
        *,
        metrics: Metrics | None = None,
        poll: float = 1.0,
    ) -> None:
        self.store, self.handle, self.metrics, self.poll = store, handle, metrics, poll

    def run_once(self) -> bool:
        """Claim and run one job; False when none was ready."""
        job = self.store.claim()
        if job is None:
            return False
        started = time.perf_counter()
        beat = _Heartbeat(self.store, job)
        try:
            with beat:
                what = self.handle(job)
        except Exception as exc:  # noqa: BLE001 (any failure is recorded on the job and retried)
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000]
            if beat.lost:
                log.warning(
                    "job %s failed after its lease was lost; left to the worker that took it: %s",
                    job.id,
                    error,
                )
                return True
            self.store.fail(job.id, error)
            log.warning(
                "job %s (%s %s#%s) failed, try %s: %s",
                job.id,
                job.host,
                job.repo,
                job.number,
                job.attempts,
                error,
            )
            if self.metrics is not None:
                self.metrics.jobs_finished.labels("error").inc()
                if isinstance(exc, ModelError):
                    self.metrics.model_errors.inc()
            return True
        if beat.lost:
            log.warning("job %s finished after its lease was lost; left to the worker that took it", job.id)
            return True
        self.store.done(job.id)
        log.info("job %s (%s %s#%s %s): %s", job.id, job.host, job.repo, job.number, job.kind, what)
        if self.metrics is not None:
            self.metrics.jobs_finished.labels("done").inc()
            self.metrics.review_seconds.labels(job.kind).observe(time.perf_counter() - started)
        return True

    def run(self, stop: threading.Event, *, once: bool = False) -> int:
        """Run jobs until ``stop`` is set (``once``: until none is ready); returns how many ran."""
        ran = 0
        while not stop.is_set():
            if self.run_once():
                ran += 1
            elif once:
                break
            else:
                stop.wait(self.poll)
        return ran


class _Heartbeat:
    """Renews a running job's lease every third of the lease until the block ends; ``lost`` once the
    store says the job is no longer this worker's. Stopped before the worker touches the store again,
    so the store's connection is never used by two threads at once."""

    def __init__(self, store: JobStore, job: Job) -> None:
        self.store, self.job, self.lost = store, job, False
        self.every = max(store.lease / 3, 0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.store.renew(self.job):
                    self.lost = True
                    log.warning("job %s: lease lost (taken by another worker or finished)", self.job.id)
                    return
            except Exception as exc:  # noqa: BLE001 (a store that fails now is tried on the next beat)
                log.warning("job %s: lease renewal failed: %s", self.job.id, type(exc).__name__)


def reconcile_forever(
    store: JobStore,
    targets: Callable[[], Iterable[tuple[ServiceHost, str]]],
    every: float,
    stop: threading.Event,
) -> None:
    """Every ``every`` seconds, queue a review for each open change with an unreviewed head."""
    while not stop.wait(every):
        for host, repo in targets():
            try:
                added = reconcile(store, host, repo)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 (a host that fails now is tried on the next pass)
                log.warning("reconcile %s %s: %s", host.name, repo, type(exc).__name__)
                continue
            if added:
                log.info("reconcile %s %s: %s job(s) queued", host.name, repo, added)
