"""What the CPU runtime needs out of a GGUF file, read with numpy and the `gguf` package only (no
torch, no transformers): the architecture's numbers, the tokenizer as a `tokenizers` JSON, the
chat template, and each weight as int8 groups of 32 with one float16 scale per group.

Int8 groups. Q8_0 and Q5_0 blocks are 32 integers under one float16 scale, so they become int8
groups exactly (the block's own scale, its integers unchanged). The k-quant tensors (Q4_K, Q6_K:
sub-blocks of 16 or 32 with 6-bit scales and minimums) are dequantized and re-quantized to int8
per group of 32 by absolute maximum: an error under 1/254 of the group's largest weight, a
fraction of their own 4- or 6-bit grid. 4-bit re-quantization is not offered: it moves scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

GROUP = 32
_EXACT_BLOCKS = {"Q8_0": 34, "Q5_0": 22}  # bytes per block of 32: the float16 scale comes first

# the split of text before byte-level BPE, as Qwen2's tokenizer learned its merges
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+"
)


@dataclass(frozen=True, slots=True)
class Arch:
    layers: int
    hidden: int
    ffn: int
    heads: int
    kv_heads: int
    rope_base: float
    eps: float
    vocab: int
    eos: tuple[int, ...]
    pad: int

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


@dataclass(frozen=True, slots=True)
class Int8:
    """A weight matrix (out, in) as int8 (out, in // 32, 32) times float16 scales (out, in // 32, 1)."""

    q: np.ndarray
    scale: np.ndarray

    def dequantize(self) -> np.ndarray:
        return (self.q.astype(np.float32) * self.scale.astype(np.float32)).reshape(self.q.shape[0], -1)


def open_gguf(path: Path) -> Any:
    from gguf import GGUFReader

    try:
        return GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} cannot be read as GGUF: {exc}") from exc


def _field(reader: Any, key: str) -> Any:
    f = reader.fields.get(key)
    if f is None:
        raise ModelError(f"GGUF metadata {key} missing")
    return f.contents()


def arch(reader: Any) -> Arch:
    a = _field(reader, "general.architecture")
    if a != "qwen2":
        raise ModelError(f"the CPU runtime builds Qwen2 models only; this GGUF is {a!r}")
    eos = int(_field(reader, "tokenizer.ggml.eos_token_id"))
    pad = int(_field(reader, "tokenizer.ggml.padding_token_id"))
    return Arch(
        layers=int(_field(reader, "qwen2.block_count")),
        hidden=int(_field(reader, "qwen2.embedding_length")),
        ffn=int(_field(reader, "qwen2.feed_forward_length")),
        heads=int(_field(reader, "qwen2.attention.head_count")),
        kv_heads=int(_field(reader, "qwen2.attention.head_count_kv")),
        rope_base=float(_field(reader, "qwen2.rope.freq_base")),
        eps=float(_field(reader, "qwen2.attention.layer_norm_rms_epsilon")),
        vocab=len(reader.fields["tokenizer.ggml.tokens"].data),
        eos=(eos,),
        pad=pad,
    )


def chat_template(reader: Any) -> str:
    return str(_field(reader, "tokenizer.chat_template"))


def tensors(reader: Any) -> dict[str, Any]:
    return {t.name: t for t in reader.tensors}


def vector(tensor: Any) -> np.ndarray:
    """A float32 tensor (norms, biases) as it is stored."""
    if tensor.tensor_type.name != "F32":
        raise ModelError(f"GGUF tensor {tensor.name} is {tensor.tensor_type.name}, expected F32")
    return np.array(tensor.data, dtype=np.float32).reshape(-1)


def int8(tensor: Any) -> Int8:
    """A weight as int8 groups of 32 (exact for Q8_0 and Q5_0, see the module's docstring)."""
    from gguf.quants import dequantize

    kind = tensor.tensor_type.name
    values = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32)
    rows = values.shape[0]
    grouped = values.reshape(rows, -1, GROUP)
    if kind in _EXACT_BLOCKS:
        raw = np.asarray(tensor.data, dtype=np.uint8).reshape(-1, _EXACT_BLOCKS[kind])
        scale = raw[:, :2].copy().view(np.float16).reshape(rows, -1, 1)
        safe = np.where(scale == 0, np.float16(1), scale).astype(np.float32)
        q = np.rint(grouped / safe)
    else:
        peak = np.abs(grouped).max(axis=2, keepdims=True)
        scale = (peak / 127.0).astype(np.float16)
        safe = np.where(scale == 0, np.float16(1), scale).astype(np.float32)
        q = np.rint(grouped / safe)
    if np.abs(q).max(initial=0) > 127:
        raise ModelError(f"GGUF tensor {tensor.name} does not fit int8 groups")
    return Int8(q.astype(np.int8), scale.astype(np.float16))


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: each byte as a printable character."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(keep)
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(keep, (chr(c) for c in chars)))


def tokenizer(reader: Any) -> Any:
    """The GGUF's byte-level BPE vocabulary as a `tokenizers.Tokenizer`: its merges, Qwen2's split,
    control tokens special, user-defined tokens added whole."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import BPE

    if _field(reader, "tokenizer.ggml.model") != "gpt2":
        raise ModelError("the CPU runtime reads byte-level BPE (gpt2) GGUF vocabularies only")
    tokens = [str(t) for t in _field(reader, "tokenizer.ggml.tokens")]
    types = [int(t) for t in _field(reader, "tokenizer.ggml.token_type")]
    merges = [tuple(str(m).split(" ")) for m in _field(reader, "tokenizer.ggml.merges")]
    spelling = _bytes_to_unicode()
    alphabet = set(spelling.values())
    vocab = {
        tok if set(tok) <= alphabet else "".join(spelling[b] for b in tok.encode("utf-8")): i
        for i, tok in enumerate(tokens)
    }
    tk = Tokenizer(BPE(vocab=vocab, merges=merges, fuse_unk=False))
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tk.decoder = decoders.ByteLevel()
    control = [t for t, kind in zip(tokens, types) if kind == 3 and set(t) <= alphabet]
    tk.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in control])
    user = [t for t, kind in zip(tokens, types) if kind == 4 and t in vocab]
    tk.add_tokens([AddedToken(t, normalized=False, special=False) for t in user])
    return tk
