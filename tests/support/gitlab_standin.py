"""A GitLab stand-in: a real HTTP server on loopback that python-gitlab talks to, enforcing GitLab's
documented rules for merge request threads (GitLab's Discussions API).

- A thread's ``position`` must name the latest version's ``base_sha``/``start_sha``/``head_sha``,
  ``position_type: text``, both ``old_path`` and ``new_path``; ``new_line`` only for an added line,
  ``old_line`` only for a removed one, both (and right) for a context line; a ``line_range``'s
  ``line_code`` must be ``sha1(path)_OLD_NEW`` with GitLab's running counters. Anything else is
  refused as GitLab refuses it: 400 "line_code can't be blank" (each refusal is kept in ``rejections``).
- Lists are paginated (``page_size`` per page, ``Link: rel="next"``).
- Faults: ``fail(method, pattern, "429"|"502")`` answers the next matching request so (429 with
  ``Retry-After: 1``); ``flaky_after_write`` is the chance that a write which succeeded answers 502.

The stand-in walks the diff text itself: it must not share the code it checks.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

BLANK = '400 Bad request - Note {:line_code=>["can\'t be blank"]}'
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def lines_of(diff: str) -> dict[tuple[int | None, int | None], tuple[str, int, int]]:
    """(old_line, new_line) as a position names it -> (kind, old counter, new counter)."""
    out: dict[tuple[int | None, int | None], tuple[str, int, int]] = {}
    old = new = 0
    for raw in diff.split("\n"):
        m = _HUNK.match(raw)
        if m:
            old, new = int(m.group(1)), int(m.group(2))
            continue
        if raw.startswith("+"):
            out[(None, new)] = ("new", old, new)
            new += 1
        elif raw.startswith("-"):
            out[(old, None)] = ("old", old, new)
            old += 1
        elif raw.startswith(" "):
            out[(old, new)] = ("old", old, new)
            old += 1
            new += 1
    return out


def code_of(path: str, old: int, new: int) -> str:
    return f"{hashlib.sha1(path.encode()).hexdigest()}_{old}_{new}"


@dataclass
class MR:
    iid: int
    title: str = "a change"
    versions: list[dict[str, Any]] = field(default_factory=list)  # newest last
    notes: list[dict[str, Any]] = field(default_factory=list)
    discussions: list[dict[str, Any]] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)


class GitLabStandIn:
    def __init__(
        self, *, seed: int = 0, bot: str = "reviewbot", page_size: int = 20, can_resolve: bool = True
    ) -> None:
        self.token = "glpat-standin"
        self.bot = bot
        self.page_size = page_size
        self.can_resolve = can_resolve
        self.rng = random.Random(seed)
        self.flaky_after_write = 0.0
        self.mrs: dict[tuple[str, int], MR] = {}
        self.files: dict[tuple[str, str, str], str] = {}
        self.ids: dict[str, str] = {}  # numeric project id -> path
        self.default_branches: dict[str, str] = {}  # project path -> its default branch ("main" when not set)
        self.rejections: list[dict[str, Any]] = []
        self.log: list[tuple[str, str, int]] = []
        self._faults: list[tuple[str, re.Pattern[str], str]] = []
        self._next = 100
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------- set-up
    def add_mr(
        self,
        project: str,
        iid: int,
        *,
        base: str,
        head: str,
        files: list[dict[str, Any]],
        project_id: int = 1,
    ) -> MR:
        self.ids[str(project_id)] = project
        mr = self.mrs.setdefault((project, iid), MR(iid))
        self.add_version(project, iid, base=base, head=head, files=files)
        return mr

    def add_version(
        self, project: str, iid: int, *, base: str, head: str, files: list[dict[str, Any]]
    ) -> None:
        mr = self.mrs[(project, iid)]
        self._next += 1
        mr.versions.append(
            {
                "id": self._next,
                "base_commit_sha": base,
                "start_commit_sha": base,
                "head_commit_sha": head,
                "state": "collected",
                "diffs": files,
            }
        )

    def fail(self, method: str, pattern: str, kind: str) -> None:
        self._faults.append((method, re.compile(pattern), kind))

    def statuses(self, method: str | None = None, pattern: str = "") -> list[int]:
        return [s for m, p, s in self.log if (method is None or m == method) and re.search(pattern, p)]

    def threads(self, project: str, iid: int) -> list[dict[str, Any]]:
        return [d for d in self.mrs[(project, iid)].discussions if d["notes"][0].get("position")]

    def summaries(self, project: str, iid: int) -> list[dict[str, Any]]:
        return [
            n for n in self.mrs[(project, iid)].notes if n["body"].startswith("<!-- reviewbot:summary -->")
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v4"

    def __enter__(self) -> GitLabStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _do(self) -> None:
                standin._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = _do

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------------- serving
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        n = int(h.headers.get("Content-Length") or 0)
        body = json.loads(h.rfile.read(n) or b"{}") if n else {}
        with self._lock:
            status, data, headers = self._route(h.command, path, query, body, h.headers)
            self.log.append((h.command, path, status))
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        h.send_response(status)
        h.send_header(
            "Content-Type", "application/octet-stream" if isinstance(data, bytes) else "application/json"
        )
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(raw)))
        h.end_headers()
        h.wfile.write(raw)

    def _route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any], hdrs: Any):
        if hdrs.get("PRIVATE-TOKEN") != self.token:
            return 401, {"message": "401 Unauthorized"}, {}
        for i, (m, pat, kind) in enumerate(self._faults):
            if m == method and pat.search(path):
                del self._faults[i]
                if kind == "429":
                    return 429, {"message": "429 Too Many Requests"}, {"Retry-After": "1"}
                return int(kind), {"message": f"{kind} injected"}, {}
        status, data, headers = self._answer(method, path, query, body)
        if method in ("POST", "PUT") and status < 300 and self.rng.random() < self.flaky_after_write:
            return 502, {"message": "502 Bad Gateway (after the write was done)"}, {}
        return status, data, headers

    def _page(self, rows: list[Any], path: str, query: dict[str, str]):
        size = min(int(query.get("per_page", 20)), self.page_size)
        page = int(query.get("page", 1))
        chunk = rows[(page - 1) * size : page * size]
        headers = {"X-Page": str(page), "X-Total": str(len(rows))}
        if page * size < len(rows):
            nxt = f"http://127.0.0.1:{self.server.server_address[1]}{path}?page={page + 1}&per_page={size}"
            headers["Link"] = f'<{nxt}>; rel="next"'
            headers["X-Next-Page"] = str(page + 1)
        return 200, chunk, headers

    def _answer(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]):
        if (answer := learning_answer(self, method, path, query, body)) is not None:
            return answer
        if (answer := self._service_answer(method, path, query)) is not None:
            return answer
        if path == "/api/v4/user":
            return 200, {"id": 1, "username": self.bot}, {}
        if (answer := self._project(method, path)) is not None:
            return answer
        m = re.match(r"^/api/v4/projects/([^/]+)/(.*)$", path)
        if not m:
            return 404, {"message": "404 Not Found"}, {}
        project = unquote(m.group(1))
        project = self.ids.get(project, project)
        rest = m.group(2)
        f = re.match(r"^repository/files/([^/]+)/raw$", rest)
        if f:
            text = self.files.get((project, query.get("ref", ""), unquote(f.group(1))))
            return (404, {"message": "404 File Not Found"}, {}) if text is None else (200, text.encode(), {})
        mm = re.match(r"^merge_requests/(\d+)(?:/(.*))?$", rest)
        mr = self.mrs.get((project, int(mm.group(1)))) if mm else None
        if mr is None or mm is None:
            return 404, {"message": "404 Not found"}, {}
        sub = mm.group(2) or ""
        if sub == "" and method == "GET":
            v = mr.versions[-1]
            return (
                200,
                {
                    "iid": mr.iid,
                    "title": mr.title,
                    "state": "opened",
                    "sha": v["head_commit_sha"],
                    "web_url": f"http://gitlab/{project}/-/merge_requests/{mr.iid}",
                    "source_project_id": 1,
                    "target_project_id": 1,
                },
                {},
            )
        if sub == "versions":
            rows = [{k: v for k, v in ver.items() if k != "diffs"} for ver in reversed(mr.versions)]
            return self._page(rows, path, query)
        vm = re.match(r"^versions/(\d+)$", sub)
        if vm:
            ver = next((v for v in mr.versions if v["id"] == int(vm.group(1))), None)
            return (404, {"message": "404 Not found"}, {}) if ver is None else (200, ver, {})
        if (answer := self._thread_reply(mr, method, sub, body)) is not None:
            return answer
        return self._notes(mr, method, sub, path, query, body)

    def _project(self, method: str, path: str):
        """``GET /projects/:id`` (the path, URL-encoded, or the numeric id); GitLab answers 404 for
        a project that is not there or that the token cannot see."""
        m = re.fullmatch(r"/api/v4/projects/([^/]+)", path)
        if method != "GET" or m is None:
            return None
        project = self.ids.get(unquote(m.group(1)), unquote(m.group(1)))
        known = {p for p, _ in self.mrs} | {p for p, _, _ in self.files} | set(self.default_branches)
        if project not in known:
            return 404, {"message": "404 Project Not Found"}, {}
        number = next((int(i) for i, p in self.ids.items() if p == project), 1)
        return (
            200,
            {
                "id": number,
                "path_with_namespace": project,
                "default_branch": self.default_branches.get(project, "main"),
            },
            {},
        )

    def _notes(self, mr: MR, method: str, sub: str, path: str, query: dict[str, str], body: dict[str, Any]):
        if sub == "notes" and method == "GET":
            return self._page(list(reversed(mr.notes)), path, query)
        if sub == "notes" and method == "POST":
            note = self._note(mr, body.get("body", ""), None)
            mr.discussions.append({"id": f"d{note['id']}", "individual_note": True, "notes": [note]})
            return 201, note, {}
        nm = re.match(r"^notes/(\d+)$", sub)
        if nm and method == "PUT":
            note = next((n for n in mr.notes if n["id"] == int(nm.group(1))), None)
            if note is None:
                return 404, {"message": "404 Note Not Found"}, {}
            note["body"] = body.get("body", note["body"])
            return 200, note, {}
        if sub == "discussions" and method == "GET":
            return self._page(mr.discussions, path, query)
        dm = re.match(r"^discussions/(\w+)$", sub)
        if dm and method == "PUT":
            d = next((d for d in mr.discussions if d["id"] == dm.group(1)), None)
            if d is None:
                return 404, {"message": "404 Not found"}, {}
            if not self.can_resolve:
                return 403, {"message": "403 Forbidden"}, {}
            for n in d["notes"]:
                n["resolved"] = bool(body.get("resolved", query.get("resolved") == "true"))
                n["resolved_by"] = {"username": self.bot} if n["resolved"] else None  # the token's user
            return 200, d, {}
        if sub == "draft_notes" and method == "GET":
            return self._page(mr.drafts, path, query)
        if sub == "draft_notes" and method == "POST":
            pos = body.get("position")
            if pos is not None:
                why = self.check(mr, pos)
                if why is not None:
                    self.rejections.append({"position": pos, "why": why})
                    return 400, {"message": BLANK}, {}
            self._next += 1
            draft = {"id": self._next, "note": body.get("note", ""), "position": pos}
            mr.drafts.append(draft)
            return 201, draft, {}
        if sub == "draft_notes/bulk_publish" and method == "POST":
            for d in mr.drafts:
                note = self._note(mr, d["note"], d["position"])
                mr.discussions.append({"id": f"d{note['id']}", "individual_note": False, "notes": [note]})
            mr.drafts.clear()
            return 204, b"", {}
        return 404, {"message": f"404 {method} {sub} not handled"}, {}

    def _note(self, mr: MR, text: str, position: dict[str, Any] | None) -> dict[str, Any]:
        self._next += 1
        note = {
            "id": self._next,
            "body": text,
            "author": {"username": self.bot},
            "system": False,
            "type": "DiffNote" if position else None,
            "position": position,
            "resolvable": position is not None,
            "resolved": False,
        }
        mr.notes.append(note)
        return note

    # --------------------------------------------------------- the webhook service's endpoints
    # Members (inherited ones included), users by name, open MRs, notes in an existing thread.
    def add_member(self, project: str, username: str, access_level: int) -> None:
        """GitLab's levels: Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50."""
        self.__dict__.setdefault("members", {})[(project, username)] = access_level
        self._user_id(username)

    def close(self, project: str, iid: int) -> None:
        self.__dict__.setdefault("closed", set()).add((project, iid))

    def _user_id(self, username: str) -> int:
        users = self.__dict__.setdefault("users", {self.bot: 1})
        return users.setdefault(username, 1000 + len(users))

    def _service_answer(self, method: str, path: str, query: dict[str, str]):
        if path == "/api/v4/users" and method == "GET":
            name = query.get("username")
            users = self.__dict__.get("users", {})
            return 200, [{"id": users[name], "username": name}] if name in users else [], {}
        m = re.match(r"^/api/v4/projects/([^/]+)/(members/all/(\d+)|merge_requests)$", path)
        if not m or method != "GET":
            return None
        project = self.ids.get(unquote(m.group(1)), unquote(m.group(1)))
        if m.group(3) is not None:
            uid = int(m.group(3))
            for (p, name), level in self.__dict__.get("members", {}).items():
                if p == project and self._user_id(name) == uid:
                    return 200, {"id": uid, "username": name, "access_level": level, "state": "active"}, {}
            return 404, {"message": "404 Not found"}, {}  # GitLab: not a member (direct or inherited)
        if query.get("state") != "opened":
            return 400, {"message": "the stand-in lists opened merge requests only"}, {}
        closed = self.__dict__.get("closed", set())
        rows = [
            {"iid": iid, "state": "opened", "sha": mr.versions[-1]["head_commit_sha"]}
            for (p, iid), mr in sorted(self.mrs.items())
            if p == project and (p, iid) not in closed
        ]
        return self._page(rows, path, query)

    def _thread_reply(self, mr: MR, method: str, sub: str, body: dict[str, Any]):
        dm = re.match(r"^discussions/(\w+)/notes$", sub)
        if not dm or method != "POST":
            return None
        d = next((d for d in mr.discussions if d["id"] == dm.group(1)), None)
        if d is None:
            return 404, {"message": "404 Discussion Not Found"}, {}
        if not body.get("body"):
            return 400, {"message": "400 Bad request - body is missing"}, {}
        note = self._note(mr, body["body"], None)
        note["discussion_id"] = d["id"]
        d["notes"].append(note)
        return 201, note, {}

    # ------------------------------------------------------------------------- the rules
    def check(self, mr: MR, pos: dict[str, Any]) -> str | None:
        """Why GitLab would refuse ``pos`` (None: it takes it)."""
        v = mr.versions[-1]
        if pos.get("position_type") != "text":
            return "position_type is not text"
        for k, want in (
            ("base_sha", "base_commit_sha"),
            ("start_sha", "start_commit_sha"),
            ("head_sha", "head_commit_sha"),
        ):
            if pos.get(k) != v[want]:
                return f"{k} is not the latest version's"
        if not pos.get("old_path") or not pos.get("new_path"):
            return "old_path and new_path are both needed"
        f = next(
            (d for d in v["diffs"] if d["old_path"] == pos["old_path"] and d["new_path"] == pos["new_path"]),
            None,
        )
        if f is None:
            return "no such file in the version's diff"
        table = lines_of(f["diff"])
        key = (pos.get("old_line"), pos.get("new_line"))
        if key not in table:
            return f"old_line/new_line {key} is not a line of the diff"
        rng = pos.get("line_range")
        if rng is not None:
            path = f["old_path"] if f.get("deleted_file") else f["new_path"]
            for end in ("start", "end"):
                e = rng.get(end) or {}
                at = table.get((e.get("old_line"), e.get("new_line")))
                if at is None:
                    return f"line_range.{end} is not a line of the diff"
                if e.get("line_code") != code_of(path, at[1], at[2]) or e.get("type") != at[0]:
                    return f"line_range.{end}: wrong line_code or type"
            if (rng["end"].get("old_line"), rng["end"].get("new_line")) != key:
                return "line_range.end is not the position's line"
        return None


