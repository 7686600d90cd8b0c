"""Helpers for the GitLab tests: a client for the stand-in that records its waits."""

from __future__ import annotations

from reviewbot.hosts.gitlab.client import GitLabClient, RetryPolicy


def client(standin, *, waits: list[float] | None = None, attempts: int = 6) -> GitLabClient:
    record = waits if waits is not None else []
    return GitLabClient(standin.token, url=standin.url, policy=RetryPolicy(attempts=attempts, base_s=0.5),
                        sleep=record.append)  # fmt: skip
