"""The one retry loop: what is retried, how long it waits, when it gives up, when it recovers, and
that the answer is parsed after the retries."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable

import pytest

from reviewbot.retry import GaveUp, Retry, RetryPolicy, call, retry_after


class Busy(Exception):
    """A fault the tests' classify retries."""

    def __init__(self, retry: Retry | None = None) -> None:
        super().__init__("busy")
        self.retry = retry or Retry()


def classify(exc: Exception) -> Retry | None:
    return exc.retry if isinstance(exc, Busy) else None


def script(*replies: object) -> tuple[Callable[[], object], list[int]]:
    """A send that raises or returns ``replies`` in order; ``sent`` counts the tries."""
    sent: list[int] = []

    def send() -> object:
        sent.append(1)
        reply = replies[min(len(sent), len(replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return send, sent


NO_JITTER = RetryPolicy(attempts=5, base_s=1.0, max_backoff_s=60.0, jitter=False)


def test_a_fault_is_retried_with_doubling_back_offs() -> None:
    send, sent = script(Busy(), Busy(), Busy(), "ok")
    waits: list[float] = []
    assert call(send, classify, policy=NO_JITTER, sleep=waits.append) == "ok"
    assert len(sent) == 4 and waits == [1.0, 2.0, 4.0]


def test_full_jitter_stays_under_the_back_off_and_its_cap() -> None:
    send, _ = script(*[Busy()] * 8, "ok")
    waits: list[float] = []
    policy = RetryPolicy(attempts=9, base_s=1.0, max_backoff_s=5.0)
    call(send, classify, policy=policy, sleep=waits.append, rng=random.Random(0))
    assert all(0 <= w <= min(5.0, 2**i) for i, w in enumerate(waits)) and len(set(waits)) == 8


def test_the_servers_ask_then_the_floor_then_the_longest_wait() -> None:
    send, _ = script(Busy(Retry(after=7)), Busy(Retry(at_least=60)), Busy(Retry(after=500)), "ok")
    waits: list[float] = []
    call(send, classify, policy=RetryPolicy(max_wait_s=120, jitter=False), sleep=waits.append)
    assert waits == [7, 60, 120]


def test_what_classify_refuses_goes_up_as_it_is_after_one_try() -> None:
    send, sent = script(KeyError("id"))
    with pytest.raises(KeyError):
        call(send, classify, policy=NO_JITTER, sleep=lambda s: None)
    assert len(sent) == 1


def test_a_bug_in_parse_is_raised_as_itself_and_the_request_is_not_sent_again() -> None:
    send, sent = script(Busy(), {"no id": 1})
    with pytest.raises(KeyError, match="id"):
        call(send, classify, policy=NO_JITTER, parse=lambda d: d["id"], sleep=lambda s: None)
    assert len(sent) == 2  # the fault before it was retried; the parse was not


def test_the_tries_run_out() -> None:
    send, sent = script(Busy())
    waits: list[float] = []
    with pytest.raises(GaveUp) as gave_up:
        call(send, classify, policy=NO_JITTER, sleep=waits.append)
    assert len(sent) == 5 and gave_up.value.tries == 5 and waits == [1.0, 2.0, 4.0, 8.0]
    assert gave_up.value.waited == 15.0 and gave_up.value.refused is None
    assert isinstance(gave_up.value.error, Busy) and gave_up.value.__cause__ is gave_up.value.error


def test_a_wait_past_the_budget_gives_up_at_once() -> None:
    send, sent = script(Busy(Retry(after=3600)))
    slept: list[float] = []
    policy = RetryPolicy(budget_s=900)
    with pytest.raises(GaveUp) as gave_up:
        call(send, classify, policy=policy, sleep=slept.append)
    assert len(sent) == 1 and slept == [] and gave_up.value.refused == 3600


def test_the_budget_counts_the_waits_already_taken() -> None:
    send, sent = script(Busy(Retry(after=400)))
    slept: list[float] = []
    with pytest.raises(GaveUp) as gave_up:
        call(send, classify, policy=RetryPolicy(attempts=10, budget_s=900), sleep=slept.append)
    assert len(sent) == 3 and slept == [400, 400] and gave_up.value.waited == 800


def test_recover_runs_only_after_a_fault_that_may_have_been_done() -> None:
    """A rate limit was not done: sent again. A 5xx may have been: ``recover`` looks first, and what
    it found is returned as it is (not parsed)."""
    send, sent = script(Busy(Retry(after=0)), Busy(Retry(maybe_done=True)), {"id": 1})
    looked: list[int] = []

    def recover() -> str:
        looked.append(len(sent))
        return "found"

    got = call(
        send, classify, policy=NO_JITTER, recover=recover, parse=lambda d: d["id"], sleep=lambda s: None
    )
    assert got == "found" and looked == [2] and len(sent) == 2


def test_recover_finding_nothing_sends_again_and_parses_the_answer() -> None:
    send, sent = script(Busy(Retry(maybe_done=True)), {"id": 1})
    got = call(
        send, classify, policy=NO_JITTER, recover=lambda: None, parse=lambda d: d["id"], sleep=lambda s: None
    )
    assert got == 1 and len(sent) == 2


def _http_date(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


HTTP_DATE = "http date in {}"  # made when the test runs: the header is read against the clock


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        (None, None, None),
        ("", None, None),
        ("2", 2, 2),
        ("0.5", 0.5, 0.5),
        ("-3", 0, 0),
        ("soon", None, None),
        (HTTP_DATE.format(30), 25, 31),
        (HTTP_DATE.format(-30), 0, 0),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, low: float | None, high: float | None
) -> None:
    if header and header.startswith("http date in "):
        header = _http_date(float(header.removeprefix("http date in ")))
    got = retry_after(header)
    if low is None:
        assert got is None
    else:
        assert got is not None and low <= got <= high
