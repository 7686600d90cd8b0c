"""The local backend's prefix cache on the real embedded model: same answers, fewer prefilled tokens.

The route choice's prompt is a token prefix of the route's prompt (the chosen label becomes an
assistant turn, the route's instructions a new user turn): with the cache, the route's generation
prefills only the new tokens. Each chain runs with and without the cache. In float32 the answers
agree to 1e-3 (the cache is exact); in bfloat16 (how the embedded model runs) a prefill split in
two rounds differently, by up to about 0.2 in a log-probability here, and the greedy text is the same.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("xgrammar")

from support.model_chats import ASK, LABELS, ROUTE, SCHEMA, SYSTEM, USER  # noqa: E402

from reviewbot.backends.local import LocalBackend  # noqa: E402
from reviewbot.config import load  # noqa: E402

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def backend() -> LocalBackend:
    b = LocalBackend(cache_dir=load({}, os.environ, None).cache)
    b.load()
    return b


def chain(b: LocalBackend, cache: bool):
    b.prefix_cache = cache
    b._kv, b._kv_ids = None, []
    before = (b.stats.prompt_tokens, b.stats.cached_tokens)
    c = b.choose([SYSTEM, USER], LABELS)
    g = b.generate(ROUTE, schema=SCHEMA, max_tokens=16)
    s_old = b.score(ASK, "def total(items):\n    n = len(items)\n")
    s_new = b.score(ASK, "def total(items):\n    n = len(items) - 1\n")
    used = (b.stats.prompt_tokens - before[0], b.stats.cached_tokens - before[1])
    return c, g, s_old, s_new, used


def compare(b: LocalBackend, tol: float) -> tuple:
    c1, g1, o1, n1, (asked1, cached1) = chain(b, True)
    c0, g0, o0, n0, (asked0, cached0) = chain(b, False)
    # (a) the same answers
    assert c1.label == c0.label
    assert all(abs(c1.probabilities[k] - c0.probabilities[k]) <= tol for k in LABELS)
    assert g1.text == g0.text and g1.generated_tokens == g0.generated_tokens
    assert max(abs(x - y) for x, y in zip(g1.token_logprobs, g0.token_logprobs)) <= tol
    for s1, s0 in ((o1, o0), (n1, n0)):
        assert s1.offsets == s0.offsets
        assert max(abs(x - y) for x, y in zip(s1.logprobs, s0.logprobs)) <= tol
    # (b) fewer tokens prefilled: the route's generation reuses the whole route-choice prompt
    assert c1.cached_tokens == 0 and g1.cached_tokens == c1.prompt_tokens
    assert g0.cached_tokens == 0 and cached0 == 0 and asked1 == asked0
    prefix = len(b._prompt_ids(ASK)[0])
    assert cached1 >= c1.prompt_tokens + prefix  # the second score reuses at least its prompt
    return g1, asked1, cached1


def test_prefix_cache_in_bfloat16_gives_the_same_greedy_answers(backend: LocalBackend) -> None:
    g, asked, cached = compare(backend, tol=0.3)
    assert g.text.startswith('{"bug"')  # under the schema (16 tokens: cut before the end)
    print(f"bf16: {asked} prompt tokens asked, {cached} from the cache, {asked - cached} prefilled")


def test_prefix_cache_is_exact_in_float32(backend: LocalBackend) -> None:
    import torch

    backend._model.to(torch.float32)
    try:
        compare(backend, tol=1e-3)
    finally:
        backend._model.to(torch.bfloat16)
        backend._kv, backend._kv_ids = None, []


def test_batch_of_work_items_matches_one_by_one(backend: LocalBackend) -> None:
    asks = [
        [{"role": "user", "content": "Is `n = len(items) - 1` a count of items? Answer in JSON."}],
        [{"role": "user", "content": "Does `open(path).read()` close the file? Answer in JSON."}],
    ]
    one = [backend.generate(a, schema=SCHEMA, max_tokens=12) for a in asks]
    batch = backend.generate_batch(asks, schema=SCHEMA, max_tokens=12)
    for b1, g1 in zip(batch, one):
        assert b1.prompt_tokens == g1.prompt_tokens
        # left padding changes bfloat16 rounding a little; the constrained greedy text agrees
        assert b1.text == g1.text, (b1.text, g1.text)
        assert b1.generated_tokens == len(b1.token_logprobs)


def test_a_failed_call_leaves_no_half_updated_cache(backend: LocalBackend, monkeypatch) -> None:
    backend.prefix_cache = True
    backend.choose([SYSTEM, USER], LABELS)
    assert backend._kv_ids

    def boom(*a, **k):
        raise RuntimeError("injected")

    monkeypatch.setattr(backend._model, "generate", boom)
    with pytest.raises(RuntimeError):
        backend.generate(ROUTE, max_tokens=4)
    assert backend._kv is None and backend._kv_ids == []


def test_embedded_model_plans_for_the_cpu_here(backend: LocalBackend) -> None:
    assert backend.plan is not None and (backend.plan.device, backend.plan.quantization) == ("cpu", None)


def test_the_embedded_model_speaks_qwen25(backend: LocalBackend) -> None:
    from reviewbot.backends.formats import QWEN25

    assert backend.chat_format is QWEN25
    # the format renders what the backend sends to the model
    text = backend._tok.decode(backend._prompt_ids([SYSTEM, USER])[0])
    assert text == QWEN25.render([SYSTEM, USER])
