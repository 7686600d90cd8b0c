"""The reconciler: queue a review for each open change whose head has none."""

from __future__ import annotations

from reviewbot.ports import ServiceHost
from reviewbot.service.jobs import JobStore


def reconcile(store: JobStore, host: ServiceHost, repo: str) -> int:
    """Enqueue missed heads of `repo`; returns how many jobs were added."""
    added = 0
    for change in host.open_changes():
        if change.reviewed or store.reviewed(host.name, repo, change.number, change.head):
            continue
        delivery = f"reconcile:{host.name}:{repo}:{change.number}:{change.head}"
        added += store.enqueue(delivery, host.name, repo, change.number, change.head)
    return added
