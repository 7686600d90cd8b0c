"""LocalBackend: concurrent generate() calls decoded in one batch, on a tiny random GLM model (CPU,
float32; bench/gpu.py's builder and byte tokenizer), against the same calls made one by one."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from reviewbot.backends.local import LocalBackend  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "bench" / "gpu.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def parts():
    from transformers import GlmForCausalLM

    bench = bench_module()
    config = bench.glm_config(tiny=True)
    torch.manual_seed(0)
    model = GlmForCausalLM(config).float().eval()
    return model, bench.byte_tokenizer(config.vocab_size)


def chats(n: int) -> list[list[dict[str, str]]]:
    return [
        [{"role": "user", "content": "check " + "x" * (5 * i + 3)}] for i in range(n)
    ]  # different lengths


def test_concurrent_calls_are_batched_and_match_one_by_one(parts) -> None:
    model, tok = parts
    one = LocalBackend.from_model(model, tok, model_id="tiny")
    expected = [one._generate_one(c, None, 6) for c in chats(4)]
    b = LocalBackend.from_model(model, tok, model_id="tiny")
    b.max_batch, b.batch_window = 4, 2.0  # a long window: all four callers arrive within it
    results: dict[int, object] = {}
    barrier = threading.Barrier(4)

    def call(i: int, chat) -> None:
        barrier.wait()
        results[i] = b.generate(chat, max_tokens=6)

    threads = [threading.Thread(target=call, args=(i, c)) for i, c in enumerate(chats(4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert b.stats.batches == 1  # one batch of four, not four calls
    for i, e in enumerate(expected):
        g = results[i]
        assert (g.text, g.prompt_tokens, g.generated_tokens) == (e.text, e.prompt_tokens, e.generated_tokens)
        assert max(abs(x - y) for x, y in zip(g.token_logprobs, e.token_logprobs)) < 1e-4


def test_different_limits_are_not_mixed_and_a_lone_call_uses_the_prefix_cache(parts) -> None:
    model, tok = parts
    b = LocalBackend.from_model(model, tok, model_id="tiny")
    b.max_batch, b.batch_window = 4, 0.05
    first = b.generate(chats(1)[0], max_tokens=3)  # alone in its window: the single path
    assert b.stats.batches == 0 and first.generated_tokens == 3
    again = b.generate(chats(1)[0], max_tokens=3)
    assert again.cached_tokens == again.prompt_tokens - 1 and again.text == first.text
    out: list = []
    ts = [
        threading.Thread(target=lambda n=n: out.append(b.generate(chats(1)[0], max_tokens=n))) for n in (2, 4)
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert sorted(g.generated_tokens for g in out) == [2, 4] and b.stats.batches == 0


def test_a_failing_batch_raises_in_every_caller(parts, monkeypatch) -> None:
    model, tok = parts
    b = LocalBackend.from_model(model, tok, model_id="tiny")
    b.max_batch, b.batch_window = 2, 2.0

    def boom(*a, **k):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(b, "generate_batch", boom)
    errors: list[str] = []
    barrier = threading.Barrier(2)

    def call(c) -> None:
        barrier.wait()
        try:
            b.generate(c, max_tokens=2)
        except RuntimeError as exc:
            errors.append(str(exc))

    ts = [threading.Thread(target=call, args=(c,)) for c in chats(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert errors == ["injected failure", "injected failure"]
