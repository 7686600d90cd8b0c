"""The OpenVINO backend's parts that need no model: GGUF blocks to int8 groups, the converted
model's verification, the JSON schema made strict. The model itself: test_openvino_model.py."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reviewbot.backends import gguf_read, ov_cache
from reviewbot.backends.ov_text import strict_schema
from reviewbot.errors import ModelError

gguf = pytest.importorskip("gguf")


@dataclass
class Tensor:
    """What gguf_read takes of a GGUFReader tensor."""

    name: str
    tensor_type: Any
    data: np.ndarray


def quantized(kind: str, rows: int = 8, cols: int = 256, seed: int = 0) -> Tensor:
    from gguf.quants import quantize

    t = gguf.GGMLQuantizationType[kind]
    w = np.random.default_rng(seed).normal(0, 0.05, size=(rows, cols)).astype(np.float32)
    return Tensor(f"w.{kind}", t, quantize(w, t))


@pytest.mark.parametrize("kind", ["Q8_0", "Q5_0"])
def test_block_quants_become_int8_groups_exactly(kind: str) -> None:
    from gguf.quants import dequantize

    t = quantized(kind)
    w = gguf_read.int8(t)
    assert w.q.dtype == np.int8 and w.q.shape == (8, 256 // 32, 32) and w.scale.shape == (8, 8, 1)
    np.testing.assert_array_equal(w.dequantize(), dequantize(t.data, t.tensor_type))


# k-quant super-blocks of 256 values: bytes per block, where their float16 scales lie
K_QUANTS = {"Q4_K": (144, (0, 2)), "Q6_K": (210, (208,))}


def random_k_quant(kind: str, rows: int = 8, cols: int = 256, seed: int = 0) -> Tensor:
    """Random blocks (gguf's Python quantizer has no k-quants) with small, finite scales."""
    size, scale_at = K_QUANTS[kind]
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(rows * cols // 256, size), dtype=np.uint8)
    for at in scale_at:
        d = rng.uniform(1e-4, 1e-3, size=len(blocks)).astype(np.float16)
        blocks[:, at : at + 2] = d.view(np.uint8).reshape(-1, 2)
    return Tensor(f"w.{kind}", gguf.GGMLQuantizationType[kind], blocks.reshape(rows, -1))


@pytest.mark.parametrize("kind", sorted(K_QUANTS))
def test_k_quants_become_int8_groups_within_half_a_step(kind: str) -> None:
    from gguf.quants import dequantize

    t = random_k_quant(kind)
    w = gguf_read.int8(t)
    ref = dequantize(t.data, t.tensor_type).reshape(8, -1, 32)
    step = np.abs(ref).max(axis=2, keepdims=True) / 127
    err = np.abs(w.dequantize().reshape(8, -1, 32) - ref)
    assert (err <= step * 0.5 + 1e-3 * step + 1e-7).all()
    assert err.max() > 0  # re-quantized, not copied


def write_cache(directory: Path) -> None:
    directory.mkdir(parents=True)
    for name in ov_cache.FILES:
        (directory / name).write_bytes(f"contents of {name}".encode())
    (directory / "MANIFEST.json").write_bytes(ov_cache._manifest(directory))


def test_verify_reads_the_files_it_checked(tmp_path: Path) -> None:
    d = tmp_path / "openvino-int8"
    write_cache(d)
    pin = ov_cache._sha256((d / "MANIFEST.json").read_bytes())
    v = ov_cache.verify(d, expected=pin)
    assert v.text("arch.json") == "contents of arch.json"
    assert set(v.files) == set(ov_cache.FILES)


def test_verify_refuses_an_edited_file(tmp_path: Path) -> None:
    d = tmp_path / "openvino-int8"
    write_cache(d)
    pin = ov_cache._sha256((d / "MANIFEST.json").read_bytes())
    (d / "model.bin").write_bytes(b"other weights")
    with pytest.raises(ModelError, match="model.bin does not match its manifest"):
        ov_cache.verify(d, expected=pin)


def test_verify_refuses_a_manifest_rewritten_to_match(tmp_path: Path) -> None:
    """Whoever can write the cache can rewrite the manifest too: the pin outside the cache catches it."""
    d = tmp_path / "openvino-int8"
    write_cache(d)
    pin = ov_cache._sha256((d / "MANIFEST.json").read_bytes())
    (d / "model.bin").write_bytes(b"other weights")
    (d / "MANIFEST.json").write_bytes(ov_cache._manifest(d))
    with pytest.raises(ModelError, match="manifest .* has sha256"):
        ov_cache.verify(d, expected=pin)


def test_the_pinned_digest_is_set() -> None:
    assert len(ov_cache.CONVERTED_SHA256) == 64


def test_strict_schema_closes_objects_that_do_not_say() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
            "open": {"type": "object", "additionalProperties": True},
        },
    }
    out = strict_schema(schema)
    assert out["additionalProperties"] is False
    assert out["properties"]["items"]["items"]["additionalProperties"] is False
    assert out["properties"]["open"]["additionalProperties"] is True
    assert "additionalProperties" not in schema  # the caller's schema is not changed
    assert json.loads(json.dumps(out)) == out


