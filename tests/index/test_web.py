"""The SearxNG web backend against a local stand-in that answers as SearxNG's JSON API does."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from reviewbot.errors import ToolError
from reviewbot.index.web import SearxNG


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        _Handler.seen.append(q)
        if u.path != "/search":
            return self._send(404, {"error": "not found"})
        if q.get("format") != "json":  # SearxNG answers 403 for a format not enabled
            return self._send(403, {"error": "format"})
        if q.get("q") == "boom":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>")
            return
        results = [
            {"url": "javascript:alert(1)", "title": "bad", "content": "x"},
            {
                "url": "https://urllib3.readthedocs.io/retry",
                "title": "Retry",
                "content": "Retry configuration. It has a backoff.",
            },
            {"url": "https://example.org/2", "title": "Two", "content": ""},
        ]
        self._send(200, {"query": q.get("q"), "results": results})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_results_are_read_from_the_json_api(server: str) -> None:
    got = SearxNG(server + "/").search("urllib3 Retry", k=1)
    assert [(r.url, r.title) for r in got] == [("https://urllib3.readthedocs.io/retry", "Retry")]
    assert _Handler.seen[-1] == {"q": "urllib3 Retry", "format": "json"}


def test_failures_are_one_line_tool_errors(server: str) -> None:
    with pytest.raises(ToolError, match="not SearxNG JSON"):
        SearxNG(server).search("boom")
    with pytest.raises(ToolError, match="HTTP 404"):
        SearxNG(server + "/nope").search("x")
    with pytest.raises(ToolError, match="ConnectError"):
        SearxNG("http://127.0.0.1:9", timeout=2).search("x")
