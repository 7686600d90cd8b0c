"""The real bubblewrap sandbox in tests: skip with the reason where it cannot start, fail instead
under REVIEWBOT_REQUIRE_SANDBOX=1 (CI)."""

from __future__ import annotations

import os

import pytest

from reviewbot.runners.sandbox import BubblewrapSandbox


def require_sandbox() -> None:
    reason = BubblewrapSandbox().probe()
    if reason is not None and os.environ.get("REVIEWBOT_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"REVIEWBOT_REQUIRE_SANDBOX=1 but the sandbox is unavailable: {reason}")
    if reason is not None:
        pytest.skip(f"sandbox unavailable here: {reason}")
