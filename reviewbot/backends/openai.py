"""The `openai` backend: any OpenAI-compatible HTTP server (vLLM, llama.cpp's server, ...).

httpx is imported on first use and the client is created lazily (on the first request, never in
``__init__``); ``close()`` or ``with OpenAIBackend(...) as b:`` releases it. The API key travels only
in the ``Authorization`` header and is redacted from every error message.

The three verbs (ports.ModelBackend), and what each needs from the server:

- generate: ``POST /v1/chat/completions``, temperature 0, ``logprobs: true`` (per-token log-probabilities
  are returned when the server honours it). With a JSON schema, ``structured="auto"`` finds once per
  server (cached per base URL and model) which constraint the server really applies, in this order:
  vLLM's top-level ``structured_outputs: {"json": schema}``; then
  ``response_format: {"type": "json_schema", ...}`` (vLLM, llama.cpp, OpenAI); then none (the caller
  validates and retries). vLLM answers HTTP 200 to fields it does not know and generates
  unconstrained text, so a mode is trusted only after a small probe request came back conforming to a
  probe schema (checked with jsonschema) that unconstrained text cannot match by chance.
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
  ``plan.estimate_tokens`` (about 3.5 characters a token).

Faults: timeouts, refused or dropped connections, HTTP 5xx/408, 429 (``Retry-After`` honoured) and
malformed JSON bodies are retried with jittered exponential backoff, at most ``max_retries`` times and
within ``total_timeout`` seconds per call (a Retry-After beyond that budget fails at once). After
``breaker_threshold`` consecutive failed attempts a circuit breaker fails every call fast for
``breaker_cooldown`` seconds, then lets one trial request through. Every error is a ModelError with a
one-line message. GLM-family models need ``stop_token_ids=GLM_STOP_TOKEN_IDS`` (vLLM field): sent by
default when the served model's name says GLM-4 or CodeGeeX4 (formats.detect).
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential

from ..errors import ConfigError, ModelError, ModelUnavailable
from ..plan import estimate_tokens
from ..ports import Choice, Generation, Message, Scored
from .formats import GLM_STOP_TOKEN_IDS as GLM_STOP_TOKEN_IDS  # re-exported
from .formats import detect

STRUCTURED_MODES = ("auto", "structured_outputs", "response_format", "none")
TOP_LOGPROBS = 20

# A constraint is trusted only when the probe's answer conforms: unconstrained text cannot.
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"probe": {"type": "string", "enum": ["reviewbot-7f3a"]}},
    "required": ["probe"],
    "additionalProperties": False,
}
PROBE_MESSAGES = ({"role": "user", "content": "Say hello in one short sentence."},)
PROBE_MAX_TOKENS = 40

# structured-output mode per (server root, model), shared by every backend in the process
_MODES: dict[tuple[str, str], str] = {}
_MODES_LOCK = threading.Lock()

_TOKEN_ID = re.compile(r"token_id:(-?\d+)$")


class _Transient(Exception):
    """A fault worth retrying. `counts`: whether it says the server is unhealthy (429 does not)."""

    def __init__(
        self, what: str, *, retry_after: float | None = None, counts: bool = True, malformed: bool = False
    ) -> None:
        super().__init__(what)
        self.retry_after = retry_after
        self.counts = counts
        self.malformed = malformed  # the server answered, but not with a usable body


class HTTPRejected(ModelError):
    """The server answered with a 4xx other than 408/429: not retried."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; while open every call fails fast; after
    `cooldown` seconds one trial call goes through (half-open): success closes it, failure reopens."""

    def __init__(self, threshold: int = 5, cooldown: float = 30.0) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def check(self, where: str) -> None:
        with self._lock:
            if self.opened_at is None:
                return
            left = self.opened_at + self.cooldown - time.monotonic()
            if left <= 0 and not self._trial:
                self._trial = True
                return
            raise ModelUnavailable(
                f"{where}: circuit open after {self.failures} consecutive failures; "
                f"not calling the server for another {max(left, 0.0):.1f} s",
                seconds=0.0,
            )

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self._trial = False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial or self.failures >= self.threshold:
                self.opened_at = time.monotonic()
                self._trial = False


def conforms(text: str, schema: Mapping) -> bool:
    """Does `text` parse as JSON valid against `schema`? (jsonschema; a minimal check without it)"""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return False
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is a dependency; keep a rough check anyway
        return _rough_conforms(value, schema)
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError:
        return False
    except jsonschema.SchemaError as exc:
        raise ModelError(f"invalid JSON schema: {_one_line(str(exc))}") from exc
    return True


def _rough_conforms(value: Any, schema: Mapping) -> bool:
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        return False
    if kind == "object":
        if not isinstance(value, dict):
            return False
        props = schema.get("properties", {})
        if any(k not in value for k in schema.get("required", ())):
            return False
        if schema.get("additionalProperties") is False and any(k not in props for k in value):
            return False
        return all(_rough_conforms(value[k], props[k]) for k in value if k in props)
    if kind == "array":
        return isinstance(value, list) and all(_rough_conforms(v, schema.get("items", {})) for v in value)
    types = {"string": str, "boolean": bool, "null": type(None), "integer": int, "number": (int, float)}
    return kind not in types or isinstance(value, types[kind])


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(resp: Any) -> str:
    """vLLM: {"error": {"message"}} (newer) or {"message"} (older); llama.cpp: {"error": {...}}."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or body)
        return str(err)
    return str(body)


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
    ) -> None:
        if structured not in STRUCTURED_MODES:
            raise ConfigError(f"openai backend: structured must be one of {', '.join(STRUCTURED_MODES)}")
        if not re.match(r"https?://", base_url or ""):
            raise ConfigError(f"openai backend: base_url must start with http:// or https:// ({base_url!r})")
        root = base_url.rstrip("/")
        self.root = root[: -len("/v1")] if root.endswith("/v1") else root
        self.model_id: str | None = model or None
        self._api_key = api_key or None
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.concurrency = max(1, int(concurrency))
        self.structured = structured
        self.stop_token_ids = list(stop_token_ids) if stop_token_ids else None
        self.total_timeout = float(total_timeout) if total_timeout else self.timeout * (self.max_retries + 1)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.breaker = CircuitBreaker(breaker_threshold, breaker_cooldown)
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._detect_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._tokenize_ok: bool | None = None  # None: not tried yet
        self._score_ok: bool | None = None
        self._first_ids: dict[str, int | None] = {}

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend({self.root!r}, model={self.model_id!r})"

    # ------------------------------------------------------------------ client
    def _http(self) -> Any:
        with self._client_lock:
            if self._client is None:
                try:
                    import httpx
                except ImportError as exc:
                    raise ModelError("the openai backend needs httpx: pip install 'httpx>=0.27'") from exc
                headers = {"Accept": "application/json"}
                if self._api_key:
                    headers["Authorization"] = f"Bearer {self._api_key}"
                self._client = httpx.Client(
                    headers=headers,
                    timeout=self.timeout,
                    limits=httpx.Limits(
                        max_connections=self.concurrency, max_keepalive_connections=self.concurrency
                    ),
                    follow_redirects=False,
                    trust_env=False,  # no proxy variables or .netrc: the model server is addressed directly
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clean(self, text: str) -> str:
        text = _one_line(text)
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return text

    # ------------------------------------------------------------------ one request, with retries
    def _attempt(self, method: str, path: str, payload: Mapping | None, timeout: float) -> dict:
        import httpx

        client = self._http()
        t = max(0.05, timeout)
        with self._slots:
            try:
                resp = client.request(
                    method, self.root + path, json=payload, timeout=httpx.Timeout(t, connect=min(t, 10.0))
                )
            except httpx.TimeoutException as exc:
                raise _Transient(f"timed out after {t:.1f} s") from exc
            except httpx.TransportError as exc:
                raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        status = resp.status_code
        if status == 429:
            raise _Transient(
                f"HTTP 429 rate limited: {_server_message(resp)}",
                retry_after=_retry_after(resp.headers.get("retry-after")),
                counts=False,
            )
        if status >= 500 or status == 408:
            raise _Transient(f"HTTP {status}: {_server_message(resp)}")
        if status >= 300:
            hint = " (check the API key)" if status in (401, 403) else ""
            raise HTTPRejected(
                self._clean(
                    f"openai backend: {method} {path} answered HTTP {status}{hint}: {_server_message(resp)}"
                ),
                status,
            )
        try:
            body = resp.json()
        except ValueError as exc:
            raise _Transient(f"malformed JSON body ({len(resp.content)} bytes)", malformed=True) from exc
        if not isinstance(body, dict):
            raise _Transient("malformed JSON body (not an object)", malformed=True)
        return body

    def _request(self, method: str, path: str, payload: Mapping | None = None) -> dict:
        where = f"openai backend: {method} {self.root}{path}"
        started = time.monotonic()
        deadline = started + self.total_timeout
        jitter = wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)
        attempts = 0

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Transient) and exc.retry_after is not None:
                return exc.retry_after
            return jitter(state)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number > self.max_retries:
                return True
            return time.monotonic() + (getattr(state, "upcoming_sleep", 0.0) or 0.0) >= deadline

        last: list[_Transient] = []

        def once() -> dict:
            nonlocal attempts
            try:
                self.breaker.check(where)
            except ModelUnavailable as exc:
                if last:  # it opened during this call: report the fault that opened it
                    n = "1 attempt" if attempts == 1 else f"{attempts} attempts"
                    raise ModelUnavailable(
                        self._clean(f"{where} failed after {n}: {last[-1]}; {exc}"),
                        seconds=time.monotonic() - started,
                    )
                raise
            attempts += 1
            healthy = False
            try:
                body = self._attempt(method, path, payload, min(self.timeout, deadline - time.monotonic()))
                healthy = True
                return body
            except _Transient as exc:
                last.append(exc)
                healthy = not exc.counts  # a 429 says the server is up, only busy
                raise
            except HTTPRejected:
                healthy = True  # the server is up; the request was wrong
                raise
            finally:
                # every attempt settles the breaker, so a half-open trial never stays pending
                if healthy:
                    self.breaker.success()
                else:
                    self.breaker.failure()

        retrying = Retrying(stop=stop, wait=wait, retry=retry_if_exception_type(_Transient), reraise=True)
        try:
            return retrying(once)
        except _Transient as exc:
            if exc.retry_after is not None and time.monotonic() + exc.retry_after >= deadline:
                detail = f"{exc} (server asks to retry after {exc.retry_after:.0f} s, beyond the time budget)"
            else:
                detail = str(exc)
            n = "1 attempt" if attempts == 1 else f"{attempts} attempts"
            seconds = time.monotonic() - started
            raise ModelUnavailable(
                self._clean(f"{where} failed after {n} in {seconds:.1f} s: {detail}"),
                down=not exc.malformed,
                seconds=seconds,
            ) from exc

    # ------------------------------------------------------------------ helpers
    def _model(self) -> str:
        if self.model_id is None:
            data = self._request("GET", "/v1/models")
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

    @staticmethod
    def _first_choice(data: Mapping) -> Mapping:
        choices = data.get("choices")
        if not choices or not isinstance(choices[0], Mapping):
            raise ModelError("openai backend: the server's answer has no choices")
        return choices[0]

    @staticmethod
    def _content(choice: Mapping) -> str:
        msg = choice.get("message") or {}
        return str(msg.get("content") or "") if isinstance(msg, Mapping) else ""

    @staticmethod
    def _with_schema(payload: dict[str, Any], mode: str, schema: Mapping) -> dict[str, Any]:
        payload = dict(payload)
        if mode == "structured_outputs":
            payload["structured_outputs"] = {"json": dict(schema)}
        elif mode == "response_format":
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "review", "schema": dict(schema), "strict": True},
            }
        return payload

    def structured_mode(self) -> str:
        """The constraint this server really applies: structured_outputs, response_format or none."""
        if self.structured != "auto":
            return self.structured
        key = (self.root, self._model())
        with self._detect_lock:
            with _MODES_LOCK:
                known = _MODES.get(key)
            if known is not None:
                return known
            found = "none"
            for mode in ("structured_outputs", "response_format"):
                payload = self._with_schema(
                    self._chat_payload(PROBE_MESSAGES, PROBE_MAX_TOKENS), mode, PROBE_SCHEMA
                )
                try:
                    data = self._request("POST", "/v1/chat/completions", payload)
                except HTTPRejected as exc:
                    if exc.status in (400, 404, 415, 422):
                        continue  # a strict server refusing the field: not this mode
                    raise
                if conforms(self._content(self._first_choice(data)), PROBE_SCHEMA):
                    found = mode
                    break
            with _MODES_LOCK:
                _MODES[key] = found
            return found

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
            data = self._attempt("POST", "/tokenize", payload, min(self.timeout, 10.0))
        except HTTPRejected as exc:
            if exc.status in (400, 404, 405, 501):
                self._tokenize_ok = False
            return None
        except (_Transient, ModelError):
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
            data = self._request(
                "POST", "/v1/chat/completions", self._with_schema(payload, mode, schema or {})
            )
        except HTTPRejected as exc:
            if mode == "none" or exc.status not in (400, 422):
                raise
            # the server refused this schema (a feature its grammar engine lacks): unconstrained
            data = self._request("POST", "/v1/chat/completions", payload)
        choice = self._first_choice(data)
        text = self._content(choice)
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
        prompt = usage.get("prompt_tokens")
        generated = usage.get("completion_tokens")
        return Generation(
            text=text,
            prompt_tokens=int(prompt)
            if prompt is not None
            else sum(estimate_tokens(m["content"]) for m in messages),
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
        data = self._request("POST", "/v1/chat/completions", payload)
        choice = self._first_choice(data)
        lp = choice.get("logprobs") if isinstance(choice.get("logprobs"), Mapping) else None
        content = (lp or {}).get("content") or []
        first = content[0] if content and isinstance(content[0], Mapping) else None
        mass = dict.fromkeys(labels, 0.0)
        ambiguous: set[str] = set()
        if first is not None:
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
                    hits = _prefix_hits(_entry_token(e), labels)
                if len(hits) == 1:
                    mass[hits[0]] += p
                elif len(hits) > 1:
                    ambiguous.add(_entry_token(e))
        total = sum(mass.values())
        if total <= 0:
            if ambiguous:
                raise ModelError(
                    f"labels {labels} share a first token ({sorted(ambiguous)!r}): give them distinct first tokens"
                )
            # no logprobs, or no label among the top tokens: fall back on the generated token
            hits = _prefix_hits(self._content(choice), labels)
            if len(hits) != 1:
                raise ModelError(
                    f"openai backend: no label of {labels} among the model's most likely first tokens"
                )
            mass[hits[0]] = 1.0
            total = 1.0
        probs = {lb: mass[lb] / total for lb in labels}
        best = max(labels, key=probs.__getitem__)
        usage = data.get("usage") or {}
        prompt = usage.get("prompt_tokens")
        prompt_tokens = (
            int(prompt) if prompt is not None else sum(estimate_tokens(m["content"]) for m in messages)
        )
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
            data = self._request("POST", "/v1/chat/completions", payload)
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
        self._score_ok = True
        tail = _match_tail(pieces, continuation)
        if tail is None:
            return None
        logprobs, offsets = tail
        return Scored(logprobs, offsets, time.perf_counter() - t0)


def _entry_token(entry: Mapping) -> str:
    return str(entry.get("token") or "")


def _entry_id(entry: Mapping) -> int | None:
    if isinstance(entry.get("id"), int):  # llama.cpp
        return int(entry["id"])
    m = _TOKEN_ID.match(_entry_token(entry))  # vLLM return_tokens_as_token_ids
    return int(m.group(1)) if m else None


def _entry_key(entry: Mapping) -> tuple[int | None, str]:
    return (_entry_id(entry), _entry_token(entry))


def _prefix_hits(token: str, labels: Sequence[str]) -> list[str]:
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


def _match_tail(
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
