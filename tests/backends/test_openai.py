"""The `openai` backend against a stand-in OpenAI-compatible server (no model, no network)."""

from __future__ import annotations

import json
import math
import socket
import threading
import time

import pytest
from support.openai_standin import StandIn

from reviewbot.backends import openai as oa
from reviewbot.backends.openai import GLM_STOP_TOKEN_IDS, OpenAIBackend, conforms
from reviewbot.errors import ConfigError, ModelError
from reviewbot.tokens import estimate_tokens

SCHEMA = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"line": {"type": "integer"}, "message": {"type": "string"}},
                "required": ["line", "message"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["findings"],
    "additionalProperties": False,
}
MSGS = [{"role": "system", "content": "You review code."}, {"role": "user", "content": "Review this diff."}]


@pytest.fixture(autouse=True)
def _fresh_mode_cache():
    oa.probe._MODES.clear()  # ports can be reused between tests
    yield
    oa.probe._MODES.clear()


@pytest.fixture
def server():
    servers: list[StandIn] = []

    def make(**kw) -> StandIn:
        s = StandIn(**kw).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def backend():
    made: list[OpenAIBackend] = []

    def make(url: str, model: str | None = "standin-model", **kw) -> OpenAIBackend:
        kw.setdefault("timeout", 2)
        kw.setdefault("backoff", 0.01)
        kw.setdefault("max_backoff", 0.05)
        b = OpenAIBackend(url, model, **kw)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def chat_bodies(s: StandIn) -> list[dict]:
    return [body for m, p, _, body in s.requests if p == "/v1/chat/completions"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------- generate
def test_generate_plain_lazy_client_usage_and_logprobs(server, backend):
    s = server()
    b = backend(s.url + "/v1/")  # a trailing /v1 is accepted
    assert b.transport._client is None  # nothing is opened before the first call
    g = b.generate(MSGS, max_tokens=50)
    assert g.text == "Looks fine to me: nothing to report."
    assert g.generated_tokens == len(s.tokenize(g.text))
    assert g.prompt_tokens > 0 and g.seconds >= 0
    assert g.token_logprobs is not None and len(g.token_logprobs) == g.generated_tokens
    (body,) = chat_bodies(s)
    assert body["temperature"] == 0 and body["max_tokens"] == 50 and body["logprobs"] is True
    assert body["messages"] == MSGS and body["model"] == "standin-model"
    assert "stop_token_ids" not in body and "structured_outputs" not in body


def test_generate_truncated_by_max_tokens(server, backend):
    s = server()
    g = backend(s.url).generate(MSGS, max_tokens=3)
    assert g.generated_tokens == 3


def test_glm_stop_token_ids_are_sent_when_configured(server, backend):
    s = server()
    backend(s.url, stop_token_ids=GLM_STOP_TOKEN_IDS).generate(MSGS)
    assert chat_bodies(s)[0]["stop_token_ids"] == [151329, 151336, 151338]


def test_model_name_from_v1_models(server, backend):
    s = server(model="served/name")
    b = backend(s.url, model=None)
    b.generate(MSGS)
    assert b.model_id == "served/name"
    assert s.paths("GET") == ["/v1/models"]


# ---------------------------------------------------------------------- structured-mode detection
@pytest.mark.parametrize(
    "kw, mode",
    [
        ({"honours": ("structured_outputs", "response_format")}, "structured_outputs"),  # vLLM
        ({"honours": ("response_format",)}, "response_format"),  # ignores structured_outputs silently
        ({"honours": ()}, "none"),  # ignores both: unconstrained text with HTTP 200
        ({"honours": ("response_format",), "strict": True}, "response_format"),  # 400 on unknown fields
    ],
)
def test_structured_mode_detection(server, backend, kw, mode):
    s = server(**kw)
    b = backend(s.url)
    g = b.generate(MSGS, schema=SCHEMA, max_tokens=200)
    assert b.structured_mode() == mode
    real = chat_bodies(s)[-1]
    assert ("structured_outputs" in real) == (mode == "structured_outputs")
    assert ("response_format" in real) == (mode == "response_format")
    if mode == "none":
        assert not conforms(g.text, SCHEMA)  # the caller validates and retries
    else:
        assert conforms(g.text, SCHEMA)
        assert real.get("structured_outputs", {}).get("json") == SCHEMA or (
            real["response_format"]["json_schema"] == {"name": "review", "schema": SCHEMA, "strict": True}
        )
    # detection ran once: a second call sends just one request
    n = len(chat_bodies(s))
    b.generate(MSGS, schema=SCHEMA, max_tokens=200)
    assert len(chat_bodies(s)) == n + 1


def test_detection_distrusts_http_200_that_does_not_conform(server, backend):
    # the server returns JSON, but not the probe's: an ignored field must not be trusted
    s = server(honours=(), text='{"findings": []}')
    b = backend(s.url)
    assert b.structured_mode() == "none"
    assert [("structured_outputs" in x, "response_format" in x) for x in chat_bodies(s)] == [
        (True, False),
        (False, True),
    ]


def test_detected_mode_is_shared_per_server_and_forced_modes_skip_probing(server, backend):
    s = server()
    backend(s.url).generate(MSGS, schema=SCHEMA)
    n = len(chat_bodies(s))
    backend(s.url).generate(MSGS, schema=SCHEMA)  # a second backend for the same server
    assert len(chat_bodies(s)) == n + 1
    t = server()
    b = backend(t.url, structured="response_format")
    b.generate(MSGS, schema=SCHEMA)
    (only,) = chat_bodies(t)
    assert "response_format" in only


def test_schema_refused_by_server_falls_back_to_plain(server, backend):
    s = server()
    bad = {**SCHEMA, "x-unsupported": True}
    g = backend(s.url).generate(MSGS, schema=bad)
    last = chat_bodies(s)[-1]
    assert "structured_outputs" not in last and "response_format" not in last
    assert g.text == "Looks fine to me: nothing to report."


def test_invalid_settings():
    with pytest.raises(ConfigError):
        OpenAIBackend("http://127.0.0.1:1", "m", structured="guided_json")
    with pytest.raises(ConfigError):
        OpenAIBackend("127.0.0.1:8000", "m")


# ---------------------------------------------------------------------- choose
def test_choose_by_token_ids_renormalized(server, backend):
    s = server(next_tokens={"approve": -0.3, "reject": -1.6, "Hello": -2.5, "The": -0.9})
    b = backend(s.url)
    c = b.choose(MSGS, ["approve", "reject"])
    pa, pr = math.exp(-0.3), math.exp(-1.6)
    assert c.label == "approve"
    assert c.probabilities["approve"] == pytest.approx(pa / (pa + pr))
    assert c.probabilities["reject"] == pytest.approx(pr / (pa + pr))
    assert sum(c.probabilities.values()) == pytest.approx(1.0)
    assert c.probability == c.probabilities["approve"] and c.prompt_tokens > 0
    body = chat_bodies(s)[-1]
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] == 20
    assert body["return_tokens_as_token_ids"] is True
    assert body["structured_outputs"] == {"choice": ["approve", "reject"]}