def gitlab_files(diff: bytes) -> list[dict[str, Any]]:
    """A git diff as GitLab's version ``diffs``: each file's paths and flags, its hunks without headers."""
    text = diff.decode("utf-8", "replace")
    out = []
    for sec in re.split(r"(?m)^(?=diff --git )", text):
        if not sec.startswith("diff --git "):
            continue
        head, sep, hunks = sec.partition("\n@@")
        old = new = None
        m = re.match(r"diff --git a/(.*) b/(.*)", head.split("\n", 1)[0])
        if m:
            old, new = m.group(1), m.group(2)
        for line in head.split("\n"):
            if line.startswith("--- a/"):
                old = line[6:]
            elif line.startswith("+++ b/"):
                new = line[6:]
            elif line.startswith("rename from "):
                old = line[12:]
            elif line.startswith("rename to "):
                new = line[10:]
        out.append(
            {
                "old_path": old,
                "new_path": new,
                "diff": ("@@" + hunks) if sep else "",
                "new_file": "\n--- /dev/null" in head,
                "deleted_file": "\n+++ /dev/null" in head,
                "renamed_file": "\nrename from " in head,
                "a_mode": "100644",
                "b_mode": "100644",
            }
        )
    return out


# ------------------------------------------------------------------ the team's verdicts (learning)
# Award emoji on notes, threads resolved by a person, and the list of every merge request (any
# state), newest first. Set up with ``award`` and ``resolve_as``.
AWARD_NAMES = ("thumbsup", "thumbsdown", "tada", "eyes", "heart", "rocket", "laughing", "confused")


