"""The Qwen2 decoder as an OpenVINO graph, built with OpenVINO's own opset API from the GGUF's
weights (gguf_read.py): no torch, no transformers, no export step.

The graph takes the token embeddings (looked up outside it, from int8 rows), the past keys and
values of every layer, and `targets`: the token ids that the last K positions should predict
(K = len(targets)). It returns the last position's logits, the log-probability of each target
at its position, and the keys and values of all positions so far (the next call's past).
Scoring a continuation therefore computes a (K, vocab) matrix inside the graph and hands back K
numbers; choosing and decoding pass one dummy target.

Weights stay int8 in groups of 32 with a float16 scale (Convert, Multiply, Reshape before each
MatMul): the pattern OpenVINO's CPU plugin runs as int8-weight matrix products.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import gguf_read
from .gguf_read import Arch, Int8


def _ops() -> Any:
    import openvino.opset13 as ops

    return ops


def _i64(values: list[int]) -> Any:
    return _ops().constant(np.array(values, dtype=np.int64))


def _linear(x: Any, w: Int8, bias: np.ndarray | None = None) -> Any:
    """x (..., in) @ w.T (+ bias), w kept as int8 groups."""
    ops = _ops()
    out_features = w.q.shape[0]
    q = ops.constant(w.q)
    scale = ops.constant(w.scale)
    deq = ops.multiply(ops.convert(q, "f16"), scale)
    deq = ops.reshape(deq, _i64([out_features, -1]), special_zero=False)
    deq = ops.convert(deq, "f32")
    y = ops.matmul(x, deq, transpose_a=False, transpose_b=True)
    if bias is not None:
        y = ops.add(y, ops.constant(bias.astype(np.float32)))
    return y


def _rms_norm(x: Any, weight: np.ndarray, eps: float) -> Any:
    ops = _ops()
    var = ops.reduce_mean(ops.multiply(x, x), _i64([-1]), keep_dims=True)
    inv = ops.sqrt(ops.add(var, ops.constant(np.float32(eps))))
    return ops.multiply(ops.divide(x, inv), ops.constant(weight.astype(np.float32)))


def _rotate_half(x: Any, half: int) -> Any:
    ops = _ops()
    first = ops.slice(x, _i64([0]), _i64([half]), _i64([1]), _i64([3]))
    second = ops.slice(x, _i64([half]), _i64([2 * half]), _i64([1]), _i64([3]))
    return ops.concat([ops.negative(second), first], axis=3)


def _heads(x: Any, heads: int, head_dim: int) -> Any:
    """(1, T, heads * head_dim) -> (1, heads, T, head_dim)"""
    ops = _ops()
    x = ops.reshape(x, _i64([0, 0, heads, head_dim]), special_zero=True)
    return ops.transpose(x, _i64([0, 2, 1, 3]))


def _repeat_kv(x: Any, groups: int, kv_heads: int, head_dim: int) -> Any:
    """(1, kv, S, d) -> (1, kv * groups, S, d), each key/value head shared by `groups` query heads."""
    ops = _ops()
    if groups == 1:
        return x
    x = ops.unsqueeze(x, _i64([2]))  # (1, kv, 1, S, d)
    shape = ops.shape_of(x, "i64")
    target = ops.concat(
        [
            ops.gather(shape, _i64([0, 1]), _i64([0])),
            _i64([groups]),
            ops.gather(shape, _i64([3, 4]), _i64([0])),
        ],
        axis=0,
    )
    x = ops.broadcast(x, target)
    return ops.reshape(x, _i64([0, kv_heads * groups, -1, head_dim]), special_zero=True)


def build(reader: Any, arch: Arch) -> Any:
    """The whole decoder as an `openvino.Model` (see the module's docstring for its inputs and outputs)."""
    import openvino as ov

    ops = _ops()
    t = gguf_read.tensors(reader)
    d, hd = arch.hidden, arch.head_dim
    embeds = ops.parameter([1, -1, d], np.float32, name="inputs_embeds")
    targets = ops.parameter([-1], np.int64, name="targets")
    pasts: list[tuple[Any, Any]] = []
    for i in range(arch.layers):
        pk = ops.parameter([1, arch.kv_heads, -1, hd], np.float32, name=f"past_key.{i}")
        pv = ops.parameter([1, arch.kv_heads, -1, hd], np.float32, name=f"past_value.{i}")
        pasts.append((pk, pv))

    # positions past_len .. past_len + T - 1, their rotary angles, and the causal mask (T, past + T)
    past_len = ops.gather(ops.shape_of(pasts[0][0], "i64"), _i64([2]), _i64([0]))
    new_len = ops.gather(ops.shape_of(embeds, "i64"), _i64([1]), _i64([0]))
    total = ops.add(past_len, new_len)
    scalar = _i64([])  # a shape of rank 0
    p0 = ops.reshape(past_len, scalar, special_zero=False)
    tot = ops.reshape(total, scalar, special_zero=False)
    positions = ops.range(p0, tot, ops.constant(np.int64(1)), "i64")
    inv_freq = 1.0 / (arch.rope_base ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    freqs = ops.multiply(
        ops.unsqueeze(ops.convert(positions, "f32"), _i64([1])),
        ops.constant(inv_freq.astype(np.float32).reshape(1, -1)),
    )
    angles = ops.concat([freqs, freqs], axis=1)  # (T, d)
    cos = ops.unsqueeze(ops.cos(angles), _i64([0, 1]))  # (1, 1, T, d)
    sin = ops.unsqueeze(ops.sin(angles), _i64([0, 1]))
    keys = ops.range(ops.constant(np.int64(0)), tot, ops.constant(np.int64(1)), "i64")
    allowed = ops.less_equal(ops.unsqueeze(keys, _i64([0])), ops.unsqueeze(positions, _i64([1])))
    mask = ops.select(allowed, ops.constant(np.float32(0)), ops.constant(np.float32(-np.inf)))

    def rope(x: Any) -> Any:
        return ops.add(ops.multiply(x, cos), ops.multiply(_rotate_half(x, hd // 2), sin))

    x = embeds
    presents = []
    groups = arch.heads // arch.kv_heads
    for i in range(arch.layers):
        b = f"blk.{i}."
        h = _rms_norm(x, gguf_read.vector(t[b + "attn_norm.weight"]), arch.eps)
        q = _linear(h, gguf_read.int8(t[b + "attn_q.weight"]), gguf_read.vector(t[b + "attn_q.bias"]))
        k = _linear(h, gguf_read.int8(t[b + "attn_k.weight"]), gguf_read.vector(t[b + "attn_k.bias"]))
        v = _linear(h, gguf_read.int8(t[b + "attn_v.weight"]), gguf_read.vector(t[b + "attn_v.bias"]))
        q = rope(_heads(q, arch.heads, hd))
        k = rope(_heads(k, arch.kv_heads, hd))
        v = _heads(v, arch.kv_heads, hd)
        k_all = ops.concat([pasts[i][0], k], axis=2)
        v_all = ops.concat([pasts[i][1], v], axis=2)
        presents += [ops.result(k_all, name=f"present_key.{i}"), ops.result(v_all, name=f"present_value.{i}")]
        attn = ops.scaled_dot_product_attention(
            q,
            _repeat_kv(k_all, groups, arch.kv_heads, hd),
            _repeat_kv(v_all, groups, arch.kv_heads, hd),
            mask,
            ops.constant(np.float32(1.0 / np.sqrt(hd))),
            causal=False,
        )
        attn = ops.reshape(ops.transpose(attn, _i64([0, 2, 1, 3])), _i64([0, 0, d]), special_zero=True)
        x = ops.add(x, _linear(attn, gguf_read.int8(t[b + "attn_output.weight"])))
        h = _rms_norm(x, gguf_read.vector(t[b + "ffn_norm.weight"]), arch.eps)
        gate = _linear(h, gguf_read.int8(t[b + "ffn_gate.weight"]))
        up = _linear(h, gguf_read.int8(t[b + "ffn_up.weight"]))
        x = ops.add(x, _linear(ops.multiply(ops.swish(gate), up), gguf_read.int8(t[b + "ffn_down.weight"])))

    x = _rms_norm(x, gguf_read.vector(t["output_norm.weight"]), arch.eps)
    head = gguf_read.int8(t["output.weight"] if "output.weight" in t else t["token_embd.weight"])
    # the last K positions (K = len(targets)), each scored against its target
    k_len = ops.gather(ops.shape_of(targets, "i64"), _i64([0]), _i64([0]))
    last = ops.slice(x, ops.negative(k_len), _i64([np.iinfo(np.int64).max]), _i64([1]), _i64([1]))
    logits = _linear(ops.squeeze(last, _i64([0])), head)  # (K, vocab)
    logprobs = ops.log_softmax(logits, axis=1)
    picked = ops.squeeze(ops.gather_elements(logprobs, ops.unsqueeze(targets, _i64([1])), axis=1), _i64([1]))
    final = ops.slice(logits, _i64([-1]), _i64([np.iinfo(np.int64).max]), _i64([1]), _i64([0]))
    outputs = [
        ops.result(ops.squeeze(final, _i64([0])), name="logits"),
        ops.result(picked, name="target_logprobs"),
        *presents,
    ]
    params = [embeds, targets, *[p for pair in pasts for p in pair]]
    model = ov.Model(outputs, params, "qwen2")
    for out, node in zip(model.outputs, outputs):
        out.get_tensor().set_names({node.friendly_name})
    return model


def embedding_table(reader: Any) -> gguf_read.Int8:
    """The token embedding rows as int8 groups; the backend looks rows up itself."""
    return gguf_read.int8(gguf_read.tensors(reader)["token_embd.weight"])
