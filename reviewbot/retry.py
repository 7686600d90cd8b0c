"""Bounded retries, one way for every server reviewbot talks to (GitHub, GitLab, the model server).

    note = call(send, classify, policy=RetryPolicy(attempts=5), recover=find_it, parse=to_note)

``call`` runs ``send`` until it returns. When it raises, ``classify(error)`` says what the failure
is: ``None`` (not worth another try: the error goes up as it is) or a ``Retry``: how long the server
asked to wait (``Retry-After``, a rate-limit reset), the shortest back-off, and whether the server
may have done the request anyway (a 5xx, a lost connection). Before a request that may have been
done is sent again, ``recover`` looks for what it would have made and returns that instead, so a
POST that succeeded is never made twice.

tenacity runs the loop. A wait is what the server asked for, else an exponential back-off (``base_s``
doubling each try, at most ``max_backoff_s``, with full jitter when ``jitter``) never under the
``Retry``'s floor; no wait
is longer than ``max_wait_s``. ``call`` gives up with ``GaveUp`` after ``attempts`` tries, or when
the next wait would take the call's time (its tries and its waits) past ``budget_s``.

``send`` returns the answer as the server gave it, and ``parse`` (or the caller) reads it after the
retries: a bug in our parsing is raised as itself, never retried and never reported as the
server's fault. What ``recover`` found is returned as it is.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tenacity

__all__ = ["GaveUp", "Retry", "RetryPolicy", "call", "retry_after"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # tries per call, the first included
    base_s: float = 1.0  # the first back-off; doubles each try
    max_backoff_s: float = 60.0  # the longest back-off
    jitter: bool = True  # full jitter: a back-off is drawn between 0 and the above
    max_wait_s: float | None = None  # the longest single wait, a server's ask included
    budget_s: float | None = None  # the most seconds one call may take, tries and waits together


@dataclass(frozen=True, slots=True)
class Retry:
    """What ``classify`` says of a failure worth another try."""

    after: float | None = None  # seconds the server asked for; None: back off
    at_least: float = 0.0  # the shortest back-off
    maybe_done: bool = False  # the server may have done the request: ``recover`` before sending it again


class GaveUp(Exception):
    """``error`` was the last failure, after ``tries`` tries and ``waited`` seconds of waiting;
    ``refused`` is the wait that would have passed the budget (None when the tries ran out)."""

    def __init__(self, error: BaseException, tries: int, waited: float, refused: float | None) -> None:
        super().__init__(f"gave up after {tries} tries: {type(error).__name__}: {error}")
        self.error = error
        self.tries = tries
        self.waited = waited
        self.refused = refused


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date); None when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _wait(policy: RetryPolicy, tries: int, retry: Retry, rng: random.Random) -> float:
    if retry.after is not None:
        wait = retry.after
    else:
        wait = min(policy.max_backoff_s, policy.base_s * 2 ** (tries - 1))
        if policy.jitter:
            wait = rng.uniform(0, wait)
        wait = max(retry.at_least, wait)
    return wait if policy.max_wait_s is None else min(wait, policy.max_wait_s)


@dataclass(slots=True)
class _Tally:
    """What one ``call`` has spent so far, and what the last failure was."""

    spent: float = 0.0  # seconds in tries and waits; the waits as asked, so a test's sleep counts too
    waited: float = 0.0
    retry: Retry | None = None
    maybe_done: bool = False


@dataclass(frozen=True, slots=True)
class _Recovered:
    value: Any


def call(
    send: Callable[[], Any],
    classify: Callable[[Exception], Retry | None],
    *,
    policy: RetryPolicy,
    recover: Callable[[], T | None] | None = None,
    parse: Callable[[Any], T] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """``parse(send())``, with the retries ``classify`` allows under ``policy``; ``GaveUp`` when they run out.

    The loop is tenacity's: ``classify`` is its retry test, ``_wait`` its wait, the tries and the
    budget its stop; ``recover`` runs at the start of a try that follows a failure that may have been done.
    """
    rng = rng or random.Random()
    tally = _Tally()

    def attempt() -> Any:
        if tally.maybe_done and recover is not None:
            found = recover()  # did the failed try succeed after all?
            if found is not None:
                return _Recovered(found)
        started = time.monotonic()
        try:
            return send()
        finally:
            tally.spent += time.monotonic() - started

    def retried(exc: BaseException) -> bool:
        tally.retry = classify(exc) if isinstance(exc, Exception) else None
        return tally.retry is not None

    def wait(state: tenacity.RetryCallState) -> float:
        assert tally.retry is not None  # the retry test passed
        return _wait(policy, state.attempt_number, tally.retry, rng)

    def stop(state: tenacity.RetryCallState) -> bool:
        over = policy.budget_s is not None and tally.spent + state.upcoming_sleep > policy.budget_s
        return state.attempt_number >= policy.attempts or over

    def before_sleep(state: tenacity.RetryCallState) -> None:
        tally.spent += state.upcoming_sleep
        tally.waited += state.upcoming_sleep
        tally.maybe_done = tally.retry is not None and tally.retry.maybe_done

    def gave_up(state: tenacity.RetryCallState) -> Any:
        exc = state.outcome.exception() if state.outcome is not None else None
        assert isinstance(exc, Exception)
        refused = None if state.attempt_number >= policy.attempts else state.upcoming_sleep
        raise GaveUp(exc, state.attempt_number, tally.waited, refused) from exc

    answer = tenacity.Retrying(
        sleep=sleep,
        retry=tenacity.retry_if_exception(retried),
        wait=wait,
        stop=stop,
        before_sleep=before_sleep,
        retry_error_callback=gave_up,
    )(attempt)
    if isinstance(answer, _Recovered):
        return answer.value
    return answer if parse is None else parse(answer)
