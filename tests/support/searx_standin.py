"""A local stand-in for a SearxNG instance's JSON API (GET /search?q=...&format=json), as SearxNG
answers: 403 when the format is not `json`, `{"query", "results": [{"url", "title", "content"}]}`.

    with searx_standin(results) as url: SearxNG(url).search("x")
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DEFAULT_RESULTS = [
    {"url": "javascript:alert(1)", "title": "bad", "content": "x"},
    {
        "url": "https://urllib3.readthedocs.io/retry",
        "title": "Retry",
        "content": "Retry configuration. It has a backoff.",
    },
    {"url": "https://example.org/2", "title": "Two", "content": ""},
]


@contextlib.contextmanager
def searx_standin(results: list[dict] | None = None) -> Iterator[tuple[str, list[dict]]]:
    seen: list[dict] = []
    answer = DEFAULT_RESULTS if results is None else results

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            seen.append(q)
            if u.path.rstrip("/").split("/")[-1] != "search" or u.path.startswith("/nope"):
                return self._send(404, {"error": "not found"})
            if q.get("format") != "json":
                return self._send(403, {"error": "format not enabled"})
            if q.get("q") == "boom":
                self.send_response(200)
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"<html>")
                return
            self._send(200, {"query": q.get("q"), "results": answer})

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    finally:
        srv.shutdown()
        srv.server_close()
