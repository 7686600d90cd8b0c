"""The local backend's text side, on the tokenizer and model objects it is given (no torch import):
control strings defused in prompt text, the end-of-sequence ids, a generate() row read back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..errors import ModelError
from ..ports import Generation


def control_strings(tok: Any) -> tuple[str, ...]:
    """The tokenizer's added tokens longer than one character (`<|im_end|>`, `<tool_call>`, ...)."""
    return tuple(t.content for t in tok.added_tokens_decoder.values() if len(t.content) > 1)


def defuse(text: str, specials: tuple[str, ...]) -> str:
    """Break the control strings inside message text, so PR content cannot close a turn or open
    one: the tokenizer would otherwise read them as the real special tokens. A zero-width space
    after the first character does it."""
    for sp in specials:
        if sp in text:
            text = text.replace(sp, sp[0] + "\u200b" + sp[1:])
    return text


def eos_ids(model: Any, tok: Any) -> list[int]:
    eos = model.generation_config.eos_token_id
    ids = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
    return ids + ([tok.eos_token_id] if tok.eos_token_id is not None else [])


def read_generation(
    out: Any, row: int, start: int, t0: float, *, tok: Any, eos: set[int], prompt_tokens: int | None = None
) -> Generation:
    """Row `row` of a generate() output: text, greedy tokens' log-probabilities (up to the end of
    sequence: a finished row of a batch is padded afterwards)."""
    new = out.sequences[row, start:].tolist()
    logprobs: list[float] = []
    kept: list[int] = []
    for step, tok_id in enumerate(new):
        logprobs.append(float(out.logits[step][row].float().log_softmax(dim=-1)[tok_id]))
        kept.append(tok_id)
        if tok_id in eos:
            break
    text = tok.decode(kept, skip_special_tokens=True)
    return Generation(
        text=text,
        prompt_tokens=start if prompt_tokens is None else prompt_tokens,
        generated_tokens=len(kept),
        seconds=time.perf_counter() - t0,
        token_logprobs=tuple(logprobs),
    )


def label_token_ids(tok: Any, labels: Sequence[str]) -> list[int]:
    """Each label's first token id; the labels must start with distinct tokens. ``tok`` is a
    transformers tokenizer (``encode`` gives ids) or a ``tokenizers.Tokenizer`` (``encode`` gives an
    ``Encoding`` with ``ids``)."""
    firsts = []
    for label in labels:
        ids = tok.encode(label, add_special_tokens=False)
        ids = getattr(ids, "ids", ids)
        if not ids:
            raise ModelError(f"label {label!r} encodes to no tokens")
        firsts.append(ids[0])
    if len(set(firsts)) != len(firsts):
        raise ModelError(f"labels {list(labels)} do not start with distinct tokens of this tokenizer")
    return firsts
