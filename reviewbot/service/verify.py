"""Webhook authenticity: GitHub's HMAC over the raw body, GitLab's shared token."""

from __future__ import annotations

import hashlib
import hmac


def github_signature(secret: bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def github_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """True when `header` is the HMAC-SHA256 of the raw `body` under `secret` (constant time)."""
    if not secret or not header:
        return False
    return hmac.compare_digest(github_signature(secret, body).encode(), header.encode())


def gitlab_ok(secret: bytes, header: str | None) -> bool:
    """True when the `X-Gitlab-Token` header equals `secret` (constant time)."""
    if not secret or header is None:
        return False
    return hmac.compare_digest(secret, header.encode())
