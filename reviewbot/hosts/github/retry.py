"""GitHub's retry rules over the shared ``reviewbot.retry`` (the rules are in ``client``'s docstring).

PyGithub's exception types are read here, so this module and ``client`` are the only importers of
PyGithub.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from github import GithubException

from ... import retry
from ...errors import PublishError, ReviewbotError
from ...retry import Retry, RetryPolicy

__all__ = ["POLICY", "Retrier", "classify", "describe", "is_secondary_limit"]

T = TypeVar("T")

POLICY = RetryPolicy(attempts=6, base_s=2.0, max_backoff_s=60.0, budget_s=900.0)
SECONDARY_WAIT_S = 60.0  # a secondary rate limit without retry-after: wait at least this


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


def classify(exc: BaseException) -> Retry | None:
    """Connection errors and 5xx: retried, and the request may have been done. A rate limit (403 or
    429): retry-after, else a primary limit's reset, else at least a minute. None for anything else."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return Retry(maybe_done=True)
    if not isinstance(exc, GithubException):
        return None
    if exc.status >= 500:
        return Retry(maybe_done=True)
    if exc.status not in (403, 429):
        return None
    primary = _header(exc.headers, "x-ratelimit-remaining") == "0"
    if not (primary or is_secondary_limit(exc)):
        return None
    after = retry.retry_after(_header(exc.headers, "retry-after"))
    reset = _header(exc.headers, "x-ratelimit-reset")
    if after is None and primary and reset and reset.isdigit():
        after = max(1.0, float(reset) - time.time() + 1)
    return Retry(after=after, at_least=SECONDARY_WAIT_S)


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

    def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.sleep(seconds)

    def call(
        self,
        what: str,
        send: Callable[[], Any],
        *,
        error: type[ReviewbotError] = PublishError,
        recover: Callable[[], T | None] | None = None,
        parse: Callable[[Any], T] | None = None,
    ) -> T:
        """``parse(send())`` (``reviewbot.retry.call``); a failure of ``send`` becomes ``error`` naming
        ``what``, the status and the limits. ``parse`` runs after that, so its errors are raised as
        they are; what ``recover`` found is returned as it is."""
        p = self.policy
        try:
            answer = retry.call(
                send, classify, policy=p, recover=recover, parse=_Answer, sleep=self._sleep, rng=self.rng
            )
        except retry.GaveUp as gave_up:
            budget = f", {p.budget_s:g} s" if p.budget_s is not None else ""
            raise error(
                f"GitHub {what}: {describe(gave_up.error)}; gave up after {gave_up.tries} tries and "
                f"{gave_up.waited:.0f} s of waiting (limits: {p.attempts} tries{budget})"
            ) from gave_up.error
        except GithubException as exc:
            raise error(f"GitHub {what}: {describe(exc)}") from exc
        except (requests.RequestException, OSError) as exc:
            raise error(f"GitHub {what}: {type(exc).__name__}: {exc}"[:400]) from exc
        except (RuntimeError, json.JSONDecodeError) as exc:  # a redirect PyGithub refuses, a body not JSON
            raise error(f"GitHub {what}: unexpected answer ({type(exc).__name__}: {exc})"[:400]) from exc
        if not isinstance(answer, _Answer):
            return answer
        return answer.value if parse is None else parse(answer.value)


@dataclass(frozen=True, slots=True)
class _Answer:
    """An answer as ``send`` gave it, told apart from what ``recover`` found."""

    value: Any
