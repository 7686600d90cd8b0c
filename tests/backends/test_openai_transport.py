"""The openai backend's transport through httpx.MockTransport: retries, Retry-After, timeouts,
the circuit breaker, malformed bodies; and the verbs over it (no sockets)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from reviewbot.backends import openai as oa
from reviewbot.backends.openai import HTTPRejected, OpenAIBackend
from reviewbot.backends.openai.transport import Transport
from reviewbot.errors import ModelUnavailable

ROOT = "http://model.test"
OK = {"choices": [{"message": {"content": "fine"}}]}

Reply = httpx.Response | Exception


def script(replies: list[Reply]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering `replies` in order (an exception is raised); the last one repeats."""
    seen: list[httpx.Request] = []
    queue: Iterator[Reply] = iter(replies)
    last: list[Reply] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = next(queue, None)
        if reply is None:
            reply = last[0]
        last[:] = [reply]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(handle), seen


def make(replies: list[Reply], **kw) -> tuple[Transport, list[httpx.Request]]:
    mock, seen = script(replies)
    kw = {"timeout": 2, "backoff": 0.001, "max_backoff": 0.002, **kw}
    return Transport(ROOT, transport=mock, **kw), seen


def js(status: int, body: object = OK, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def raw(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, content=text.encode())


def timeout() -> Exception:
    return httpx.ReadTimeout("read timed out")


def refused() -> Exception:
    return httpx.ConnectError("connection refused")


RETRIED = [
    # (name, replies, requests made)
    ("503 then ok", [js(503, {"error": {"message": "busy"}}), js(200)], 2),
    ("502 twice then ok", [js(502), js(502), js(200)], 3),
    ("408 then ok", [js(408), js(200)], 2),
    ("429 with Retry-After then ok", [js(429, {"message": "slow"}, **{"Retry-After": "0.05"}), js(200)], 2),
    ("timeout then ok", [timeout(), js(200)], 2),
    ("refused then ok", [refused(), js(200)], 2),
    ("malformed JSON then ok", [raw(200, "{not json"), js(200)], 2),
    ("JSON not an object then ok", [js(200, [1, 2]), js(200)], 2),
]


@pytest.mark.parametrize(("replies", "requests"), [r[1:] for r in RETRIED], ids=[r[0] for r in RETRIED])
def test_transient_faults_are_retried(replies: list[Reply], requests: int) -> None:
    t, seen = make(replies)
    assert t.request("POST", "/v1/chat/completions", {"x": 1}) == OK
    assert len(seen) == requests
    assert json.loads(seen[0].content) == {"x": 1}
    assert not t.breaker.is_open and t.breaker.failures == 0


def test_retry_after_is_honoured() -> None:
    t, seen = make([js(429, **{"Retry-After": "0.3"}), js(200)])
    t0 = time.monotonic()
    t.request("GET", "/v1/models")
    assert time.monotonic() - t0 >= 0.3
    assert len(seen) == 2


FAILED = [
    # (name, replies, max_retries, requests made, words in the message, down)
    (
        "503 every time",
        [js(503, {"error": {"message": "overloaded"}})],
        2,
        3,
        ["3 attempts", "HTTP 503", "overloaded"],
        True,
    ),
    ("timeouts", [timeout()], 1, 2, ["2 attempts", "timed out"], True),
    ("refused", [refused()], 0, 1, ["1 attempt", "ConnectError"], True),
    ("malformed every time", [raw(200, "<html>")], 1, 2, ["malformed JSON body (6 bytes)"], False),
    (
        "Retry-After beyond the budget",
        [js(429, **{"Retry-After": "3600"})],
        3,
        1,
        ["beyond the time budget"],
        True,
    ),
]


@pytest.mark.parametrize(
    ("replies", "retries", "requests", "words", "down"), [r[1:] for r in FAILED], ids=[r[0] for r in FAILED]
)
def test_faults_past_the_retry_bound_become_model_unavailable(
    replies: list[Reply], retries: int, requests: int, words: list[str], down: bool
) -> None:
    t, seen = make(replies, max_retries=retries, breaker_threshold=10)
    with pytest.raises(ModelUnavailable) as err:
        t.request("POST", "/v1/chat/completions", {})
    assert len(seen) == requests
    message = str(err.value)
    assert "\n" not in message
    for w in words:
        assert w in message
    assert err.value.down is down


REJECTED = [
    # (status, words in the message)
    (400, ["HTTP 400", "bad field"]),
    (401, ["HTTP 401 (check the API key)"]),
    (404, ["HTTP 404"]),
    (422, ["HTTP 422"]),
]


@pytest.mark.parametrize(("status", "words"), REJECTED)
def test_other_4xx_are_rejected_at_once_and_leave_the_breaker_closed(status: int, words: list[str]) -> None:
    t, seen = make([js(status, {"error": {"message": "bad field sk-secret"}})], api_key="sk-secret")
    with pytest.raises(HTTPRejected) as err:
        t.request("POST", "/v1/chat/completions", {})
    assert len(seen) == 1 and err.value.status == status
    assert all(w in str(err.value) for w in words)
    assert "sk-secret" not in str(err.value)
    assert seen[0].headers["authorization"] == "Bearer sk-secret"
    assert t.breaker.failures == 0


def test_the_breaker_opens_fails_fast_and_lets_one_trial_through() -> None:
    t, seen = make([js(500)], max_retries=5, breaker_threshold=2, breaker_cooldown=0.2)
    with pytest.raises(ModelUnavailable, match="circuit open"):
        t.request("POST", "/v1/chat/completions", {})
    assert len(seen) == 2 and t.breaker.is_open  # stopped retrying when it opened
    with pytest.raises(ModelUnavailable, match="circuit open"):
        t.request("POST", "/v1/chat/completions", {})
    assert len(seen) == 2  # no request while open
    time.sleep(0.25)
    with pytest.raises(ModelUnavailable):
        t.request("POST", "/v1/chat/completions", {})
    assert len(seen) == 3 and t.breaker.is_open  # the half-open trial failed: open again
    time.sleep(0.25)
    t._transport.handler = lambda request: js(200)  # the server is back
    t.close()
    assert t.request("POST", "/v1/chat/completions", {}) == OK
    assert not t.breaker.is_open


def test_rate_limits_do_not_open_the_breaker() -> None:
    t, seen = make([js(429, **{"Retry-After": "0"})], max_retries=4, breaker_threshold=2)
    with pytest.raises(ModelUnavailable, match="429"):
        t.request("POST", "/v1/chat/completions", {})
    assert len(seen) == 5 and not t.breaker.is_open


def test_no_client_before_the_first_request() -> None:
    t, seen = make([js(200)])
    assert t._client is None and seen == []
    t.request("GET", "/v1/models")
    assert t._client is not None
    t.close()
    assert t._client is None


# ---------------------------------------------------------------- the verbs over a mock transport


def server(
    handler: Callable[[str, dict], httpx.Response],
) -> tuple[httpx.MockTransport, list[tuple[str, dict]]]:
    seen: list[tuple[str, dict]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        seen.append((request.url.path, body))
        return handler(request.url.path, body)

    return httpx.MockTransport(handle), seen


@pytest.fixture(autouse=True)
def _fresh_mode_cache() -> Iterator[None]:
    oa.probe._MODES.clear()
    yield
    oa.probe._MODES.clear()


def chat(text: str, **extra: object) -> httpx.Response:
    return js(200, {"choices": [{"message": {"content": text}, **extra}], "usage": {"prompt_tokens": 7}})


def test_generate_finds_the_structured_mode_and_sends_the_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    def handler(path: str, body: dict) -> httpx.Response:
        if path == "/tokenize":
            return js(404)
        if "structured_outputs" in body:
            probe = body["structured_outputs"]["json"] == oa.PROBE_SCHEMA
            return chat('{"probe": "reviewbot-7f3a"}' if probe else '{"a": 1}')
        return chat("Hello there.")

    mock, seen = server(handler)
    with OpenAIBackend(ROOT + "/v1", "m", transport=mock) as b:
        g = b.generate([{"role": "user", "content": "hi"}], schema=schema, max_tokens=9)
        assert g.text == '{"a": 1}' and g.prompt_tokens == 7
        assert b.structured_mode() == "structured_outputs"
    assert [p for p, _ in seen] == ["/v1/chat/completions"] * 2  # one probe, one call
    assert seen[1][1]["structured_outputs"] == {"json": schema} and seen[1][1]["max_tokens"] == 9


def test_choose_reads_the_labels_from_top_logprobs() -> None:
    top = [
        {"token": "review", "logprob": -0.1},
        {"token": "tools", "logprob": -2.5},
        {"token": "x", "logprob": -1},
    ]
    logprobs = {"content": [{"token": "review", "logprob": -0.1, "top_logprobs": top}]}

    def handler(path: str, body: dict) -> httpx.Response:
        return js(404) if path == "/tokenize" else chat("review", logprobs=logprobs)

    mock, _ = server(handler)
    with OpenAIBackend(ROOT, "m", transport=mock, structured="none") as b:
        c = b.choose([{"role": "user", "content": "which?"}], ["review", "tools"])
    assert c.label == "review"
    assert c.probabilities["review"] == pytest.approx(1 / (1 + math.exp(-2.4)))


def test_count_tokens_uses_tokenize_and_falls_back_to_the_estimate() -> None:
    mock, seen = server(lambda path, body: js(200, {"tokens": [1, 2, 3]}))
    with OpenAIBackend(ROOT, "m", transport=mock) as b:
        assert b.count_tokens("three tokens here") == 3
    assert seen[0][1]["prompt"] == "three tokens here"
    mock, _ = server(lambda path, body: js(404))
    with OpenAIBackend(ROOT, "m", transport=mock) as b:
        assert b.count_tokens("abcdefg") == 2  # estimate_tokens: 7 / 3.5


def test_score_reads_the_continuations_prompt_logprobs() -> None:
    plps = [
        None,
        {"1": {"decoded_token": "x", "logprob": -1.0}},
        {"2": {"decoded_token": " = 1", "logprob": -0.5}},
    ]
    mock, _ = server(
        lambda path, body: js(200, {"choices": [{}], "prompt_logprobs": plps, "prompt_token_ids": [0, 1, 2]})
    )
    with OpenAIBackend(ROOT, "m", transport=mock) as b:
        s = b.score([{"role": "user", "content": "q"}], "x = 1")
    assert s is not None and s.logprobs == (-1.0, -0.5) and s.offsets == (0, 1)


@pytest.mark.parametrize(
    "echo",
    [
        "invalid header Authorization: Bearer ghp_0123456789abcdefghijABCDEFGHIJ",
        "token ghs_0123456789abcdefghijABCDEFGHIJ is not allowed",
        "bad key " + "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA" * 2,
        "x" * 5000,
    ],
)
def test_a_server_echo_is_cut_and_redacted(echo: str) -> None:
    """A server's message that echoes a token (ours was redacted already; a token
    that is not our API key, say one a proxy added) is redacted and cut short."""
    t, _ = make([js(400, {"error": {"message": echo}})], api_key="sk-other-key")
    with pytest.raises(HTTPRejected) as err:
        t.request("POST", "/v1/chat/completions", {})
    text = str(err.value)
    assert "0123456789abcdefghij" not in text and "Zm9vYmFy" not in text
    assert len(text) < 400 and "\n" not in text