def test_verify_reads_only_the_files_named_and_still_checks_them(tmp_path: Path) -> None:
    d = tmp_path / "openvino-int8"
    write_cache(d)
    pin = ov_cache._sha256((d / "MANIFEST.json").read_bytes())
    v = ov_cache.verify(d, expected=pin, names=ov_cache.TEXT_FILES)
    assert set(v.files) == set(ov_cache.TEXT_FILES)
    (d / "tokenizer.json").write_bytes(b"another tokenizer")
    with pytest.raises(ModelError, match="tokenizer.json does not match its manifest"):
        ov_cache.verify(d, expected=pin, names=ov_cache.TEXT_FILES)


def test_a_model_loading_in_the_background_is_waited_for_once(tmp_path: Path) -> None:
    from reviewbot.backends.openvino_backend import OpenVINOBackend

    b = OpenVINOBackend(cache_dir=tmp_path)
    loads: list[str] = []

    def slow_load() -> None:
        loads.append(threading.current_thread().name)
        time.sleep(0.3)
        b._request = object()

    b._load = slow_load  # type: ignore[method-assign]
    b.load_in_background()
    b.load_in_background()  # already under way: no second thread
    while not loads:  # the thread has started loading (and holds the model's lock)
        time.sleep(0.01)
    b.load()  # waits for the thread's load, does not load again
    assert loads == ["reviewbot-model-load"] and b._request is not None


def test_a_background_load_that_fails_raises_where_the_model_is_needed(tmp_path: Path) -> None:
    from reviewbot.backends.openvino_backend import OpenVINOBackend

    b = OpenVINOBackend(cache_dir=tmp_path)
    loads: list[str] = []

    def failing_load() -> None:
        loads.append("load")
        raise ModelError("converting the embedded model failed: no space left")

    b._load = failing_load  # type: ignore[method-assign]
    b.load_in_background()
    assert b._loader is not None
    b._loader.join()
    with pytest.raises(ModelError, match="no space left"):
        b.load()
    assert loads == ["load"]  # not tried a second time
    with pytest.raises(ModelError, match="no space left"):
        b.load()  # a later call (a long-lived worker's next review) tries again
    assert loads == ["load", "load"]


def test_two_threads_that_need_the_model_at_once_convert_it_once(tmp_path: Path, monkeypatch) -> None:
    """The tokenizer (planning) and the model (loading beside it) ask for an empty cache together."""
    target = ov_cache.root(tmp_path)
    probe = tmp_path / "probe"
    write_cache(probe)
    monkeypatch.setattr(
        ov_cache, "CONVERTED_SHA256", ov_cache._sha256((probe / "MANIFEST.json").read_bytes())
    )
    converts: list[str] = []

    def convert(cache_dir: Path, status) -> Path:
        converts.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for the other thread to find no cache too
        write_cache(target)
        return target

    monkeypatch.setattr(ov_cache, "convert", convert)
    got: dict[str, ov_cache.Verified] = {}

    def need(names: tuple[str, ...]) -> None:
        got[threading.current_thread().name] = ov_cache.load(tmp_path, lambda s: None, names=names)

    threads = [
        threading.Thread(target=need, args=(ov_cache.TEXT_FILES,), name="plan"),
        threading.Thread(target=need, args=(ov_cache.FILES,), name="load"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(converts) == 1
    assert set(got["plan"].files) == set(ov_cache.TEXT_FILES) and set(got["load"].files) == set(
        ov_cache.FILES
    )


def test_prefixes_left_by_the_next_call_are_stashed_and_found_again() -> None:
    """The prefix cache keeps the last call whole and, beside it, the first STASH_TOKENS of the
    calls it left: the longest prefix any of them shares with a new call is what that call reuses."""
    from reviewbot.backends import ov_prefix as ovb

    b = ovb.PrefixCache()

    def kv(ids: list[int]) -> list[np.ndarray]:  # one layer's keys and values, marked by token
        rows = np.asarray(ids, dtype=np.float32).reshape(1, 1, -1, 1)
        return [rows.copy(), -rows]

    route_a = [1, 2, 3, 4, 10, 11]  # a system prompt (1..4) and an item
    score = [7, 8, 9, 20]
    b.keep(route_a, kv(route_a))
    b.keep(score, kv(score))  # leaves route_a: stashed
    p, held = b.find([1, 2, 3, 4, 12, 13], limit=5)
    assert p == 4 and held[0][0, 0, :4, 0].tolist() == [1, 2, 3, 4]
    b.keep(score + [21], kv(score + [21]))  # extends the last call: nothing new is stashed
    assert [ids for ids, _ in b.stash] == [route_a]
    for n in range(ovb.STASH + 2):  # only STASH prefixes are kept, newest first
        b.keep([100 + n], kv([100 + n]))
    assert len(b.stash) == ovb.STASH and b.stash[0][0] == [100 + ovb.STASH]
    long = list(range(1000, 1000 + ovb.STASH_TOKENS + 50))
    b.keep(long, kv(long))
    b.keep([5], kv([5]))
    assert len(b.stash[0][0]) == ovb.STASH_TOKENS and b.stash[0][1][0].shape[2] == ovb.STASH_TOKENS
    b.keep(long + [9], kv(long + [9]))  # a call that holds a stashed prefix whole takes its place
    assert all(ids != long[: ovb.STASH_TOKENS] for ids, _ in b.stash)
    b.enabled = False
    assert b.find(long, limit=len(long)) == (0, [])