def test_choose_by_prefix_without_tokenize(server, backend):
    # no /tokenize: a top token counts for the one label it is a prefix of (a leading space is tolerated)
    s = server(tokenize=False, honours=(), next_tokens={"appr": -0.5, "ap": -3.0, " rej": -1.0, "no": -0.1})
    c = backend(s.url).choose(MSGS, ["approve", "reject"])
    pa, pr = math.exp(-0.5) + math.exp(-3.0), math.exp(-1.0)
    assert c.probabilities["approve"] == pytest.approx(pa / (pa + pr))
    assert c.label == "approve"
    assert "structured_outputs" not in chat_bodies(s)[-1]


def test_choose_label_absent_from_top_tokens_gets_zero(server, backend):
    s = server(next_tokens={"approve": -0.3, "Hello": -0.1})
    c = backend(s.url).choose(MSGS, ["approve", "reject"])
    assert c.probabilities == {"approve": 1.0, "reject": 0.0}


def test_choose_rejects_labels_sharing_a_first_token(server, backend):
    s = server()
    with pytest.raises(ModelError, match="distinct"):
        backend(s.url).choose(MSGS, ["fix now", "fix later"])  # /tokenize: both start with "fix"
    t = server(tokenize=False, next_tokens={"fix": -0.1})
    with pytest.raises(ModelError, match="share a first token"):
        backend(t.url).choose(MSGS, ["fix-a", "fix-b"])


