"""The `openai` backend: any OpenAI-compatible HTTP server (vLLM, llama.cpp's server, ...).

`transport` sends requests (retries, backoff, circuit breaker; the httpx seam tests replace),
`probe` finds the JSON-schema constraint a server really applies, `wire` reads payloads and
answers, `backend` holds the verbs. Nothing is opened before the first call; ``close()`` or
``with OpenAIBackend(...) as b:`` releases the client. The API key travels only in the
``Authorization`` header and is redacted from every error message.
"""

from ..formats import GLM_STOP_TOKEN_IDS
from .backend import OpenAIBackend
from .probe import PROBE_SCHEMA, STRUCTURED_MODES, conforms
from .transport import CircuitBreaker, HTTPRejected

__all__ = [
    "GLM_STOP_TOKEN_IDS",
    "PROBE_SCHEMA",
    "STRUCTURED_MODES",
    "CircuitBreaker",
    "HTTPRejected",
    "OpenAIBackend",
    "conforms",
]
