"""The OpenAPI 3.0 description of the webhook app, served at ``GET /openapi.json``; schemathesis
checks the running app against it in CI (tests/service/test_openapi.py)."""

from __future__ import annotations

from typing import Any

_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}


def _json(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": schema}}}


def _header(name: str, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": text,
    }


def _webhook(host: str, headers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"A {host} webhook delivery: verified, stored, answered",
            "operationId": f"{host.lower()}_webhook",
            "parameters": headers,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "202": _json(_STATUS, "stored (queued or a duplicate), or an event the service ignores"),
                "400": _json(
                    _ERROR,
                    "verified, but not a JSON payload of the event it names, nested deeper "
                    "than 64 levels, or with a field that is not what the host sends",
                ),
                "401": _json(_ERROR, "the signature or token does not match"),
                "404": _json(_ERROR, f"{host} webhooks are not enabled (no secret configured)"),
                "408": _json(_ERROR, "the body did not all arrive within 10 s of the headers"),
                "413": _json(_ERROR, "the body passes service.max_body"),
                "503": _json(_ERROR, "the bodies being received hold too many bytes before verification"),
            },
        }
    }


def document() -> dict[str, Any]:
    text = {"description": "Prometheus text", "content": {"text/plain": {"schema": {"type": "string"}}}}
    ready = {"type": "object", "properties": {"store": {"type": "boolean"}, "model": {"type": "boolean"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "reviewbot webhook service", "version": "1"},
        "paths": {
            "/webhooks/github": _webhook(
                "GitHub",
                [
                    _header("X-Hub-Signature-256", "sha256=HMAC of the raw body with the webhook secret"),
                    _header("X-GitHub-Event", "the event name"),
                    _header("X-GitHub-Delivery", "the delivery id (de-duplication)"),
                ],
            ),
            "/webhooks/gitlab": _webhook(
                "GitLab",
                [
                    _header("X-Gitlab-Token", "the webhook's secret token"),
                    _header("X-Gitlab-Event", "the event name"),
                    _header("Idempotency-Key", "the delivery id (de-duplication)"),
                ],
            ),
            "/healthz": {
                "get": {"operationId": "healthz", "responses": {"200": _json(_STATUS, "the process answers")}}
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "responses": {
                        "200": _json(ready, "the store (and the model server) answer"),
                        "503": _json(ready, "not ready: which part does not answer"),
                    },
                }
            },
            "/metrics": {"get": {"operationId": "metrics", "responses": {"200": text}}},
        },
    }