def _mr_note(
    standin: GitLabStandIn, project: str, iid: int, note_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    mr = standin.mrs[(project, iid)]
    for d in mr.discussions:
        for n in d["notes"]:
            if n["id"] == note_id:
                return d, n
    raise KeyError(note_id)


def award(standin: GitLabStandIn, project: str, iid: int, note_id: int, username: str, name: str) -> None:
    """An award emoji on a note (GitLab: 404 for an unknown emoji name, one of each name per user)."""
    if name not in AWARD_NAMES:
        raise ValueError(f"not an emoji name the stand-in knows: {name}")
    _, note = _mr_note(standin, project, iid, note_id)
    mine = note.setdefault("awards", [])
    if not any(a["user"]["username"] == username and a["name"] == name for a in mine):
        standin._next += 1
        mine.append(
            {
                "id": standin._next,
                "name": name,
                "user": {"username": username},
                "created_at": "2026-12-01T10:00:00Z",
                "awardable_id": note_id,
                "awardable_type": "Note",
            }
        )


def resolve_as(standin: GitLabStandIn, project: str, iid: int, note_id: int, username: str) -> None:
    """The thread that ``note_id`` opens resolved by ``username`` (GitLab marks each resolvable note)."""
    d, _ = _mr_note(standin, project, iid, note_id)
    for n in d["notes"]:
        if n.get("resolvable"):
            n["resolved"], n["resolved_by"] = True, {"username": username}


def learning_answer(
    standin: GitLabStandIn, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None = None
):
    """``GET .../merge_requests?state=all`` (newest first: the stand-in keeps no update times and
    orders by iid) and ``GET .../merge_requests/:iid/notes/:id/award_emoji``; None for the rest."""
    if method == "POST" and path == "/api/graphql":
        return 200, merge_request_threads(standin, body or {}), {}
    if method != "GET":
        return None
    m = re.match(r"^/api/v4/projects/([^/]+)/merge_requests(?:/(\d+)/notes/(\d+)/award_emoji)?$", path)
    if not m or (m.group(2) is None and query.get("state") != "all"):
        return None
    project = standin.ids.get(unquote(m.group(1)), unquote(m.group(1)))
    if m.group(2) is not None:
        try:
            _, note = _mr_note(standin, project, int(m.group(2)), int(m.group(3)))
        except KeyError:
            return 404, {"message": "404 Not found"}, {}
        return standin._page(list(note.get("awards", [])), path, query)
    rows = [
        {
            "iid": iid,
            "state": "opened",
            "sha": mr.versions[-1]["head_commit_sha"],
            "updated_at": "2026-12-01T12:00:00Z",
            "author": {"username": f"author{iid}"},
        }
        for (p, iid), mr in sorted(standin.mrs.items(), key=lambda t: -t[0][1])
        if p == project
    ]
    return standin._page(rows, path, query)


def _gql_note(note: dict[str, Any]) -> dict[str, Any]:
    pos = note.get("position")
    position = None
    if pos:
        position = {
            "newPath": pos.get("new_path"),
            "oldPath": pos.get("old_path"),
            "newLine": pos.get("new_line"),
            "diffRefs": {"headSha": pos.get("head_sha")},
        }
    awards = [
        {"name": a["name"], "user": {"username": a["user"]["username"]}} for a in note.get("awards", [])
    ]
    return {
        "body": note["body"],
        "createdAt": "2026-12-01T09:00:00Z",
        "author": {"username": note["author"]["username"]},
        "position": position,
        "awardEmoji": {"nodes": awards[:20]},
    }


def merge_request_threads(standin: GitLabStandIn, body: dict[str, Any]) -> dict[str, Any]:
    """``project(fullPath).mergeRequests(first, after, sort: UPDATED_DESC)`` with each one's
    discussions, their notes and award emoji (GraphQL; the stand-in orders by iid, newest first,
    and caps ``first`` at 100 as GitLab does)."""
    v = body.get("variables") or {}
    first = v.get("first")
    if "mergeRequests(" not in str(body.get("query") or ""):
        return {"errors": [{"message": "the stand-in answers only the merge requests' discussions query"}]}
    if standin.__dict__.get("before_15_11") and "awardEmoji" in str(body.get("query")):
        # GitLab before 15.11 has no Note.awardEmoji: the whole query is refused, with HTTP 200
        return {"errors": [{"message": "Field 'awardEmoji' doesn't exist on type 'Note'"}]}
    if not isinstance(first, int) or not 1 <= first <= 100:
        return {"errors": [{"message": "Argument 'first' must be between 1 and 100"}]}
    project = v.get("path")
    mrs = sorted(((iid, mr) for (p, iid), mr in standin.mrs.items() if p == project), key=lambda t: -t[0])
    if not mrs:
        return {"data": {"project": None}}
    start = int(v["after"]) if v.get("after") else 0
    nodes = []
    for iid, mr in mrs[start : start + first]:
        threads = []
        for d in mr.discussions[:50]:
            top = d["notes"][0]
            resolver = top.get("resolved_by")
            threads.append(
                {
                    "resolved": bool(top.get("resolved")),
                    "resolvedBy": resolver,
                    "notes": {"nodes": [_gql_note(n) for n in d["notes"][:20]]},
                }
            )
        nodes.append(
            {
                "iid": str(iid),
                "updatedAt": "2026-12-01T12:00:00Z",
                "diffHeadSha": mr.versions[-1]["head_commit_sha"],
                "author": {"username": f"author{iid}"},
                "discussions": {"nodes": threads},
            }
        )
    more = start + first < len(mrs)
    info = {"hasNextPage": more, "endCursor": str(start + first) if more else None}
    return {"data": {"project": {"mergeRequests": {"pageInfo": info, "nodes": nodes}}}}
