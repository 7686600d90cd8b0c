"""A stand-in OpenAI-compatible server for the `openai` backend's tests (stdlib only, threaded).

It behaves like vLLM where that matters to the client:
- validates the request shape (model, messages with known roles and string content, max_tokens a
  positive int) and answers 400/404 with vLLM's error body otherwise;
- ignores fields it does not honour, silently (HTTP 200 and unconstrained text), unless `strict`
  (then unknown fields get a 400, as OpenAI itself does);
- honours `structured_outputs.json` / `response_format` (as configured in `honours`) with a JSON
  value that conforms to the schema (scripted with `json_answer`, else a minimal instance);
- honours `structured_outputs.choice`, `logprobs`/`top_logprobs` and `return_tokens_as_token_ids`
  over a scripted next-token distribution (`next_tokens`: token text -> logprob);
- `prompt_logprobs` with `continue_final_message` (vLLM's chat form) and `return_token_ids`;
- `POST /tokenize` (vLLM's answer shape) and `GET /v1/models`.

Tokens are words, single punctuation marks and whitespace runs (a space sticks to the word after
it), numbered in order of first sight: `StandIn.tokenize` is the tokenizer the tests compare against.

Faults are queued with `fail(kind, times=1, ...)` and used by the next requests, in order:
`delay` (sleeps `seconds` before answering; `latency` delays every chat completion), `500`/`503`,
`429` (with `retry_after`), `truncated` (HTTP 200 with a JSON body cut in half), `close` (drops the
connection without an answer). A schema holding the key `x-unsupported` is refused with a 400, as
vLLM refuses a schema its grammar engine cannot compile.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KNOWN_FIELDS = {
    "model",
    "messages",
    "max_tokens",
    "temperature",
    "logprobs",
    "top_logprobs",
    "stop",
    "stream",
    "n",
}
VLLM_FIELDS = {
    "structured_outputs",
    "response_format",
    "stop_token_ids",
    "return_tokens_as_token_ids",
    "prompt_logprobs",
    "add_generation_prompt",
    "continue_final_message",
    "return_token_ids",
    "echo",
}
ROLES = {"system", "user", "assistant", "tool"}
_TOKEN = re.compile(r" ?\w+| ?[^\w\s]|\s+")


def review_answer(
    *findings: Mapping[str, Any], reason: str = "The rows show it."
) -> Callable[[Mapping], Any]:
    """A ``json_answer`` for a review: ``findings`` under the review's schema, every finding
    confirmed by the generative strategy's check pass, a minimal instance for anything else (the
    backend's structured-output probe)."""

    def answer(schema: Mapping) -> Any:
        props = schema.get("properties", {})
        if "confirmed" in props:
            return {"confirmed": True, "reason": reason}
        if "findings" not in props:
            return minimal_instance(schema)
        return {"findings": [dict(f) for f in findings]}

    return answer


