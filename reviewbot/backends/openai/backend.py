"""`OpenAIBackend`: the four verbs over one Transport (transport.py).

The verbs (ports.ModelBackend), and what each needs from the server:

- generate: ``POST /v1/chat/completions``, temperature 0, ``logprobs: true`` (per-token log-probabilities
  are returned when the server honours it); with a JSON schema, the constraint probe.py found.
- choose: one request with ``max_tokens=1``, ``logprobs``, ``top_logprobs=20`` (plus
  ``structured_outputs: {"choice": labels}`` where that mode was detected); the labels' probabilities
  are read from the first position's top log-probabilities and renormalized over the labels. The
  model's tokenizer is remote, so: when the server has ``/tokenize`` (vLLM, llama.cpp) each label's
  first token id is looked up and matched exactly (vLLM's ``return_tokens_as_token_ids``, llama.cpp's
  ``id`` field); otherwise a top token counts for a label when it is a prefix of that label and of no
  other. Limitations: labels must start with distinct first tokens and no label's first token may
  be a prefix of another label (shared first tokens raise ModelError); a label whose first token is
  not among the top 20 gets probability 0; a server without logprobs gives probability 1 to the label
  its one generated token starts.
- score: vLLM only. The chat template cannot be rendered here, so the continuation is sent as a final
  assistant message with ``continue_final_message: true``, ``add_generation_prompt: false`` and
  ``prompt_logprobs: 0`` on ``/v1/chat/completions``; the continuation's tokens are the tail of the
  prompt, found by matching the returned decoded tokens against the text. A server that does not
  return prompt log-probabilities (llama.cpp, OpenAI) or a tail that does not decode back to the
  text gives None: the review route then does not judge.
- count_tokens: the server's ``POST /tokenize`` (vLLM, llama.cpp) when it exists, else
  ``tokens.estimate_tokens`` (about 3.5 characters a token).

GLM-family models need ``stop_token_ids=GLM_STOP_TOKEN_IDS`` (vLLM field): sent by default when the
served model's name says GLM-4 or CodeGeeX4 (formats.detect).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import ConfigError, ModelError
from ...ports import Choice, Generation, Message, Scored
from ...tokens import estimate_tokens
from ..formats import detect
from .probe import PROBE_MAX_TOKENS, PROBE_MESSAGES, STRUCTURED_MODES, detect_mode
from .transport import HTTPRejected, Transient, Transport
from .wire import (
    TOP_LOGPROBS,
    content,
    first_choice,
    label_mass,
    match_tail,
    prefix_hits,
    prompt_pieces,
    with_schema,
)

CHAT = "/v1/chat/completions"


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 60,
        max_retries: int = 3,
        concurrency: int = 4,
        structured: str = "auto",
        stop_token_ids: Sequence[int] | None = None,
        total_timeout: float | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 30.0,
        transport: Any = None,
    ) -> None:
        """`transport`: an ``httpx.BaseTransport`` to send through (tests: ``httpx.MockTransport``)."""
        if structured not in STRUCTURED_MODES:
            raise ConfigError(f"openai backend: structured must be one of {', '.join(STRUCTURED_MODES)}")
        if not re.match(r"https?://", base_url or ""):
            raise ConfigError(f"openai backend: base_url must start with http:// or https:// ({base_url!r})")
        root = base_url.rstrip("/")
        self.root = root[: -len("/v1")] if root.endswith("/v1") else root
        self.model_id: str | None = model or None
        self.transport = Transport(
            self.root,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            concurrency=concurrency,
            total_timeout=total_timeout,
            backoff=backoff,
            max_backoff=max_backoff,
            breaker_threshold=breaker_threshold,
            breaker_cooldown=breaker_cooldown,
            transport=transport,
        )
        self.breaker = self.transport.breaker
        self.timeout = self.transport.timeout
        self.concurrency = self.transport.concurrency
        self.structured = structured
        self.stop_token_ids = list(stop_token_ids) if stop_token_ids else None
        self._detect_lock = threading.Lock()
        self._tokenize_ok: bool | None = None  # None: not tried yet
        self._score_ok: bool | None = None
        self._first_ids: dict[str, int | None] = {}

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend({self.root!r}, model={self.model_id!r})"

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    def _model(self) -> str:
        if self.model_id is None:
            data = self.transport.request("GET", "/v1/models")
            models = data.get("data") or []
            if not models or not isinstance(models[0], dict) or not models[0].get("id"):
                raise ModelError(f"openai backend: {self.root} lists no model; set the model name")
            self.model_id = str(models[0]["id"])
        return self.model_id

    def _family_stops(self) -> tuple[int, ...]:
        """The stop token ids the served model's family needs (GLM-4, CodeGeeX4), by its name."""
        try:
            return detect(model_name=self.model_id).stop_token_ids
        except ModelError:
            return ()

    def _chat_payload(self, messages: Sequence[Message], max_tokens: int) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self._model(),
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": int(max_tokens),
            "temperature": 0,
        }
        stops = self.stop_token_ids if self.stop_token_ids is not None else self._family_stops()
        if stops:
            payload["stop_token_ids"] = list(stops)
        return payload

    def _chat(self, payload: Mapping) -> dict:
        return self.transport.request("POST", CHAT, payload)

    def _prompt_tokens(self, usage: Mapping, messages: Sequence[Message]) -> int:
        prompt = usage.get("prompt_tokens")
        return int(prompt) if prompt is not None else sum(estimate_tokens(m["content"]) for m in messages)

    def structured_mode(self) -> str:
        """The constraint this server really applies: structured_outputs, response_format or none."""
        if self.structured != "auto":
            return self.structured
        key = (self.root, self._model())
        with self._detect_lock:
            return detect_mode(key, self._chat_payload(PROBE_MESSAGES, PROBE_MAX_TOKENS), self._chat)

    # ------------------------------------------------------------------ verbs
    def count_tokens(self, text: str) -> int:
        """Tokens by the server's tokenizer (POST /tokenize) where it has one, else estimate_tokens."""
        ids = self._tokenize(text)
        return len(ids) if ids is not None else estimate_tokens(text)

    def _tokenize(self, text: str) -> list[int] | None:
        """Token ids by the server's tokenizer; None when it has no /tokenize or cannot answer now.

        One attempt, no retries: planning falls back to the estimate and generate() reports a down
        server (with retries and the circuit breaker)."""
        if not text:
            return []
        if self._tokenize_ok is False or self.breaker.is_open:
            return None
        try:
            payload = {
                "model": self._model(),
                "prompt": text,  # vLLM
                "content": text,  # llama.cpp
                "add_special_tokens": False,  # vLLM
                "add_special": False,  # llama.cpp
            }
            data = self.transport.attempt("POST", "/tokenize", payload, min(self.timeout, 10.0))
        except HTTPRejected as exc:
            if exc.status in (400, 404, 405, 501):
                self._tokenize_ok = False
            return None
        except (Transient, ModelError):
            return None
        tokens = data.get("tokens")
        if not isinstance(tokens, list):
            self._tokenize_ok = False
            return None
        self._tokenize_ok = True
        return [int(t["id"]) if isinstance(t, Mapping) else int(t) for t in tokens]

    def generate(
        self, messages: Sequence[Message], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> Generation:
        t0 = time.perf_counter()
        payload = self._chat_payload(messages, max_tokens)
        payload["logprobs"] = True
        mode = self.structured_mode() if schema is not None else "none"
        try:
            data = self._chat(with_schema(payload, mode, schema or {}))
        except HTTPRejected as exc:
            if mode == "none" or exc.status not in (400, 422):
                raise
            # the server refused this schema (a feature its grammar engine lacks): unconstrained
            data = self._chat(payload)
        choice = first_choice(data)
        text = content(choice)
        usage = data.get("usage") or {}
        lp = (
            (choice.get("logprobs") or {}).get("content")
            if isinstance(choice.get("logprobs"), Mapping)
            else None
        )
        logprobs = (
            tuple(float(e["logprob"]) for e in lp if isinstance(e, Mapping) and "logprob" in e)
            if lp
            else None
        )
        generated = usage.get("completion_tokens")
        return Generation(
            text=text,
            prompt_tokens=self._prompt_tokens(usage, messages),
            generated_tokens=int(generated)
            if generated is not None
            else (len(logprobs) if logprobs else estimate_tokens(text)),
            seconds=time.perf_counter() - t0,
            token_logprobs=logprobs or None,
        )

    def label_token_ids(self, labels: Sequence[str]) -> list[int] | None:
        """Each label's first token id by the server's /tokenize; None where it has none."""
        firsts: list[int] = []
        for label in labels:
            if label not in self._first_ids:
                ids = self._tokenize(label)
                self._first_ids[label] = ids[0] if ids else None
            first = self._first_ids[label]
            if first is None:
                return None
            firsts.append(first)
        if len(set(firsts)) != len(firsts):
            raise ModelError(
                f"labels {list(labels)} do not start with distinct tokens of the server's tokenizer"
            )
        return firsts

    def choose(self, messages: Sequence[Message], labels: Sequence[str]) -> Choice:
        labels = list(labels)
        if not labels or len(set(labels)) != len(labels) or not all(labels):
            raise ModelError(f"choose needs distinct non-empty labels, got {labels}")
        t0 = time.perf_counter()
        firsts = self.label_token_ids(labels)
        payload = self._chat_payload(messages, 1)
        payload.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        if firsts is not None:
            payload["return_tokens_as_token_ids"] = True  # vLLM: top tokens come as "token_id:N"
        if self.structured_mode() == "structured_outputs":
            payload["structured_outputs"] = {"choice": labels}
        data = self._chat(payload)
        choice = first_choice(data)
        lp = choice.get("logprobs") if isinstance(choice.get("logprobs"), Mapping) else None
        entries = (lp or {}).get("content") or []
        first = entries[0] if entries and isinstance(entries[0], Mapping) else None
        mass, ambiguous = label_mass(first, labels, firsts)
        total = sum(mass.values())
        if total <= 0:
            if ambiguous:
                raise ModelError(
                    f"labels {labels} share a first token ({sorted(ambiguous)!r}): "
                    "give them distinct first tokens"
                )
            # no logprobs, or no label among the top tokens: fall back on the generated token
            hits = prefix_hits(content(choice), labels)
            if len(hits) != 1:
                raise ModelError(
                    f"openai backend: no label of {labels} among the model's most likely first tokens"
                )
            mass[hits[0]] = 1.0
            total = 1.0
        probs = {lb: mass[lb] / total for lb in labels}
        best = max(labels, key=probs.__getitem__)
        prompt_tokens = self._prompt_tokens(data.get("usage") or {}, messages)
        return Choice(best, probs[best], probs, prompt_tokens, time.perf_counter() - t0)

    def score(self, messages: Sequence[Message], continuation: str) -> Scored | None:
        """vLLM's prompt_logprobs over the continuation sent as an open final assistant message."""
        if not continuation:
            return Scored((), (), 0.0)
        if self._score_ok is False:
            return None
        t0 = time.perf_counter()
        payload = self._chat_payload([*messages, {"role": "assistant", "content": continuation}], 1)
        payload.update(
            add_generation_prompt=False, continue_final_message=True, prompt_logprobs=0, return_token_ids=True
        )
        try:
            data = self._chat(payload)
        except HTTPRejected as exc:
            if exc.status in (400, 422):
                self._score_ok = False  # a server that refuses these fields
                return None
            raise  # 404 on chat completions: an unknown model, which every other call would hit too
        plps = data.get("prompt_logprobs")
        if not isinstance(plps, list) or not plps:
            self._score_ok = False  # ignored the field: llama.cpp, OpenAI
            return None
        ids = data.get("prompt_token_ids")
        if not isinstance(ids, list) or len(ids) != len(plps):
            ids = None
        pieces = prompt_pieces(plps, ids)
        if pieces is None:
            return None
        self._score_ok = True
        tail = match_tail(pieces, continuation)
        if tail is None:
            return None
        logprobs, offsets = tail
        return Scored(logprobs, offsets, time.perf_counter() - t0)
