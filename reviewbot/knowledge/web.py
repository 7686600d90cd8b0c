"""An optional web search backend: a self-hosted SearxNG instance's JSON API, configured by URL.

    SearxNG("http://searx.internal:8080").search("urllib3 Retry allowed_methods", k=3)
        -> [WebResult(url, title, content), ...]

It calls `GET {url}/search?q=...&format=json` (the instance must list `json` under
`search.formats` in its settings.yml, or it answers 403) and reads `results[].url`, `.title` and
`.content`. Off by default (`search.web_url` unset); a failure is a ToolError with one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..errors import ToolError


@dataclass(frozen=True, slots=True)
class WebResult:
    url: str
    title: str
    content: str


class SearxNG:
    def __init__(
        self, url: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.transport = transport

    def search(self, query: str, k: int = 3) -> list[WebResult]:
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                r = client.get(f"{self.url}/search", params={"q": query, "format": "json"})
        except httpx.HTTPError as exc:
            raise ToolError(f"web search {self.url}: {type(exc).__name__}: {exc}") from exc
        if r.status_code != 200:
            hint = " (is `json` in the instance's search.formats?)" if r.status_code == 403 else ""
            raise ToolError(f"web search {self.url}: HTTP {r.status_code}{hint}")
        try:
            results = r.json().get("results", [])
        except (ValueError, AttributeError) as exc:
            raise ToolError(f"web search {self.url}: the answer is not SearxNG JSON") from exc
        out = []
        for item in results if isinstance(results, list) else []:
            if (
                isinstance(item, dict)
                and isinstance(item.get("url"), str)
                and item["url"].startswith(("http://", "https://"))
            ):
                out.append(
                    WebResult(item["url"], str(item.get("title") or ""), str(item.get("content") or ""))
                )
            if len(out) == k:
                break
        return out
