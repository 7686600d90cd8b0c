"""One transport to an OpenAI-compatible server: send a request, retry what is worth retrying,
and fail fast while the server is down.

httpx is imported on first use and the client is created on the first request, never in
``__init__``. Tests hand in an ``httpx.MockTransport`` as ``transport``. The API key travels only in
the ``Authorization`` header and is redacted from every error message.

Faults: timeouts, refused or dropped connections, HTTP 5xx/408, 429 (``Retry-After`` honoured) and
malformed JSON bodies are retried through ``reviewbot.retry`` with jittered exponential backoff, at
most ``max_retries`` times and within ``total_timeout`` seconds per call (a Retry-After beyond that
budget fails at once). After ``breaker_threshold`` consecutive failed attempts a circuit breaker
fails every call fast for ``breaker_cooldown`` seconds, then lets one trial request through. Every
error is a ModelError with a one-line message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ... import retry
from ...errors import ModelError, ModelUnavailable
from ...redact import server_text
from ...retry import Retry, RetryPolicy


class Transient(Exception):
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


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def server_message(resp: Any) -> str:
    """vLLM: {"error": {"message"}} (newer) or {"message"} (older); llama.cpp: {"error": {...}}.

    Cut short and with token-like runs redacted: a server (or a proxy) may echo what we sent.
    """
    try:
        body = resp.json()
    except ValueError:
        return server_text(resp.text[:4000])
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return server_text(str(err.get("message") or err.get("detail") or body)[:4000])
        return server_text(str(err)[:4000])
    return server_text(str(body)[:4000])


def _attempts(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"


def _classify(exc: Exception) -> Retry | None:
    return Retry(after=exc.retry_after) if isinstance(exc, Transient) else None


class Transport:
    """JSON requests to one server root, with retries and a circuit breaker."""

    def __init__(
        self,
        root: str,
        *,
        api_key: str | None = None,
        timeout: float = 60,
        max_retries: int = 3,
        concurrency: int = 4,
        total_timeout: float | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 30.0,
        transport: Any = None,
    ) -> None:
        self.root = root
        self._api_key = api_key or None
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.concurrency = max(1, int(concurrency))
        self.total_timeout = float(total_timeout) if total_timeout else self.timeout * (self.max_retries + 1)
        self.policy = RetryPolicy(
            attempts=self.max_retries + 1,
            base_s=backoff,
            max_backoff_s=max_backoff,
            budget_s=self.total_timeout,
        )
        self.breaker = CircuitBreaker(breaker_threshold, breaker_cooldown)
        self._transport = transport  # an httpx.BaseTransport (tests: httpx.MockTransport); None: the network
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.concurrency)

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
                    transport=self._transport,
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def clean(self, text: str) -> str:
        """One line, without the API key."""
        text = one_line(text)
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return text

    def attempt(self, method: str, path: str, payload: Mapping | None, timeout: float) -> dict:
        """One request: the JSON object it answered, or Transient, or HTTPRejected."""
        import httpx

        client = self._http()
        t = max(0.05, timeout)
        with self._slots:
            try:
                resp = client.request(
                    method, self.root + path, json=payload, timeout=httpx.Timeout(t, connect=min(t, 10.0))
                )
            except httpx.TimeoutException as exc:
                raise Transient(f"timed out after {t:.1f} s") from exc
            except httpx.TransportError as exc:
                raise Transient(f"{type(exc).__name__}: {exc}") from exc
        status = resp.status_code
        if status == 429:
            raise Transient(
                f"HTTP 429 rate limited: {server_message(resp)}",
                retry_after=retry.retry_after(resp.headers.get("retry-after")),
                counts=False,
            )
        if status >= 500 or status == 408:
            raise Transient(f"HTTP {status}: {server_message(resp)}")
        if status >= 300:
            hint = " (check the API key)" if status in (401, 403) else ""
            raise HTTPRejected(
                self.clean(
                    f"openai backend: {method} {path} answered HTTP {status}{hint}: {server_message(resp)}"
                ),
                status,
            )
        try:
            body = resp.json()
        except ValueError as exc:
            raise Transient(f"malformed JSON body ({len(resp.content)} bytes)", malformed=True) from exc
        if not isinstance(body, dict):
            raise Transient("malformed JSON body (not an object)", malformed=True)
        return body

    def request(self, method: str, path: str, payload: Mapping | None = None) -> dict:
        """`attempt` with retries within the time budget, through the circuit breaker."""
        where = f"openai backend: {method} {self.root}{path}"
        started = time.monotonic()
        deadline = started + self.total_timeout
        attempts = 0
        last: list[Transient] = []

        def once() -> dict:
            nonlocal attempts
            try:
                self.breaker.check(where)
            except ModelUnavailable as exc:
                if last:  # it opened during this call: report the fault that opened it
                    raise ModelUnavailable(
                        self.clean(f"{where} failed after {_attempts(attempts)}: {last[-1]}; {exc}"),
                        seconds=time.monotonic() - started,
                    )
                raise
            attempts += 1
            healthy = False
            try:
                body = self.attempt(method, path, payload, min(self.timeout, deadline - time.monotonic()))
                healthy = True
                return body
            except Transient as exc:
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

        try:
            return retry.call(once, _classify, policy=self.policy)
        except retry.GaveUp as gave_up:
            exc = gave_up.error
            assert isinstance(exc, Transient)  # _classify retries nothing else
            if exc.retry_after is not None and gave_up.refused is not None:
                detail = f"{exc} (server asks to retry after {exc.retry_after:.0f} s, beyond the time budget)"
            else:
                detail = str(exc)
            seconds = time.monotonic() - started
            raise ModelUnavailable(
                self.clean(f"{where} failed after {_attempts(attempts)} in {seconds:.1f} s: {detail}"),
                down=not exc.malformed,
                seconds=seconds,
            ) from exc
