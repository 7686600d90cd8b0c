"""The web process (Starlette on uvicorn): receive a webhook, verify it, store the job, answer.

POST /webhooks/github   X-Hub-Signature-256 over the raw body; 401 when it does not match
POST /webhooks/gitlab   X-Gitlab-Token; 401 when it does not match
GET  /healthz           the process answers
GET  /readyz            the store answers (and the model server, with the openai backend)
GET  /metrics           Prometheus text
GET  /openapi.json      the OpenAPI description of these (service/openapi.py)

A body is read under ``BodyLimits`` (a hostile client cannot hold the process's memory or its
event loop): refused with 413 above ``service.max_body`` (from Content-Length before reading, and
while reading); with 408 when it has not all arrived ``deadline_s`` after its headers (a slowloris
client trickling it, or never sending it; a request waits there for one of ``bodies`` slots, its
body unread); with 503 when the bytes held by bodies not yet verified would pass ``buffered``
(GitHub's signature covers the whole body, so it is read before it can be checked; GitLab's token
is checked first). The JSON
is refused with 400 deeper than ``MAX_DEPTH``, and a payload whose fields are not what the host
sends (``events.Malformed``) with 400, never a 500. The job is committed to the store before the
2xx; events the service does not act on get a 2xx too (GitLab disables hooks that answer 4xx).
Secrets are never logged; fields are logged on one line (``logs.one_line``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..config import Settings
from . import events, openapi, verify
from .jobs import JobStore
from .logs import one_line
from .metrics import Metrics

__all__ = ["BodyLimits", "create_app", "model_ready"]

log = logging.getLogger("reviewbot.service")


MAX_DEPTH = 64  # nesting of a webhook's JSON (GitHub's and GitLab's events nest under 12)


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """How request bodies are read before they are verified."""

    deadline_s: float = 10.0  # a whole body, counted from its headers
    bodies: int = 32  # bodies being read at once
    buffered: int = 64 * 1024 * 1024  # bytes held by the bodies being read, all together


class _Refused(Exception):
    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status, self.why = status, why


class _Bodies:
    """The bodies being read now and the bytes they hold (one event loop: no lock needed)."""

    def __init__(self, limits: BodyLimits) -> None:
        self.limits = limits
        self.slots = asyncio.Semaphore(limits.bodies)
        self.held = 0

    async def read(self, request: Request, limit: int) -> bytes:
        """The raw body, or ``_Refused`` (413, 408 or 503) as soon as it is known to break a limit.
        A request waits for one of the ``bodies`` slots (its body unread: the server stops reading
        a connection whose buffer is full) within the same deadline."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise _Refused(413, f"body too large (over {limit} bytes)")
        data = bytearray()
        try:
            async with asyncio.timeout(self.limits.deadline_s), self.slots:
                try:
                    async for chunk in request.stream():
                        if len(data) + len(chunk) > limit:
                            raise _Refused(413, f"body too large (over {limit} bytes)")
                        if self.held + len(chunk) > self.limits.buffered:
                            raise _Refused(
                                503, f"busy: {self.limits.buffered} bytes of bodies are being received"
                            )
                        self.held += len(chunk)
                        data += chunk
                finally:
                    self.held -= len(data)
        except TimeoutError:
            raise _Refused(408, f"body not received within {self.limits.deadline_s:g} s") from None
        except ClientDisconnect:
            raise _Refused(400, "the client went away before its body arrived") from None
        return bytes(data)