def test_choose_without_logprobs_uses_the_generated_token(server, backend):
    s = server(logprobs=False, next_tokens={"reject": -0.2, "approve": -0.4})
    c = backend(s.url).choose(MSGS, ["approve", "reject"])
    assert c.label == "reject" and c.probabilities == {"approve": 0.0, "reject": 1.0}


# ---------------------------------------------------------------------- score
@pytest.mark.parametrize("continuation", ["def f(x):\n    return x + 1", " leading space merges"])
def test_score_reads_prompt_logprobs_of_the_continuation(server, backend, continuation):
    s = server()
    sc = backend(s.url).score(MSGS, continuation)
    assert sc is not None
    pieces = [
        p for _, p in s.tokenize(s.render([*MSGS, {"role": "assistant", "content": continuation}], False))
    ]
    # the continuation's tokens are the prompt's tail; the first may merge with the template's "\n"
    acc, k = "", 0
    while len(acc) < len(continuation):
        k += 1
        acc = pieces[-k] + acc
    tail = pieces[-k:]
    assert sc.logprobs == tuple(StandIn.prompt_logprob(p) for p in tail)
    assert sc.offsets[0] == 0 and list(sc.offsets) == sorted(sc.offsets)
    for off, piece in zip(sc.offsets[1:], tail[1:]):
        assert continuation[off:].startswith(piece)
    body = chat_bodies(s)[-1]
    assert body["messages"][-1] == {"role": "assistant", "content": continuation}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert body["prompt_logprobs"] == 0


def test_score_unsupported_gives_none_once(server, backend):
    s = server(prompt_logprobs=False)  # llama.cpp / OpenAI: the field is ignored
    b = backend(s.url)
    assert b.score(MSGS, "some text") is None
    assert b.score(MSGS, "more text") is None
    assert len(chat_bodies(s)) == 1
    assert b.score(MSGS, "").logprobs == ()


# ---------------------------------------------------------------------- count_tokens
def test_count_tokens_uses_tokenize_or_estimates(server, backend):
    s = server()
    text = "def f(x): return x + 1"
    assert backend(s.url).count_tokens(text) == len(s.tokenize(text))
    t = server(tokenize=False)
    b = backend(t.url)
    assert b.count_tokens(text) == estimate_tokens(text)
    assert b.count_tokens(text) == estimate_tokens(text)
    assert t.paths().count("/tokenize") == 1  # a 404 is remembered


# ---------------------------------------------------------------------- faults
@pytest.mark.parametrize("kind", ["500", "503", "truncated", "close"])
def test_transient_faults_are_retried(server, backend, kind):
    s = server()
    s.fail(kind, times=2)
    t0 = time.monotonic()
    g = backend(s.url).generate(MSGS)
    assert g.text.startswith("Looks fine")
    assert len(chat_bodies(s)) == 3
    assert time.monotonic() - t0 < 2


def test_persistent_5xx_gives_one_line_model_error(server, backend):
    s = server()
    s.fail("503", times=10, message="engine\ndead")
    t0 = time.monotonic()
    with pytest.raises(ModelError) as info:
        backend(s.url, max_retries=2).generate(MSGS)
    msg = str(info.value)
    assert "\n" not in msg and "HTTP 503" in msg and "3 attempts" in msg
    assert len(chat_bodies(s)) == 3 and time.monotonic() - t0 < 2


def test_429_honours_retry_after(server, backend):
    s = server()
    s.fail("429", retry_after=1)
    t0 = time.monotonic()
    backend(s.url).generate(MSGS)
    assert 0.9 <= time.monotonic() - t0 < 3
    assert len(chat_bodies(s)) == 2


