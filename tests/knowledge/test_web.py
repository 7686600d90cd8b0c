"""The SearxNG web backend against a local stand-in that answers as SearxNG's JSON API does."""

from __future__ import annotations

import pytest
from support.searx_standin import searx_standin

from reviewbot.errors import ToolError
from reviewbot.knowledge.web import SearxNG


@pytest.fixture
def server():
    with searx_standin() as (url, seen):
        yield url, seen


def test_results_are_read_from_the_json_api(server) -> None:
    url, seen = server
    got = SearxNG(url + "/").search("urllib3 Retry", k=1)
    assert [(r.url, r.title) for r in got] == [("https://urllib3.readthedocs.io/retry", "Retry")]
    assert seen[-1] == {"q": "urllib3 Retry", "format": "json"}


def test_failures_are_one_line_tool_errors(server) -> None:
    url, _ = server
    with pytest.raises(ToolError, match="not SearxNG JSON"):
        SearxNG(url).search("boom")
    with pytest.raises(ToolError, match="HTTP 404"):
        SearxNG(url + "/nope").search("x")
    with pytest.raises(ToolError, match="ConnectError"):
        SearxNG("http://127.0.0.1:9", timeout=2).search("x")