def _depth(doc: Any) -> int:
    """How deep ``doc`` nests (iteratively: a deep document must not exhaust the stack)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend(
                    (child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
                )
    return deepest


def _payload(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The JSON payload (GitHub also sends it form-encoded as ``payload=``), or None (not JSON, or
    nested deeper than ``MAX_DEPTH``)."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode("utf-8")).get("payload", [""])[0].encode("utf-8")
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) and _depth(doc) <= MAX_DEPTH else None


def _request_of(
    translate: Callable[[str, dict[str, Any]], events.Request | None],
    event: str,
    payload: dict[str, Any] | None,
) -> events.Request | None:
    """The host's event as a job to queue, or None for an event that asks for nothing; a payload that
    is not JSON, or not of the event's shape, is refused (400)."""
    if payload is None:
        raise _Refused(400, "not a JSON payload")
    try:
        return translate(event, payload)
    except events.Malformed as exc:
        raise _Refused(400, f"malformed payload: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _Refused(400, "malformed payload") from exc


def _with_context(req: events.Request, context: dict[str, Any]) -> events.Request:
    """Add what the worker needs to reach the host (the App installation) to the job's argument."""
    if not context:
        return req
    arg = json.loads(req.arg) if req.arg else {}
    return replace(req, arg=json.dumps({**arg, **context}, sort_keys=True))


def model_ready(settings: Settings, timeout: float = 2.0) -> bool:
    """With the openai backend: the server lists its models. Other backends: True."""
    if settings.backend != "openai" or not settings.base_url:
        return True
    req = urllib.request.Request(settings.base_url.rstrip("/") + "/models")
    if settings.api_key is not None:
        req.add_header("Authorization", f"Bearer {settings.api_key.get_secret_value()}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (the configured server)
            return 200 <= resp.status < 300
    except (OSError, ValueError):
        return False


def create_app(
    settings: Settings,
    store: JobStore,
    metrics: Metrics | None = None,
    *,
    model_check: Callable[[], bool] | None = None,
    limits: BodyLimits = BodyLimits(),
) -> Starlette:
    """The app over ``store`` (used from one thread at a time: SQLite connections are not shared)."""
    metrics = metrics or Metrics()
    bodies = _Bodies(limits)
    lock = threading.Lock()
    model_check = model_check or (lambda: model_ready(settings))

    def locked(fn: Callable[..., Any], *args: Any) -> Any:
        with lock:
            return fn(*args)

    metrics.watch_store(lambda: locked(store.count))

    async def enqueue(host: str, delivery: str, req: events.Request) -> JSONResponse:
        key = req.key or delivery  # a command is known by its comment, whatever delivery carries it
        added = await run_in_threadpool(
            locked, store.enqueue, key, req.host, req.repo, req.number, req.head, req.kind, req.arg
        )
        answer = "queued" if added else "duplicate"
        metrics.deliveries.labels(host, answer).inc()
        log.info(
            "%s delivery %s: %s %s#%s %s",
            host,
            one_line(delivery[:64]),
            answer,
            one_line(req.repo),
            req.number,
            req.kind,
        )
        return JSONResponse({"status": answer}, status_code=202)

    def refused(host: str, status: int, why: str) -> JSONResponse:
        metrics.deliveries.labels(host, str(status)).inc()
        return JSONResponse({"error": why}, status_code=status)

    def ignored(host: str, event: str) -> JSONResponse:
        metrics.deliveries.labels(host, "ignored").inc()
        return JSONResponse({"status": "ignored", "event": event[:100]}, status_code=202)

    async def github(request: Request) -> Response:
        secret = settings.hosts.github.webhook_secret
        if secret is None:
            return refused("github", 404, "GitHub webhooks are not enabled here")
        try:
            body = await bodies.read(request, settings.service.max_body)
        except _Refused as exc:
            return refused("github", exc.status, exc.why)
        if not verify.github_ok(
            secret.get_secret_value().encode(), body, request.headers.get("x-hub-signature-256")
        ):
            return refused("github", 401, "bad signature")
        event = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery") or "sha256:" + hashlib.sha256(body).hexdigest()
        payload = _payload(body, request.headers.get("content-type", ""))
        try:
            req = _request_of(events.github, event, payload)
        except _Refused as exc:
            return refused("github", exc.status, exc.why)
        if req is None:
            return ignored("github", event)
        installation = payload.get("installation")
        installation = installation.get("id") if isinstance(installation, dict) else installation
        if installation is not None and (
            isinstance(installation, bool)
            or not isinstance(installation, int)
            or not 0 < installation <= events.MAX_ID
        ):
            return refused("github", 400, "malformed payload: installation id")
        return await enqueue(
            "github",
            "github:" + delivery,
            _with_context(req, {"installation": installation} if installation else {}),
        )

    async def gitlab(request: Request) -> Response:
        secret = settings.hosts.gitlab.webhook_secret
        if secret is None:
            return refused("gitlab", 404, "GitLab webhooks are not enabled here")
        if not verify.gitlab_ok(secret.get_secret_value().encode(), request.headers.get("x-gitlab-token")):
            return refused("gitlab", 401, "bad token")
        try:
            body = await bodies.read(request, settings.service.max_body)
        except _Refused as exc:
            return refused("gitlab", exc.status, exc.why)
        event = request.headers.get("x-gitlab-event", "")
        delivery = (
            request.headers.get("idempotency-key")
            or request.headers.get("x-gitlab-event-uuid")
            or "sha256:" + hashlib.sha256(body).hexdigest()
        )
        try:
            req = _request_of(events.gitlab, event, _payload(body, "application/json"))
        except _Refused as exc:
            return refused("gitlab", exc.status, exc.why)
        if req is None:
            return ignored("gitlab", event)
        return await enqueue("gitlab", "gitlab:" + delivery, req)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            store_ok = bool(await run_in_threadpool(locked, store.ping))
        except Exception:  # noqa: BLE001 (any failure of the store means not ready)
            store_ok = False
        model_ok = await run_in_threadpool(model_check)
        ok = store_ok and model_ok
        return JSONResponse({"store": store_ok, "model": model_ok}, status_code=200 if ok else 503)

    async def metrics_text(request: Request) -> Response:
        text = await run_in_threadpool(metrics.text)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi.document())

    routes = [
        Route("/webhooks/github", github, methods=["POST"]),
        Route("/webhooks/gitlab", gitlab, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
    return Starlette(routes=routes)