def minimal_instance(schema: Mapping) -> Any:
    """A small value that conforms to a (simple) JSON schema."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props.get(k, {})) for k in schema.get("required", ())}
    if kind == "array":
        n = schema.get("minItems", 0)
        return [minimal_instance(schema.get("items", {})) for _ in range(n)]
    return {"string": "x", "integer": 0, "number": 0, "boolean": False, "null": None}.get(kind, "x")


class StandIn:
    def __init__(
        self,
        *,
        model: str = "standin-model",
        honours: Iterable[str] = ("structured_outputs", "response_format"),
        strict: bool = False,
        logprobs: bool = True,
        prompt_logprobs: bool = True,
        tokenize: bool = True,
        token_ids: bool = True,
        api_key: str | None = None,
        text: str | Callable[[dict], str] = "Looks fine to me: nothing to report.",
        json_answer: Callable[[Mapping], Any] | None = None,
        next_tokens: Mapping[str, float] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.model = model
        self.honours = set(honours)
        self.strict = strict
        self.logprobs = logprobs
        self.prompt_logprobs = prompt_logprobs
        self.tokenize_endpoint = tokenize
        self.token_ids = token_ids
        self.api_key = api_key
        self.text = text
        self.json_answer = json_answer or minimal_instance
        self.next_tokens = dict(next_tokens or {"Hello": -0.2, " Hi": -1.9})
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []  # method, path, headers, body
        self.faults: deque[dict[str, Any]] = deque()
        self.latency = latency  # seconds every chat completion takes, as a busy engine's would
        self.in_flight = 0
        self.max_in_flight = 0
        self._vocab: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> StandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, kind: str, times: int = 1, **params: Any) -> None:
        for _ in range(times):
            self.faults.append({"kind": kind, **params})

    def paths(self, method: str = "POST") -> list[str]:
        return [p for m, p, _, _ in self.requests if m == method]

    # ------------------------------------------------------------------ the model
    def tokenize(self, text: str) -> list[tuple[int, str]]:
        out = []
        with self._lock:
            for piece in _TOKEN.findall(text):
                out.append((self._vocab.setdefault(piece, 1000 + len(self._vocab)), piece))
        return out

    @staticmethod
    def prompt_logprob(piece: str) -> float:
        return -round(0.1 * len(piece.strip() or "_"), 3)

    @staticmethod
    def render(messages: list[dict], generation_prompt: bool) -> str:
        out = "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages)
        if generation_prompt:
            return out + "<|assistant|>\n"
        # continue_final_message: the last message stays open
        return out[: -len("\n")]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # clients that hung up: quiet
        pass


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # ------------------------------------------------------------------ plumbing
    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        kind = {400: "BadRequestError", 401: "AuthenticationError", 404: "NotFoundError"}.get(status, "Error")
        self._send(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        s = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with s._lock:
            s.requests.append((method, self.path, dict(self.headers), body))
            fault = s.faults.popleft() if s.faults else None
            s.in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s.in_flight)
        try:
            if fault is not None and self._fault(fault):
                return
            if s.api_key is not None and self.headers.get("Authorization") != f"Bearer {s.api_key}":
                return self._error(401, "Unauthorized")
            route = {
                ("GET", "/v1/models"): self._models,
                ("POST", "/v1/chat/completions"): self._chat,
                ("POST", "/tokenize"): self._tokenize,
            }.get((method, self.path))
            if route is None or (self.path == "/tokenize" and not s.tokenize_endpoint):
                return self._error(404, f"Not Found: {self.path}")
            if method == "POST" and not isinstance(body, dict):
                return self._error(400, "body must be a JSON object")
            route(body)
        finally:
            with s._lock:
                s.in_flight -= 1

    def _fault(self, fault: dict[str, Any]) -> bool:
        """Apply a fault; True when it answered (or dropped) the request itself."""
        kind = fault["kind"]
        if kind == "delay":
            time.sleep(fault.get("seconds", 1.0))
            return False
        if kind in ("500", "502", "503"):
            message = fault.get("message", "engine overloaded")
            self._error(int(kind), message)
            return True
        if kind == "429":
            self._error(429, "Too Many Requests", {"Retry-After": str(fault.get("retry_after", 1))})
            return True
        if kind == "truncated":
            raw = json.dumps({"id": "cmpl-1", "choices": [{"message": {"content": "x" * 40}}]}).encode()
            raw = raw[: len(raw) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return True
        if kind == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        raise ValueError(f"unknown fault {kind}")

    # ------------------------------------------------------------------ endpoints
    def _models(self, body: Any) -> None:
        self._send(200, {"object": "list", "data": [{"id": self.owner.model, "object": "model"}]})

    def _tokenize(self, body: dict) -> None:
        s = self.owner
        if body.get("model") not in (None, s.model):
            return self._error(404, f"The model `{body.get('model')}` does not exist.")
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            return self._error(400, "prompt must be a string")
        ids = [i for i, _ in s.tokenize(prompt)]
        self._send(200, {"count": len(ids), "max_model_len": 32768, "tokens": ids})

    def _check(self, body: dict) -> str | None:
        s = self.owner
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return "messages must be a non-empty list"
        for m in msgs:
            if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                return f"invalid message {m!r}"
        mt = body.get("max_tokens")
        if mt is not None and (not isinstance(mt, int) or isinstance(mt, bool) or mt <= 0):
            return "max_tokens must be a positive integer"
        if body.get("continue_final_message") and body.get("add_generation_prompt", True):
            return "Cannot set both `continue_final_message` and `add_generation_prompt` to True."
        if s.strict:
            unknown = set(body) - KNOWN_FIELDS - (s.honours & {"response_format"})
            if unknown:
                return f"Unrecognized request argument supplied: {', '.join(sorted(unknown))}"
        return None

    def _chat(self, body: dict) -> None:
        s = self.owner
        problem = self._check(body)
        if problem:
            return self._error(400, problem)
        if body.get("model") != s.model:
            return self._error(404, f"The model `{body.get('model')}` does not exist.")
        if body.get("stream"):
            return self._error(400, "streaming is not supported by this stand-in")
        if s.latency:
            time.sleep(s.latency)
        msgs = body["messages"]
        continue_final = bool(body.get("continue_final_message"))
        prompt = s.tokenize(s.render(msgs, generation_prompt=not continue_final))
        max_tokens = body.get("max_tokens") or 64
        so = body.get("structured_outputs") if "structured_outputs" in s.honours else None
        rf = body.get("response_format") if "response_format" in s.honours else None
        as_ids = bool(body.get("return_tokens_as_token_ids")) and s.token_ids

        def shown(tid: int, piece: str) -> str:
            return f"token_id:{tid}" if as_ids else piece

        top_n = int(body.get("top_logprobs") or 0)
        for constraint in (so, rf):
            if isinstance(constraint, dict) and "x-unsupported" in json.dumps(constraint):
                return self._error(400, "grammar compilation failed: unsupported keyword x-unsupported")
        if isinstance(so, dict) and isinstance(so.get("choice"), list):
            ranked = sorted(s.next_tokens.items(), key=lambda kv: -kv[1])
            allowed = [t for t, _ in ranked if any(c.startswith(t) for c in so["choice"])]
            first = allowed[0] if allowed else s.tokenize(so["choice"][0])[0][1]
            gen_pieces = [first]
        elif isinstance(so, dict) and isinstance(so.get("json"), dict):
            gen_pieces = [
                p for _, p in s.tokenize(json.dumps(s.json_answer(so["json"]), separators=(",", ":")))
            ]
        elif isinstance(rf, dict) and rf.get("type") == "json_schema":
            schema = (rf.get("json_schema") or {}).get("schema") or {}
            gen_pieces = [p for _, p in s.tokenize(json.dumps(s.json_answer(schema), separators=(",", ":")))]
        elif max_tokens == 1 and s.next_tokens:
            gen_pieces = [max(s.next_tokens.items(), key=lambda kv: kv[1])[0]]
        else:
            text = s.text(body) if callable(s.text) else s.text
            gen_pieces = [p for _, p in s.tokenize(text)]
        finish = "stop"
        if len(gen_pieces) > max_tokens:
            gen_pieces, finish = gen_pieces[:max_tokens], "length"
        content = "".join(gen_pieces)
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish,
            "logprobs": None,
        }
        if body.get("logprobs") and s.logprobs:
            entries = []
            for i, piece in enumerate(gen_pieces):
                tid = s.tokenize(piece)[0][0]
                lp = s.next_tokens.get(piece, -0.05) if i == 0 else -0.05
                tops = sorted(s.next_tokens.items(), key=lambda kv: -kv[1])[:top_n] if i == 0 else []
                entries.append(
                    {
                        "token": shown(tid, piece),
                        "logprob": lp,
                        "bytes": list(piece.encode()),
                        "top_logprobs": [
                            {"token": shown(s.tokenize(t)[0][0], t), "logprob": v, "bytes": list(t.encode())}
                            for t, v in tops
                        ],
                    }
                )
            choice["logprobs"] = {"content": entries}
        answer: dict[str, Any] = {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": s.model,
            "choices": [choice],
            "usage": {
                "prompt_tokens": len(prompt),
                "completion_tokens": len(gen_pieces),
                "total_tokens": len(prompt) + len(gen_pieces),
            },
        }
        if s.prompt_logprobs and body.get("prompt_logprobs") is not None:
            plps: list[Any] = [None]
            for tid, piece in prompt[1:]:
                plps.append(
                    {str(tid): {"logprob": s.prompt_logprob(piece), "rank": 1, "decoded_token": piece}}
                )
            answer["prompt_logprobs"] = plps
            if body.get("return_token_ids"):
                answer["prompt_token_ids"] = [tid for tid, _ in prompt]
        self._send(200, answer)
