"""The chat completions API's payloads and answers, read without I/O: schema constraints, the
first choice, label probabilities from top log-probabilities, prompt log-probabilities."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import ModelError

TOP_LOGPROBS = 20

_TOKEN_ID = re.compile(r"token_id:(-?\d+)$")


def with_schema(payload: dict[str, Any], mode: str, schema: Mapping) -> dict[str, Any]:
    """`payload` with `schema` as the constraint of `mode` (none: unchanged)."""
    payload = dict(payload)
    if mode == "structured_outputs":
        payload["structured_outputs"] = {"json": dict(schema)}
    elif mode == "response_format":
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "review", "schema": dict(schema), "strict": True},
        }
    return payload


def first_choice(data: Mapping) -> Mapping:
    choices = data.get("choices")
    if not choices or not isinstance(choices[0], Mapping):
        raise ModelError("openai backend: the server's answer has no choices")
    return choices[0]


def content(choice: Mapping) -> str:
    msg = choice.get("message") or {}
    return str(msg.get("content") or "") if isinstance(msg, Mapping) else ""


def _entry_token(entry: Mapping) -> str:
    return str(entry.get("token") or "")


def _entry_id(entry: Mapping) -> int | None:
    if isinstance(entry.get("id"), int):  # llama.cpp
        return int(entry["id"])
    m = _TOKEN_ID.match(_entry_token(entry))  # vLLM return_tokens_as_token_ids
    return int(m.group(1)) if m else None


def _entry_key(entry: Mapping) -> tuple[int | None, str]:
    return (_entry_id(entry), _entry_token(entry))


def prefix_hits(token: str, labels: Sequence[str]) -> list[str]:
    """Labels this decoded token could start (a leading space is tolerated when the label has none)."""
    if _TOKEN_ID.match(token):
        return []
    hits = []
    for label in labels:
        for t in (token, token.lstrip()):
            if t and label.startswith(t):
                hits.append(label)
                break
    return hits


def label_mass(
    first: Mapping | None, labels: Sequence[str], firsts: Sequence[int] | None
) -> tuple[dict[str, float], set[str]]:
    """Each label's probability mass among the first position's top tokens (matched by token id
    where `firsts` are known, else by prefix), and the top tokens that several labels share."""
    mass = dict.fromkeys(labels, 0.0)
    ambiguous: set[str] = set()
    if first is None:
        return mass, ambiguous
    entries = [e for e in (first.get("top_logprobs") or []) if isinstance(e, Mapping)]
    if not any(_entry_key(e) == _entry_key(first) for e in entries):
        entries.append(first)  # the sampled token, when it is not among the top ones
    for e in entries:
        lp_value = e.get("logprob")
        if lp_value is None:
            continue
        p = math.exp(max(float(lp_value), -1e4))
        tid = _entry_id(e)
        if firsts is not None and tid is not None:
            hits = [lb for lb, f in zip(labels, firsts) if f == tid]
        else:
            hits = prefix_hits(_entry_token(e), labels)
        if len(hits) == 1:
            mass[hits[0]] += p
        elif len(hits) > 1:
            ambiguous.add(_entry_token(e))
    return mass, ambiguous


def prompt_pieces(plps: Sequence[Any], ids: Sequence[Any] | None) -> list[tuple[str, float]] | None:
    """(decoded token, log-probability) of each prompt token from vLLM's ``prompt_logprobs``;
    None when an entry does not say which of its tokens is the prompt's own."""
    pieces: list[tuple[str, float]] = []
    for i, entry in enumerate(plps):
        if not isinstance(entry, Mapping) or not entry:
            pieces.append(("", 0.0))  # the first prompt token has no log-probability
            continue
        if ids is not None and str(ids[i]) in entry:
            item = entry[str(ids[i])]
        elif len(entry) == 1:
            item = next(iter(entry.values()))
        else:
            return None  # cannot tell which entry is the prompt's own token
        if not isinstance(item, Mapping) or item.get("decoded_token") is None:
            return None
        pieces.append((str(item["decoded_token"]), float(item.get("logprob", 0.0))))
    return pieces


def match_tail(
    pieces: Sequence[tuple[str, float]], continuation: str
) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
    """The prompt tokens that spell `continuation` at its end, and where each starts in it.

    Chat templates may trim the message, and the first token may merge with the template's text
    before it (a newline, a space): that token's offset is clamped to 0."""
    lead = len(continuation) - len(continuation.lstrip())
    for target, shift in ((continuation, 0), (continuation.rstrip(), 0), (continuation.strip(), lead)):
        if not target:
            continue
        acc = ""
        k = 0
        for text, _ in reversed(pieces):
            acc = text + acc
            k += 1
            if len(acc) >= len(target):
                break
        if not acc.endswith(target) or k == 0:
            continue
        tail = pieces[len(pieces) - k :]
        pos = len(target) - len(acc)
        offsets = []
        for text, _ in tail:
            offsets.append(max(pos, 0) + shift)
            pos += len(text)
        return tuple(lp for _, lp in tail), tuple(offsets)
    return None
