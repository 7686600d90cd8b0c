"""The web process (Starlette on uvicorn): receive a webhook, verify it, store the job, answer.

POST /webhooks/github   X-Hub-Signature-256 over the raw body; 401 when it does not match
POST /webhooks/gitlab   X-Gitlab-Token; 401 when it does not match
GET  /healthz           the process answers
GET  /readyz            the store answers (and the model server, with the openai backend)
GET  /metrics           Prometheus text
GET  /openapi.json      the OpenAPI description of these (service/openapi.py)

The body is refused with 413 above ``service.max_body``: from Content-Length before reading, and
while reading. The job is committed to the store before the 2xx; events the service does not act
on get a 2xx too (GitLab disables hooks that answer 4xx). Secrets are never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..config import Settings
from . import events, openapi, verify
from .metrics import Metrics
from .stores import JobStore

__all__ = ["create_app", "model_ready"]

log = logging.getLogger("reviewbot.service")


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    """The raw body, refused (``_TooLarge``) as soon as it is known to pass ``limit`` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _TooLarge
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _TooLarge
    return bytes(data)


def _payload(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The JSON payload (GitHub also sends it form-encoded as ``payload=``), or None."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode("utf-8")).get("payload", [""])[0].encode("utf-8")
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


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
        req.add_header("Authorization", f"Bearer {settings.api_key.reveal()}")
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
) -> Starlette:
    """The app over ``store`` (used from one thread at a time: SQLite connections are not shared)."""
    metrics = metrics or Metrics()
    lock = threading.Lock()
    model_check = model_check or (lambda: model_ready(settings))

    def locked(fn: Callable[..., Any], *args: Any) -> Any:
        with lock:
            return fn(*args)

    metrics.watch_store(lambda: locked(store.count))

    async def enqueue(host: str, delivery: str, req: events.Request) -> JSONResponse:
        added = await run_in_threadpool(
            locked, store.enqueue, delivery, req.host, req.repo, req.number, req.head, req.kind, req.arg
        )
        answer = "queued" if added else "duplicate"
        metrics.deliveries.labels(host, answer).inc()
        log.info("%s delivery %s: %s %s#%s %s", host, delivery[:64], answer, req.repo, req.number, req.kind)
        return JSONResponse({"status": answer}, status_code=202)

    def refused(host: str, status: int, why: str) -> JSONResponse:
        metrics.deliveries.labels(host, str(status)).inc()
        return JSONResponse({"error": why}, status_code=status)

    def ignored(host: str, event: str) -> JSONResponse:
        metrics.deliveries.labels(host, "ignored").inc()
        return JSONResponse({"status": "ignored", "event": event[:100]}, status_code=202)

    async def github(request: Request) -> Response:
        secret = settings.github_webhook_secret
        if secret is None:
            return refused("github", 404, "GitHub webhooks are not enabled here")
        try:
            body = await _body(request, settings.service_max_body)
        except _TooLarge:
            return refused("github", 413, "body too large")
        if not verify.github_ok(secret.reveal().encode(), body, request.headers.get("x-hub-signature-256")):
            return refused("github", 401, "bad signature")
        event = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery") or "sha256:" + hashlib.sha256(body).hexdigest()
        payload = _payload(body, request.headers.get("content-type", ""))
        if payload is None:
            return refused("github", 400, "not a JSON payload")
        try:
            req = events.github(event, payload)
        except (KeyError, TypeError, ValueError):
            return refused("github", 400, "malformed payload")
        if req is None:
            return ignored("github", event)
        installation = (payload.get("installation") or {}).get("id")
        return await enqueue("github", "github:" + delivery, _with_context(req, {"installation": installation}
                                                                           if installation else {}))  # fmt: skip

    async def gitlab(request: Request) -> Response:
        secret = settings.gitlab_webhook_secret
        if secret is None:
            return refused("gitlab", 404, "GitLab webhooks are not enabled here")
        if not verify.gitlab_ok(secret.reveal().encode(), request.headers.get("x-gitlab-token")):
            return refused("gitlab", 401, "bad token")
        try:
            body = await _body(request, settings.service_max_body)
        except _TooLarge:
            return refused("gitlab", 413, "body too large")
        event = request.headers.get("x-gitlab-event", "")
        delivery = (request.headers.get("idempotency-key") or request.headers.get("x-gitlab-event-uuid")
                    or "sha256:" + hashlib.sha256(body).hexdigest())  # fmt: skip
        payload = _payload(body, "application/json")
        if payload is None:
            return refused("gitlab", 400, "not a JSON payload")
        try:
            req = events.gitlab(event, payload)
        except (KeyError, TypeError, ValueError):
            return refused("gitlab", 400, "malformed payload")
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
