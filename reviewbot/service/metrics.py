"""Prometheus metrics of one process: the store's jobs by state (read at each scrape), and what
the workers of this process measured (review latency, model errors, job outcomes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

__all__ = ["Metrics"]


class _StoreCollector:
    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self.count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.count()
        depth = GaugeMetricFamily("reviewbot_queue_depth", "Jobs waiting to run (queued).")
        depth.add_metric([], counts.get("queued", 0))
        yield depth
        states = GaugeMetricFamily("reviewbot_jobs", "Jobs in the store by state.", labels=["state"])
        for state, n in sorted(counts.items()):
            states.add_metric([state], n)
        yield states


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.review_seconds = Histogram(
            "reviewbot_review_seconds",
            "Time to run one job (review or command).",
            ["kind"],
            registry=self.registry,
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
        )
        self.model_errors = Counter(
            "reviewbot_model_errors", "Jobs that failed on the model backend.", registry=self.registry
        )
        self.jobs_finished = Counter(
            "reviewbot_jobs_finished",
            "Jobs this process ran, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "reviewbot_deliveries",
            "Webhook deliveries by host and answer.",
            ["host", "answer"],
            registry=self.registry,
        )

    def watch_store(self, count: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_StoreCollector(count))  # type: ignore[arg-type]

    def text(self) -> bytes:
        return generate_latest(self.registry)