def test_429_beyond_the_budget_fails_at_once(server, backend):
    s = server()
    s.fail("429", retry_after=120)
    t0 = time.monotonic()
    with pytest.raises(ModelError, match="retry after 120 s"):
        backend(s.url, total_timeout=5).generate(MSGS)
    assert time.monotonic() - t0 < 1


def test_timeout_then_success(server, backend):
    s = server()
    s.fail("delay", seconds=1.5)
    t0 = time.monotonic()
    backend(s.url, timeout=0.3).generate(MSGS)
    assert time.monotonic() - t0 < 1.3


def test_hung_server_costs_bounded_time(server, backend):
    s = server()
    s.fail("delay", times=10, seconds=1.5)
    t0 = time.monotonic()
    with pytest.raises(ModelError, match="timed out"):
        backend(s.url, timeout=0.3, max_retries=10, total_timeout=1.0).generate(MSGS)
    assert time.monotonic() - t0 < 1.6


def test_connection_refused(backend):
    t0 = time.monotonic()
    with pytest.raises(ModelError, match="ConnectError"):
        backend(f"http://127.0.0.1:{free_port()}", structured="none").generate(MSGS)
    assert time.monotonic() - t0 < 2


def test_client_errors_are_not_retried(server, backend):
    s = server()
    with pytest.raises(ModelError, match="HTTP 404.*does not exist"):
        backend(s.url, model="nope").generate(MSGS)
    assert len(chat_bodies(s)) == 1


def test_circuit_breaker_opens_fails_fast_and_recovers(server, backend):
    s = server()
    s.fail("500", times=3)
    b = backend(s.url, max_retries=5, breaker_threshold=3, breaker_cooldown=0.4)
    with pytest.raises(ModelError, match="HTTP 500.*circuit open"):
        b.generate(MSGS)
    assert len(chat_bodies(s)) == 3 and b.breaker.is_open  # stopped retrying when it opened
    t0 = time.monotonic()
    with pytest.raises(ModelError, match="circuit open"):
        b.generate(MSGS)
    assert time.monotonic() - t0 < 0.05 and len(chat_bodies(s)) == 3
    assert b.count_tokens("abc def") == estimate_tokens("abc def")  # no request while open
    time.sleep(0.45)
    s.fail("500")  # the half-open trial fails: open again at once
    with pytest.raises(ModelError):
        b.generate(MSGS)
    assert len(chat_bodies(s)) == 4 and b.breaker.is_open
    time.sleep(0.45)
    s.fail("429", retry_after=0)  # a busy answer settles the trial too (the server is up)
    assert b.generate(MSGS).text.startswith("Looks fine")
    assert not b.breaker.is_open


# ---------------------------------------------------------------------- secrets, concurrency, lifecycle
def test_api_key_only_in_authorization_header_and_never_in_errors(server, backend):
    key = "sk-test-SECRET-4242"
    s = server(api_key=key)
    b = backend(s.url, api_key=key)
    b.generate(MSGS)
    b.count_tokens("abc")
    for _, path, headers, body in s.requests:
        assert headers["Authorization"] == f"Bearer {key}"
        assert key not in path and key not in json.dumps(body)
    assert key not in repr(b)
    s.fail("500", times=10, message=f"upstream said Authorization: Bearer {key}")
    with pytest.raises(ModelError) as info:
        backend(s.url, api_key=key, max_retries=1).generate(MSGS)
    assert key not in str(info.value) and "[redacted]" in str(info.value)  # server_message redacts it
    s.faults.clear()
    with pytest.raises(ModelError, match="check the API key") as info:
        backend(s.url, api_key="sk-wrong-key").generate(MSGS)
    assert "sk-wrong-key" not in str(info.value)


def test_concurrency_limit(server, backend):
    s = server()
    s.fail("delay", times=6, seconds=0.15)
    b = backend(s.url, concurrency=2)
    errors: list[Exception] = []

    def one() -> None:
        try:
            b.generate(MSGS)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and s.max_in_flight <= 2 and len(chat_bodies(s)) == 6


def test_context_manager_closes_the_client(server):
    s = server()
    with OpenAIBackend(s.url, "standin-model") as b:
        b.generate(MSGS)
        assert b.transport._client is not None
    assert b.transport._client is None
