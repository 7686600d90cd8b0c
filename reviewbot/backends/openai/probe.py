"""Which JSON-schema constraint a server really applies.

``structured="auto"`` finds it once per server (cached per base URL and model), in this order:
vLLM's top-level ``structured_outputs: {"json": schema}``; then
``response_format: {"type": "json_schema", ...}`` (vLLM, llama.cpp, OpenAI); then none (the caller
validates and retries). vLLM answers HTTP 200 to fields it does not know and generates
unconstrained text, so a mode is trusted only after a small probe request came back conforming to a
probe schema (checked with jsonschema) that unconstrained text cannot match by chance.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ...errors import ModelError
from .transport import HTTPRejected, one_line
from .wire import content, first_choice, with_schema

STRUCTURED_MODES = ("auto", "structured_outputs", "response_format", "none")

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
        raise ModelError(f"invalid JSON schema: {one_line(str(exc))}") from exc
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


def detect_mode(key: tuple[str, str], probe: Mapping, post: Callable[[Mapping], Mapping]) -> str:
    """The mode for server and model `key`, from the cache or by probing: `probe` is the chat
    payload of PROBE_MESSAGES, `post` sends one to the chat completions endpoint."""
    with _MODES_LOCK:
        known = _MODES.get(key)
    if known is not None:
        return known
    found = "none"
    for mode in ("structured_outputs", "response_format"):
        try:
            data = post(with_schema(dict(probe), mode, PROBE_SCHEMA))
        except HTTPRejected as exc:
            if exc.status in (400, 404, 415, 422):
                continue  # a strict server refusing the field: not this mode
            raise
        if conforms(content(first_choice(data)), PROBE_SCHEMA):
            found = mode
            break
    with _MODES_LOCK:
        _MODES[key] = found
    return found
