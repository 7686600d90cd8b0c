"""A local stand-in for GitHub's REST API (the endpoints reviewbot uses), enforcing GitHub's documented rules.

It runs an HTTP server in a thread; PyGithub reaches it through ``base_url``. It keeps its own
diff reading (independent of reviewbot's parser, so a parser bug cannot hide itself) and refuses
what GitHub refuses:

- ``POST .../pulls/{n}/reviews``: 422 when any comment's ``line`` (or ``start_line``) is not part of
  the diff on its ``side`` at ``commit_id``, when ``start_line >= line`` or the two are in different
  hunks, for a path not in the diff, for the deprecated ``position``, for a COMMENT without a body,
  for a ``commit_id`` that is not one of the PR's heads, and for bodies over 65,536 characters. The
  whole review fails, without saying which comment (as GitHub does). Without ``event`` the review
  stays PENDING, and a second pending review by the same user is a 422.
- ``GET .../pulls/{n}`` as a diff: 406 above 20,000 diff lines or 300 files.
- check runs: 422 above 50 annotations in one request, for a summary over 65,535 characters, for an
  annotation without its required fields; PATCH appends annotations.
- issue comments: 65,536 characters; only the author may edit.
- secondary rate limits: more than ``writes_per_minute`` content-creating requests a minute (POST and
  PATCH; a GraphQL query is a read, a mutation a write) get 403 with ``retry-after`` and GitHub's message.
- faults, injected by tests: ``fail(method, path_regex, kind, times)`` with kind ``502-after`` (the
  write is done, then 502: a retry would duplicate it), ``502``, ``secondary`` (403 + retry-after),
  ``secondary-noheader`` (403 with the message only), ``primary`` (403, x-ratelimit-remaining 0).
  ``flaky_after_write`` (0..1, seeded) answers a random share of writes with 502 after doing them.

Every request is logged in ``log`` as ``(method, path, status)``; refusals also in ``rejections``.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BODY_LIMIT = 65_536
CHECK_SUMMARY_LIMIT = 65_535
MAX_DIFF_LINES = 20_000
MAX_DIFF_FILES = 300
BOT = "github-actions[bot]"
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


# ----------------------------------------------------------------------------- its own diff reading


@dataclass
class DiffFile:
    old: str | None
    new: str | None
    right: dict[int, int] = field(default_factory=dict)  # new line number -> hunk index
    right_text: dict[int, bytes] = field(default_factory=dict)  # new line number -> its text
    left: dict[int, int] = field(default_factory=dict)  # old line number -> hunk index

    @property
    def path(self) -> str:
        return self.new or self.old or ""


@dataclass
class DiffInfo:
    files: list[DiffFile]
    lines: int

    def file(self, path: str) -> DiffFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None


def _strip(p: bytes, prefix: bytes) -> str | None:
    p = p.rstrip(b"\r\n")
    if b"\t" in p:
        p = p.split(b"\t", 1)[0]
    if p == b"/dev/null":
        return None
    return (
        p[len(prefix) :].decode("utf-8", "surrogateescape")
        if p.startswith(prefix)
        else p.decode("utf-8", "surrogateescape")
    )


def read_diff(data: bytes) -> DiffInfo:
    """Which lines each file of a git diff shows: RIGHT = added and context lines by new number,
    LEFT = removed and context lines by old number (what GitHub's diff view shows)."""
    files: list[DiffFile] = []
    lines = data.split(b"\n")
    cur: DiffFile | None = None
    i = 0
    hunk = -1
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(b"diff --git "):
            m = re.match(rb"diff --git a/(.*) b/(.*)$", ln.rstrip(b"\r"))
            a, b = (
                (m.group(1).decode("utf-8", "surrogateescape"), m.group(2).decode("utf-8", "surrogateescape"))
                if m
                else (None, None)
            )
            cur = DiffFile(a, b)
            files.append(cur)
            hunk = -1
        elif cur is not None and ln.startswith(b"new file mode"):
            cur.old = None
        elif cur is not None and ln.startswith(b"deleted file mode"):
            cur.new = None
        elif cur is not None and ln.startswith(b"rename to "):
            cur.new = ln[10:].rstrip(b"\r").decode("utf-8", "surrogateescape")
        elif cur is not None and ln.startswith(b"rename from "):
            cur.old = ln[12:].rstrip(b"\r").decode("utf-8", "surrogateescape")
        elif cur is not None and ln.startswith(b"--- "):
            cur.old = _strip(ln[4:], b"a/")
        elif cur is not None and ln.startswith(b"+++ "):
            cur.new = _strip(ln[4:], b"b/")
        elif cur is not None and (m := _HUNK.match(ln)):
            hunk += 1
            o, olen = int(m.group(1)), int(m.group(2)) if m.group(2) is not None else 1
            n, nlen = int(m.group(3)), int(m.group(4)) if m.group(4) is not None else 1
            i += 1
            while (olen > 0 or nlen > 0) and i < len(lines):
                t = lines[i]
                c = t[:1]
                if c == b"+":
                    cur.right[n] = hunk
                    cur.right_text[n] = t[1:]
                    n += 1
                    nlen -= 1
                elif c == b"-":
                    cur.left[o] = hunk
                    o += 1
                    olen -= 1
                elif c == b"\\":
                    pass
                else:  # a context line (an empty one when trailing spaces were stripped)
                    cur.right[n] = hunk
                    cur.right_text[n] = t[1:]
                    cur.left[o] = hunk
                    o += 1
                    n += 1
                    olen -= 1
                    nlen -= 1
                i += 1
            continue
        i += 1
    n_lines = data.count(b"\n")
    return DiffInfo(files, n_lines)


# ---------------------------------------------------------------------------------------- state


@dataclass
class Pull:
    repo: str
    number: int
    base: str
    heads: list[str]  # every head pushed, the current last
    diffs: dict[str, bytes]  # head -> the PR's diff at that head
    head_repo: str
    pending: set[str] = field(default_factory=set)  # users with a pending review

    @property
    def head(self) -> str:
        return self.heads[-1]


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: str
    times: int


class GitHubStandIn:
    def __init__(
        self,
        token: str = "ghs_standin_token",
        *,
        writes_per_minute: int = 80,
        seed: int = 0,
        prefix: str = "",
    ) -> None:
        self.token = token
        self.prefix = prefix  # "/api/v3" for a GitHub Enterprise Server layout
        self.writes_per_minute = writes_per_minute
        self.flaky_after_write = 0.0
        self.retry_after = 1
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.pulls: dict[tuple[str, int], Pull] = {}
        self.contents: dict[tuple[str, str, str], str] = {}  # (repo, ref, path) -> text, for GET .../contents
        self.default_branches: dict[str, str] = {}  # repo -> its default branch ("main" when not set)
        self.compares: dict[tuple[str, str, str], bytes] = {}
        self.reviews: list[dict[str, Any]] = []
        self.review_comments: list[dict[str, Any]] = []
        self.issue_comments: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        self.log: list[tuple[str, str, int]] = []
        self.rejections: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.write_times: list[float] = []
        self._ids = 1000
        self._diff_cache: dict[int, DiffInfo] = {}
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------ set-up

    def add_pull(
        self, repo: str, number: int, *, base: str, head: str, diff: bytes, head_repo: str | None = None
    ) -> Pull:
        with self.lock:
            p = Pull(repo, number, base, [head], {head: diff}, head_repo or repo)
            self.pulls[(repo, number)] = p
            return p

    def push(self, repo: str, number: int, *, head: str, diff: bytes) -> None:
        """A new head. Comments whose RIGHT line no longer shows the same text become outdated
        (``line`` null, as GitHub answers), a simpler rule than GitHub's, which follows moved lines."""
        with self.lock:
            p = self.pulls[(repo, number)]
            p.heads.append(head)
            p.diffs[head] = diff
            new = self.diff_info(diff)
            for c in self.comments_of(repo, number):
                if c.get("line") is None or c.get("side") != "RIGHT" or c["commit_id"] not in p.diffs:
                    continue
                old_f = self.diff_info(p.diffs[c["commit_id"]]).file(c["path"])
                new_f = new.file(c["path"])
                old_t = old_f.right_text.get(c["line"]) if old_f else None
                if new_f is None or new_f.right_text.get(c["line"]) != old_t:
                    c["original_line"], c["line"], c["outdated"] = c["line"], None, True

    def add_compare(self, repo: str, base: str, head: str, diff: bytes) -> None:
        self.compares[(repo, base, head)] = diff

    def fail(self, method: str, path: str, kind: str, times: int = 1) -> None:
        self.faults.append(Fault(method, re.compile(path), kind, times))

    def add_issue_comment(self, repo: str, number: int, body: str, user: str) -> None:
        with self.lock:
            self.issue_comments.append(
                {"id": self._id(), "repo": repo, "number": number, "body": body, "user": {"login": user}}
            )

    def add_review_comment(self, repo: str, number: int, body: str, user: str, path: str, line: int) -> None:
        with self.lock:
            self.review_comments.append(
                {
                    "id": self._id(),
                    "repo": repo,
                    "number": number,
                    "body": body,
                    "user": {"login": user},
                    "path": path,
                    "line": line,
                    "side": "RIGHT",
                    "commit_id": self.pulls[(repo, number)].head,
                    "pull_request_review_id": None,
                }
            )

    def _id(self) -> int:  # also used by the service endpoints at the end of this file
        self._ids += 1
        return self._ids

    def diff_info(self, data: bytes) -> DiffInfo:
        key = id(data)
        if key not in self._diff_cache:
            self._diff_cache[key] = read_diff(data)
        return self._diff_cache[key]

    # --------------------------------------------------------------------------- serving

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> GitHubStandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    # ---------------------------------------------------------------------------- queries

    def statuses(self, method: str | None = None, path: str = "") -> list[int]:
        return [s for m, p, s in self.log if (method is None or m == method) and re.search(path, p)]

    def reviews_of(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [r for r in self.reviews if r["repo"] == repo and r["number"] == number]

    def comments_of(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.review_comments if c["repo"] == repo and c["number"] == number]


class _Reject(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}


class _Handler(BaseHTTPRequestHandler):
    standin: GitHubStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    # ------------------------------------------------------------------------------ plumbing

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        with self.standin.lock:  # logged before the client can read the answer: tests read the log next
            self.standin.log.append((self.command, self._logged_path, status))
        self._logged = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _serve(self, method: str) -> None:
        s = self.standin
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlparse(self.path)
        path = url.path
        if s.prefix:
            if path == s.prefix.removesuffix("/v3") + "/graphql":
                path = "/graphql"
            elif path.startswith(s.prefix + "/"):
                path = path[len(s.prefix) :]
            else:
                path = "/not-under-the-prefix" + path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        status = 500
        self._logged, self._logged_path = False, path
        try:
            auth = self.headers.get("Authorization") or ""
            if auth not in (f"token {s.token}", f"Bearer {s.token}") and not _app_authorized(
                s, auth, method, path
            ):
                raise _Reject(401, "Bad credentials")
            fault = self._fault(method, path)
            if fault in ("secondary", "secondary-noheader", "primary", "502"):
                raise self._fault_reject(fault)
            body = json.loads(raw) if raw else {}
            # a GraphQL query reads (GitHub's secondary limit on content creation counts mutations)
            read = path == "/graphql" and not str(body.get("query", "")).lstrip().startswith("mutation")
            write = method in ("POST", "PATCH") and not read
            if write:
                self._secondary_limit()
            with s.lock:
                status, payload, ctype = self._route(method, path, query, body)
            if write and (
                fault == "502-after" or (s.flaky_after_write and s.rng.random() < s.flaky_after_write)
            ):
                raise _Reject(502, "Server Error")  # the write is done; the client does not know
            if isinstance(payload, bytes):
                self._send(status, payload, ctype)
            else:
                self._json(status, payload)
        except _Reject as r:
            status = r.status
            if r.status == 422:
                s.rejections.append((path, r.message + ": " + "; ".join(r.errors)))
            if r.status == 502:
                self._send(502, b"<html><body>502 Bad Gateway</body></html>", "text/html", r.headers)
            else:
                doc: dict[str, Any] = {
                    "message": r.message,
                    "documentation_url": "https://docs.github.com/rest",
                }
                if r.errors:
                    doc["errors"] = r.errors
                self._json(r.status, doc, r.headers)
        finally:
            if not self._logged:
                with s.lock:
                    s.log.append((method, path, status))

    def _fault(self, method: str, path: str) -> str | None:
        s = self.standin
        with s.lock:
            for f in s.faults:
                if f.times > 0 and f.method == method and f.path.search(path):
                    f.times -= 1
                    return f.kind
        return None

    def _fault_reject(self, kind: str) -> _Reject:
        s = self.standin
        if kind == "secondary":
            return _Reject(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                headers={"Retry-After": str(s.retry_after)},
            )
        if kind == "secondary-noheader":
            return _Reject(
                403,
                "You have exceeded a secondary rate limit and have been temporarily blocked "
                "from content creation.",
            )
        if kind == "primary":
            return _Reject(
                403,
                "API rate limit exceeded for installation.",
                headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)},
            )
        return _Reject(502, "Server Error")

    def _secondary_limit(self) -> None:
        s = self.standin
        now = time.monotonic()
        with s.lock:
            s.write_times = [t for t in s.write_times if now - t < 60]
            if len(s.write_times) >= s.writes_per_minute:
                raise _Reject(
                    403,
                    "You have exceeded a secondary rate limit. "
                    "Please wait a few minutes before you try again.",
                    headers={"Retry-After": str(s.retry_after)},
                )
            s.write_times.append(now)

    # --------------------------------------------------------------------------------- routes

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any, str]:
        s = self.standin
        page = int(query.get("page", 1))
        per = min(100, int(query.get("per_page", 30)))

        def paged(items: list[Any]) -> list[Any]:
            return items[(page - 1) * per : page * per]

        if method == "GET" and path == "/user":
            raise _Reject(403, "Resource not accessible by integration")
        if (answer := _service_route(s, method, path, query, body)) is not None:
            return answer
        if method == "POST" and path == "/graphql":
            return 200, self._graphql(body), ""
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not m:
            raise _Reject(404, "Not Found")
        repo, rest = m.group(1), m.group(2) or ""
        if rest == "" and method == "GET":
            known = {r for r, _ in s.pulls} | {r for r, _, _ in s.contents} | set(s.default_branches)
            if repo not in known:  # GitHub: 404 for a repository that is not there or not visible
                raise _Reject(404, "Not Found")
            return (
                200,
                {
                    "full_name": repo,
                    "name": repo.split("/")[1],
                    "url": f"/repos/{repo}",
                    "default_branch": s.default_branches.get(repo, "main"),
                },
                "",
            )
        if mm := re.fullmatch(r"/pulls/(\d+)", rest):
            p = self._pull(repo, int(mm.group(1)))
            if "diff" in (self.headers.get("Accept") or ""):
                return self._diff(p.diffs[p.head])
            return (
                200,
                {
                    "number": p.number,
                    "title": f"PR {p.number}",
                    "state": "open",
                    "url": f"/repos/{repo}/pulls/{p.number}",
                    "html_url": f"https://github.invalid/{repo}/pull/{p.number}",
                    "head": {"sha": p.head, "repo": {"full_name": p.head_repo}},
                    "base": {"sha": p.base, "repo": {"full_name": repo}},
                },
                "",
            )
        if (mm := re.fullmatch(r"/contents/(.+)", rest)) and method == "GET":
            text = s.contents.get((repo, query.get("ref", ""), mm.group(1)))
            if text is None:  # GitHub: 404 for a path (or ref) that is not there
                raise _Reject(404, "Not Found")
            if "raw" not in (self.headers.get("Accept") or ""):
                raise _Reject(415, "the stand-in serves contents only as application/vnd.github.raw")
            return 200, text.encode("utf-8"), "text/plain; charset=utf-8"
        if mm := re.fullmatch(r"/compare/([0-9a-f]+)\.\.\.([0-9a-f]+)", rest):
            data = s.compares.get((repo, mm.group(1), mm.group(2)))
            if data is None:
                raise _Reject(404, "Not Found")
            return self._diff(data)
        if mm := re.fullmatch(r"/pulls/(\d+)/reviews", rest):
            p = self._pull(repo, int(mm.group(1)))
            if method == "GET":
                return 200, paged([self._public(r) for r in s.reviews_of(repo, p.number)]), ""
            return 200, self._create_review(p, body), ""
        if mm := re.fullmatch(r"/pulls/(\d+)/comments", rest):
            p = self._pull(repo, int(mm.group(1)))
            return 200, paged([self._public(c) for c in s.comments_of(repo, p.number)]), ""
        if mm := re.fullmatch(r"/issues/(\d+)/comments", rest):
            n = int(mm.group(1))
            self._pull(repo, n)
            if method == "GET":
                return (
                    200,
                    paged(
                        [self._public(c) for c in s.issue_comments if c["repo"] == repo and c["number"] == n]
                    ),
                    "",
                )
            text = self._body(body, required=True)
            c = {"id": s._id(), "repo": repo, "number": n, "body": text, "user": {"login": BOT}}
            s.issue_comments.append(c)
            return 201, self._public(c), ""
        if mm := re.fullmatch(r"/issues/comments/(\d+)", rest):
            c = next((c for c in s.issue_comments if c["id"] == int(mm.group(1)) and c["repo"] == repo), None)
            if c is None:
                raise _Reject(404, "Not Found")
            if c["user"]["login"] != BOT:
                raise _Reject(403, "Resource not accessible by integration")
            c["body"] = self._body(body, required=True)
            return 200, self._public(c), ""
        if rest == "/check-runs" and method == "POST":
            return 201, self._check_run(repo, body, None), ""
        if mm := re.fullmatch(r"/check-runs/(\d+)", rest):
            run = next((r for r in s.check_runs if r["id"] == int(mm.group(1)) and r["repo"] == repo), None)
            if run is None:
                raise _Reject(404, "Not Found")
            if method == "GET":
                return 200, self._public_run(run), ""
            return 200, self._check_run(repo, body, run), ""
        if mm := re.fullmatch(r"/commits/([0-9a-f]+)/check-runs", rest):
            runs = [
                self._public_run(r)
                for r in s.check_runs
                if r["repo"] == repo
                and r["head_sha"] == mm.group(1)
                and r["name"] == query.get("check_name", r["name"])
            ]
            return 200, {"total_count": len(runs), "check_runs": paged(runs)}, ""
        raise _Reject(404, "Not Found")

    # ------------------------------------------------------------------------------- helpers

    def _graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        """The two operations reviewbot sends: list review threads, resolve one."""
        s = self.standin
        q, v = str(body.get("query") or ""), body.get("variables") or {}
        if "pullRequests(" in q:
            s.__dict__["thread_reads"] = s.__dict__.get("thread_reads", 0) + 1  # the learning signals' query
            return pull_request_threads(s, v)
        if "resolveReviewThread" in q:
            c = next((c for c in s.review_comments if f"PRRT_{c['id']}" == v.get("id")), None)
            if c is None:
                return {"errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a node"}]}
            c["resolved"] = True
            return {"data": {"resolveReviewThread": {"thread": {"id": v["id"], "isResolved": True}}}}
        if "reviewThreads" in q:
            repo = f"{v.get('owner')}/{v.get('name')}"
            threads = [
                c for c in s.comments_of(repo, int(v.get("number") or 0)) if c.get("in_reply_to_id") is None
            ]
            start = int(v["after"]) if v.get("after") else 0
            page = threads[start : start + 100]
            nodes = [
                {
                    "id": f"PRRT_{c['id']}",
                    "isResolved": bool(c.get("resolved")),
                    "isOutdated": bool(c.get("outdated")),
                    "comments": {
                        "nodes": [
                            {"body": c["body"], "author": {"login": c["user"]["login"].removesuffix("[bot]")}}
                        ]
                    },
                }
                for c in page
            ]
            more = start + 100 < len(threads)
            info = {"hasNextPage": more, "endCursor": str(start + 100) if more else None}
            return {
                "data": {"repository": {"pullRequest": {"reviewThreads": {"pageInfo": info, "nodes": nodes}}}}
            }
        return {"errors": [{"message": "this stand-in answers only reviewThreads and resolveReviewThread"}]}

    def _pull(self, repo: str, n: int) -> Pull:
        p = self.standin.pulls.get((repo, n))
        if p is None:
            raise _Reject(404, "Not Found")
        return p

    def _diff(self, data: bytes) -> tuple[int, Any, str]:
        info = self.standin.diff_info(data)
        if info.lines > MAX_DIFF_LINES:
            raise _Reject(
                406,
                f"Sorry, the diff exceeded the maximum number of lines ({MAX_DIFF_LINES}). Consider using "
                "'List pull requests files' API or locally cloning the repository instead.",
                [{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
            )  # type: ignore[list-item]
        if len(info.files) > MAX_DIFF_FILES:
            raise _Reject(
                406,
                f"Sorry, the diff exceeded the maximum number of files ({MAX_DIFF_FILES}). Consider using "
                "'List pull requests files' API or locally cloning the repository instead.",
                [{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
            )  # type: ignore[list-item]
        return 200, data, "text/x-diff; charset=utf-8"

    @staticmethod
    def _public(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in ("repo", "number")}

    @staticmethod
    def _public_run(r: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in r.items() if k not in ("repo", "annotations")}
        out["output"] = {**r["output"], "annotations_count": len(r["annotations"])}
        return out

    @staticmethod
    def _body(body: Any, *, required: bool) -> str:
        text = body.get("body") if isinstance(body, dict) else None
        if text is None or not isinstance(text, str) or (required and not text):
            raise _Reject(422, "Validation Failed", ["body is missing"])
        if len(text) > BODY_LIMIT:
            raise _Reject(
                422, "Validation Failed", [f"Body is too long (maximum is {BODY_LIMIT} characters)"]
            )
        return text

    def _create_review(self, p: Pull, body: dict[str, Any]) -> dict[str, Any]:
        s = self.standin
        event = body.get("event")
        commit = body.get("commit_id") or p.head
        if commit not in p.diffs:
            raise _Reject(422, "Unprocessable Entity", ["commit_id is not part of the pull request"])
        if event is not None and event not in ("APPROVE", "REQUEST_CHANGES", "COMMENT"):
            raise _Reject(422, "Unprocessable Entity", [f"event {event!r} is not valid"])
        text = body.get("body")
        if event in ("REQUEST_CHANGES", "COMMENT") and not text:
            raise _Reject(
                422, "Unprocessable Entity", ["Body is required when using REQUEST_CHANGES or COMMENT"]
            )
        if text is not None and len(text) > BODY_LIMIT:
            raise _Reject(
                422, "Unprocessable Entity", [f"Body is too long (maximum is {BODY_LIMIT} characters)"]
            )
        if event is None and BOT in p.pending:
            raise _Reject(
                422, "Unprocessable Entity", ["User can only have one pending review per pull request"]
            )
        info = self.standin.diff_info(p.diffs[commit])
        comments = body.get("comments") or []
        for c in comments:
            err = self._check_comment(c, info)
            if err:  # GitHub fails the whole review and does not say which comment
                raise _Reject(422, "Unprocessable Entity", [err])
        rid = s._id()
        review = {
            "id": rid,
            "repo": p.repo,
            "number": p.number,
            "user": {"login": BOT},
            "body": text or "",
            "state": "COMMENTED" if event == "COMMENT" else (event or "PENDING"),
            "commit_id": commit,
        }
        if event is None:
            p.pending.add(BOT)
        s.reviews.append(review)
        for c in comments:
            s.review_comments.append(
                {
                    "id": s._id(),
                    "repo": p.repo,
                    "number": p.number,
                    "pull_request_review_id": rid,
                    "user": {"login": BOT},
                    "body": c["body"],
                    "path": c["path"],
                    "line": c["line"],
                    "side": c.get("side", "RIGHT"),
                    "start_line": c.get("start_line"),
                    "start_side": c.get("start_side"),
                    "commit_id": commit,
                }
            )
        return self._public(review)

    @staticmethod
    def _check_comment(c: Any, info: DiffInfo) -> str | None:
        if not isinstance(c, dict) or "path" not in c or "body" not in c:
            return "comment needs path and body"
        if "position" in c:
            return "position is deprecated and not accepted by this stand-in; use line and side"
        if not isinstance(c["body"], str) or len(c["body"]) > BODY_LIMIT:
            return f"comment body is too long (maximum is {BODY_LIMIT} characters)"
        f = info.file(c["path"])
        if f is None:
            return "Path could not be resolved"
        side = c.get("side", "RIGHT")
        if side not in ("LEFT", "RIGHT"):
            return "side must be LEFT or RIGHT"
        line = c.get("line")
        if not isinstance(line, int) or isinstance(line, bool):
            return "line is required"
        table = f.right if side == "RIGHT" else f.left
        if line not in table:
            return "pull_request_review_thread.line must be part of the diff"
        if "start_line" in c:
            start = c["start_line"]
            start_side = c.get("start_side", side)
            if not isinstance(start, int) or start >= line:
                return "pull_request_review_thread.start_line must precede the end line"
            st = f.right if start_side == "RIGHT" else f.left
            if start not in st:
                return "pull_request_review_thread.start_line must be part of the diff"
            if st[start] != table[line]:
                return "pull_request_review_thread.start_line must be part of the same hunk as the line"
        return None

    def _check_run(self, repo: str, body: dict[str, Any], run: dict[str, Any] | None) -> dict[str, Any]:
        s = self.standin
        if run is None and (not body.get("name") or not body.get("head_sha")):
            raise _Reject(422, "Validation Failed", ["name and head_sha are required"])
        status = body.get("status", run["status"] if run else "queued")
        concl = body.get("conclusion", run["conclusion"] if run else None)
        if status == "completed" and concl not in (
            "action_required",
            "cancelled",
            "failure",
            "neutral",
            "success",
            "skipped",
            "stale",
            "timed_out",
        ):
            raise _Reject(422, "Validation Failed", ["conclusion is required when status is completed"])
        out = body.get("output")
        anns: list[dict[str, Any]] = []
        if out is not None:
            if not out.get("title") or "summary" not in out:
                raise _Reject(422, "Validation Failed", ["output needs title and summary"])
            if len(out["summary"]) > CHECK_SUMMARY_LIMIT:
                raise _Reject(
                    422, "Validation Failed", [f"summary is too long (maximum is {CHECK_SUMMARY_LIMIT})"]
                )
            anns = out.get("annotations") or []
            if len(anns) > 50:
                raise _Reject(422, "Validation Failed", ["Only 50 annotations are allowed per request"])
            for a in anns:
                if not all(k in a for k in ("path", "start_line", "end_line", "annotation_level", "message")):
                    raise _Reject(422, "Validation Failed", ["annotation is missing a required field"])
                if (
                    a["annotation_level"] not in ("notice", "warning", "failure")
                    or a["start_line"] > a["end_line"]
                ):
                    raise _Reject(422, "Validation Failed", ["annotation is invalid"])
        if run is None:
            run = {
                "id": s._id(),
                "repo": repo,
                "name": body["name"],
                "head_sha": body["head_sha"],
                "external_id": body.get("external_id"),
                "status": status,
                "conclusion": concl,
                "output": {"title": None, "summary": None},
                "annotations": [],
            }
            s.check_runs.append(run)
        run["status"], run["conclusion"] = status, concl
        if out is not None:
            run["output"] = {"title": out["title"], "summary": out["summary"]}
            run["annotations"].extend(anns)
        return self._public_run(run)


# ---------------------------------------------------------------------- the webhook service's endpoints
# A GitHub App (JWT -> installation token), collaborator permissions, replies in review threads and
# the list of open pull requests. Set up with ``install_app``, ``set_permission``, ``close``.
APP_JWT_MAX_S = 600  # GitHub: exp at most 10 minutes after iat


@dataclass
class AppState:
    app_id: int
    public_key: Any  # the App's public key: every JWT's RS256 signature is checked with it
    token_ttl: float = 3600.0  # GitHub: installation tokens expire after an hour
    installations: set[int] = field(default_factory=set)
    tokens: dict[str, float] = field(default_factory=dict)  # installation token -> expiry (epoch s)
    jwts: list[dict[str, Any]] = field(default_factory=list)  # the claims of every accepted JWT


def install_app(
    standin: GitHubStandIn, app_id: int, public_key: Any, installations: set[int], token_ttl: float = 3600.0
) -> AppState:
    standin.app = AppState(app_id, public_key, token_ttl, set(installations))  # type: ignore[attr-defined]
    return standin.app  # type: ignore[attr-defined]


def set_permission(standin: GitHubStandIn, repo: str, user: str, role: str) -> None:
    """``role``: admin, maintain, write, triage or read; users never set are not collaborators (404)."""
    standin.__dict__.setdefault("roles", {})[(repo, user)] = role


def close(standin: GitHubStandIn, repo: str, number: int) -> None:
    standin.__dict__.setdefault("closed", set()).add((repo, number))


def _app_authorized(s: GitHubStandIn, auth: str, method: str, path: str) -> bool:
    """An installation token that has not expired; a JWT only for the access-token endpoint (401 else)."""
    app: AppState | None = getattr(s, "app", None)
    if app is None:
        return False
    kind, _, value = auth.partition(" ")
    if kind.lower() == "token" and value in app.tokens:
        return app.tokens[value] > time.time()
    if kind == "Bearer" and method == "POST" and re.fullmatch(r"/app/installations/\d+/access_tokens", path):
        return _check_jwt(app, value)
    return False


def _check_jwt(app: AppState, token: str) -> bool:
    import jwt  # PyJWT, PyGithub's own dependency

    try:
        claims = jwt.decode(
            token, app.public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}, leeway=0
        )
    except jwt.PyJWTError:
        return False  # a bad signature, an expired or malformed token: GitHub answers 401
    now = time.time()
    if (
        str(claims["iss"]) != str(app.app_id)
        or claims["iat"] > now + 60
        or claims["exp"] - claims["iat"] > APP_JWT_MAX_S
    ):
        return False
    app.jwts.append(claims)
    return True


def _service_route(
    s: GitHubStandIn, method: str, path: str, query: dict[str, str], body: Any
) -> tuple[int, Any, str] | None:
    if mm := re.fullmatch(r"/app/installations/(\d+)/access_tokens", path):
        app: AppState = s.app  # type: ignore[attr-defined]
        if int(mm.group(1)) not in app.installations:
            raise _Reject(404, "Not Found")
        token = f"ghs_installation_{s._id()}"
        app.tokens[token] = time.time() + app.token_ttl
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(app.tokens[token]))
        return 201, {"token": token, "expires_at": expires, "permissions": {"pull_requests": "write"}}, ""
    m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)", path)
    if not m:
        return None
    repo, rest = m.group(1), m.group(2)
    if (mm := re.fullmatch(r"/collaborators/([^/]+)/permission", rest)) and method == "GET":
        role = s.__dict__.get("roles", {}).get((repo, mm.group(1)))
        if role is None:  # GitHub: 404 for a user who is not a collaborator
            raise _Reject(404, "Not Found")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        return 200, {"permission": legacy, "role_name": role, "user": {"login": mm.group(1)}}, ""
    if rest == "/pulls" and method == "GET":
        closed = s.__dict__.get("closed", set())
        rows = [
            {
                "number": p.number,
                "state": "open",
                "head": {"sha": p.head, "repo": {"full_name": p.head_repo}},
                "base": {"sha": p.base, "repo": {"full_name": repo}},
            }
            for (r, n), p in sorted(s.pulls.items())
            if r == repo and (r, n) not in closed
        ]
        if query.get("state", "open") != "open":
            raise _Reject(422, "Validation Failed", ["the stand-in lists open pull requests only"])
        page, per = int(query.get("page", 1)), min(100, int(query.get("per_page", 30)))
        return 200, rows[(page - 1) * per : page * per], ""
    if (mm := re.fullmatch(r"/pulls/(\d+)/comments/(\d+)/replies", rest)) and method == "POST":
        number, cid = int(mm.group(1)), int(mm.group(2))
        if (repo, number) not in s.pulls:
            raise _Reject(404, "Not Found")
        parent = next((c for c in s.comments_of(repo, number) if c["id"] == cid), None)
        if parent is None:  # GitHub: a reply to a comment that is not there is a 422
            raise _Reject(
                422, "Validation Failed", ["in_reply_to_id is not a review comment of this pull request"]
            )
        text = _Handler._body(body, required=True)
        top = parent.get("in_reply_to_id") or parent["id"]  # a reply to a reply joins the same thread
        c = {
            **{k: parent[k] for k in ("path", "line", "side", "commit_id", "pull_request_review_id")},
            "id": s._id(),
            "repo": repo,
            "number": number,
            "body": text,
            "user": {"login": BOT},
            "in_reply_to_id": top,
        }
        s.review_comments.append(c)
        return 201, {k: v for k, v in c.items() if k not in ("repo", "number")}, ""
    return None


# ------------------------------------------------------------------ the team's verdicts (learning)
# Reactions on review comments, threads resolved by a person, and the one GraphQL query that reads
# the recent pull requests' review threads with them. Set up with ``react`` and ``resolve_as``.
GRAPHQL_FIRST_MAX = 100  # GitHub: "first" is 1..100 on every connection
REACTIONS = ("THUMBS_UP", "THUMBS_DOWN", "LAUGH", "HOORAY", "CONFUSED", "HEART", "ROCKET", "EYES")


def react(standin: GitHubStandIn, comment_id: int, user: str, content: str) -> None:
    """A reaction on a review comment (GitHub: one of each content per user)."""
    if content not in REACTIONS:
        raise ValueError(f"not a GitHub reaction content: {content}")
    with standin.lock:
        c = next(c for c in standin.review_comments if c["id"] == comment_id)
        mine = c.setdefault("reactions", [])
        if not any(r["user"]["login"] == user and r["content"] == content for r in mine):
            mine.append({"content": content, "user": {"login": user}, "createdAt": "2026-12-01T10:00:00Z"})


def resolve_as(standin: GitHubStandIn, comment_id: int, user: str) -> None:
    """A person resolves the thread that ``comment_id`` opens."""
    with standin.lock:
        c = next(c for c in standin.review_comments if c["id"] == comment_id)
        c["resolved"], c["resolved_by"] = True, user


def _first(v: dict[str, Any], name: str = "first") -> int:
    n = v.get(name)
    if not isinstance(n, int) or not 1 <= n <= GRAPHQL_FIRST_MAX:
        raise ValueError(
            f"Requesting {n} records on the connection exceeds the `first` limit of 100 records."
        )
    return n


def _thread_node(s: GitHubStandIn, top: dict[str, Any]) -> dict[str, Any]:
    replies = [c for c in s.review_comments if c.get("in_reply_to_id") == top["id"]]
    nodes = []
    for c in [top, *replies]:
        f = s.diff_info(s.pulls[(c["repo"], c["number"])].diffs[c["commit_id"]]).file(c["path"])
        line = c.get("line") or c.get("original_line")
        text = f.right_text.get(line, b"").decode("utf-8", "replace") if f and line else ""
        nodes.append(
            {
                "body": c["body"],
                "createdAt": "2026-12-01T09:00:00Z",
                "diffHunk": f"@@ -1 +1 @@\n{text}",
                "author": {"login": c["user"]["login"].removesuffix("[bot]")},
                "reactions": {"nodes": list(c.get("reactions", []))},
            }
        )
    resolver = top.get("resolved_by") or (BOT if top.get("resolved") else None)  # the bot's mutation
    return {
        "isResolved": bool(top.get("resolved")),
        "isOutdated": bool(top.get("outdated")),
        "path": top["path"],
        "resolvedBy": {"login": resolver.removesuffix("[bot]")} if resolver else None,
        "comments": {"nodes": nodes},
    }


def pull_request_threads(s: GitHubStandIn, v: dict[str, Any]) -> dict[str, Any]:
    """``repository.pullRequests(first, after, orderBy: UPDATED_AT DESC)`` with each one's review
    threads, their comments and reactions. The stand-in orders by number, newest first (it keeps
    no update times); cursors are opaque offsets."""
    try:
        first = _first(v)
    except ValueError as exc:
        return {"errors": [{"type": "EXCESSIVE_PAGINATION", "message": str(exc)}]}
    repo = f"{v.get('owner')}/{v.get('name')}"
    pulls = sorted((p for (r, _), p in s.pulls.items() if r == repo), key=lambda p: -p.number)
    start = int(v["after"]) if v.get("after") else 0
    page = pulls[start : start + first]
    nodes = [
        {
            "number": p.number,
            "updatedAt": "2026-12-01T12:00:00Z",
            "author": {"login": f"author{p.number}"},
            "reviewThreads": {
                "nodes": [
                    _thread_node(s, c)
                    for c in s.comments_of(repo, p.number)
                    if c.get("in_reply_to_id") is None
                ][:50]
            },
        }
        for p in page
    ]
    more = start + first < len(pulls)
    info = {"hasNextPage": more, "endCursor": str(start + first) if more else None}
    return {"data": {"repository": {"pullRequests": {"pageInfo": info, "nodes": nodes}}}}
