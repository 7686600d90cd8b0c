"""Bounded retries of GitHub requests, under one ``RetryPolicy`` (the rules are in ``client``'s docstring).

PyGithub's exception types are read here, so this module and ``client`` are the only importers of
PyGithub.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import GithubException
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ...errors import PublishError, ReviewbotError

__all__ = ["RetryPolicy", "Retrier", "describe", "is_retryable", "is_secondary_limit"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6  # tries per request, the first included
    budget_s: float = 900.0  # the most seconds one request may spend waiting between tries
    base_s: float = 2.0  # first back-off for 5xx; doubles each try, full jitter
    max_backoff_s: float = 60.0
    secondary_wait_s: float = 60.0  # secondary rate limit without retry-after: at least this
    seconds_between_writes: float = 1.0  # PyGithub's pacing of content-creating requests


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for k, v in dict(headers).items():
        if k.lower() == name:
            return str(v)
    return None


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict):
        msg = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = [e if isinstance(e, str) else str(e.get("message") or e.get("code") or e) for e in errors]
            msg += " (" + "; ".join(parts)[:300] + ")"
        return " ".join(msg.split())[:500]
    return " ".join(str(data or "").split())[:300]


def is_secondary_limit(exc: BaseException) -> bool:
    if not isinstance(exc, GithubException) or exc.status not in (403, 429):
        return False
    text = _message(exc).lower()
    return (
        "secondary rate limit" in text or "abuse" in text or _header(exc.headers, "retry-after") is not None
    )


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    if not isinstance(exc, GithubException):
        return False
    if exc.status >= 500:
        return True
    if exc.status in (403, 429):
        primary = _header(exc.headers, "x-ratelimit-remaining") == "0"
        return primary or is_secondary_limit(exc)
    return False


class _Wait:
    """tenacity wait: what GitHub asked for, else exponential back-off with full jitter."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng

    def __call__(self, state: RetryCallState) -> float:
        p = self.policy
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(p.max_backoff_s, p.base_s * 2 ** (state.attempt_number - 1))
        jittered = self.rng.uniform(0, backoff)
        if isinstance(exc, GithubException) and exc.status in (403, 429):
            after = _header(exc.headers, "retry-after")
            if after is not None and after.strip().isdigit():
                return float(after.strip())
            if _header(exc.headers, "x-ratelimit-remaining") == "0":
                reset = _header(exc.headers, "x-ratelimit-reset")
                if reset and reset.isdigit():
                    return max(1.0, float(reset) - time.time() + 1)
            return max(p.secondary_wait_s, jittered)
        return jittered


def describe(exc: BaseException | None) -> str:
    if isinstance(exc, GithubException):
        msg = _message(exc)
        return f"HTTP {exc.status}" + (f" {msg}" if msg else "")
    if exc is None:
        return "no answer"
    return f"{type(exc).__name__}: {exc}"[:300]


class Retrier:
    """Runs one request with retries; ``waits`` records every wait taken (for logs and tests)."""

    def __init__(self, policy: RetryPolicy, sleep: Callable[[float], None], rng: random.Random) -> None:
        self.policy = policy
        self.sleep = sleep
        self.rng = rng
        self.waits: list[float] = []

    def call(
        self,
        what: str,
        fn: Callable[[], T],
        *,
        error: type[ReviewbotError] = PublishError,
        recover: Callable[[], T | None] | None = None,
    ) -> T:
        attempt = {"n": 0}

        def once() -> T:
            attempt["n"] += 1
            if attempt["n"] > 1 and recover is not None:
                found = recover()  # did the failed attempt succeed after all?
                if found is not None:
                    return found
            return fn()

        def give_up(state: RetryCallState) -> T:
            exc = state.outcome.exception() if state.outcome else None
            waited = sum(self.waits[-(state.attempt_number - 1) :]) if state.attempt_number > 1 else 0.0
            why = describe(exc)
            raise error(
                f"GitHub {what}: {why}; gave up after {state.attempt_number} tries and {waited:.0f} s of waiting "
                f"(limits: {self.policy.attempts} tries, {self.policy.budget_s:g} s)"
            ) from exc

        budget = self.policy.budget_s

        def over_budget(state: RetryCallState) -> bool:
            return state.idle_for + (state.upcoming_sleep or 0.0) > budget

        def record(state: RetryCallState) -> None:
            self.waits.append(state.upcoming_sleep)

        retrying = Retrying(
            retry=retry_if_exception(is_retryable),
            wait=_Wait(self.policy, self.rng),
            stop=stop_after_attempt(self.policy.attempts) | over_budget,
            sleep=self.sleep,
            before_sleep=record,
            retry_error_callback=give_up,
            reraise=False,
        )
        try:
            return retrying(once)
        except GithubException as exc:
            raise error(f"GitHub {what}: {describe(exc)}") from exc
        except (requests.RequestException, OSError) as exc:
            raise error(f"GitHub {what}: {type(exc).__name__}: {exc}"[:400]) from exc
        except (
            RuntimeError,
            KeyError,
            TypeError,
            ValueError,
        ) as exc:  # a redirect PyGithub refuses, an odd answer
            raise error(f"GitHub {what}: unexpected answer ({type(exc).__name__}: {exc})"[:400]) from exc
