"""The GitLab REST API as reviewbot uses it: the only importer of python-gitlab.

One method per request, each returning plain frozen values built from the answer after the retried
request. Retries are bounded and done through ``reviewbot.retry``, not by python-gitlab (its own are
switched off on every call):

- 429: wait ``Retry-After`` (seconds or an HTTP date; at most ``max_wait_s``), else a back-off; the
  request was not done, so it is sent again.
- 5xx and connection errors: back off (doubling from ``base_s``). A write (POST, PUT) that may have
  succeeded is not sent again blindly: its ``recover`` callable looks for what it would have made
  (a draft note with this finding's marker, the summary note) and returns it when it is there, so a
  retried POST that had succeeded never makes a second thread.
- Other 4xx are not retried: they become ``PublishError`` (or ``SourceError`` for reads).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError

from ... import retry
from ...errors import PublishError, ReviewbotError, SourceError
from ...retry import Retry, RetryPolicy
from .values import DiscussionInfo, FileDiffInfo, MergeRequestInfo, NoteInfo, VersionInfo

__all__ = ["POLICY", "GitLabClient", "RetryPolicy", "api_root"]

T = TypeVar("T")
_NO_RETRY = {"obey_rate_limit": False, "max_retries": 0, "retry_transient_errors": False}

# back-offs of 1, 2, 4, 8 s without jitter; no single wait, Retry-After included, over two minutes
POLICY = RetryPolicy(attempts=5, base_s=1.0, max_backoff_s=120.0, jitter=False, max_wait_s=120.0)


def api_root(url: str) -> str:
    """The server's root, which python-gitlab wants (``https://h/api/v4`` -> ``https://h``)."""
    url = url.rstrip("/")
    return url[: -len("/api/v4")] if url.endswith("/api/v4") else url


class GitLabClient:
    """Merge requests of one server. No request is made until a method is called."""

    def __init__(
        self,
        token: str,
        *,
        url: str = "https://gitlab.com",
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60.0,
    ) -> None:
        self.policy = policy or POLICY
        self.sleep = sleep
        self._headers: dict[str, str] = {}
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        self.gl = gitlab.Gitlab(
            api_root(url),
            private_token=token,
            session=session,
            timeout=timeout,
            retry_transient_errors=False,
            per_page=100,
        )

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._headers = {k.lower(): v for k, v in response.headers.items()}

    # ------------------------------------------------------------------------------ retries

    def _classify(self, exc: Exception) -> Retry | None:
        """429: Retry-After (the request was not done); 5xx and lost connections: back off (it may
        have been done); anything else is not retried."""
        if isinstance(exc, GitlabError):  # python-gitlab turns HTTP errors into per-operation ones
            code = exc.response_code or 0
            if code == 429:
                return Retry(after=retry.retry_after(self._headers.get("retry-after")))
            return Retry(maybe_done=True) if code >= 500 else None
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return Retry(maybe_done=True)
        return None

    def _call(
        self,
        what: str,
        send: Callable[[], Any],
        *,
        write: bool = False,
        recover: Callable[[], T | None] | None = None,
        parse: Callable[[Any], T] | None = None,
        budget_s: float | None = None,
    ) -> T:
        """``parse(send())`` (``reviewbot.retry.call``); a failure becomes ``PublishError`` for a write,
        ``SourceError`` for a read. ``budget_s``: the tries and waits stop there (a bounded read)."""
        policy = self.policy if budget_s is None else replace(self.policy, budget_s=budget_s)
        try:
            return retry.call(
                send, self._classify, policy=policy, recover=recover, parse=parse, sleep=self.sleep
            )
        except retry.GaveUp as gave_up:
            detail = f"gave up after {gave_up.tries} tries ({_describe(gave_up.error)})"
            raise _error(what, write, detail) from gave_up.error
        except GitlabError as exc:
            code = exc.response_code or 0
            detail = f"HTTP {code}: " if code else ""
            raise _error(what, write, detail + _text(exc.error_message)) from exc

    def _mr(self, project: str | int, iid: int) -> Any:
        return self.gl.projects.get(project, lazy=True).mergerequests.get(iid, lazy=True)

    def _rows(self, what: str, manager: Callable[[], Any], **query: Any) -> list[dict[str, Any]]:
        """A list's rows, every page (python-gitlab follows them), as the answers' attributes."""
        return self._call(
            what, lambda: [o.attributes for o in manager().list(iterator=True, **query, **_NO_RETRY)]
        )

    # -------------------------------------------------------------------------------- reads

    def login(self) -> str | None:
        """The token's user (``GET /user``)."""

        def get() -> str | None:
            self.gl.auth()
            return getattr(self.gl.user, "username", None)

        return self._call("read the token's user", get)

    def default_branch(self, project: str | int) -> str | None:
        """The project's default branch (``GET /projects/:id``; "" for an empty repository); None
        when there is no such project or the token cannot see it (404)."""

        def get() -> dict[str, Any] | None:
            try:
                return self.gl.projects.get(project, **_NO_RETRY).attributes
            except GitlabError as exc:
                if exc.response_code == 404:
                    return None
                raise

        d = self._call(f"read project {project}", get)
        return None if d is None else str(d.get("default_branch") or "")

    def merge_request(self, project: str | int, iid: int) -> MergeRequestInfo:
        """``GET /projects/:id/merge_requests/:iid``."""
        mr = self._call(
            f"read MR !{iid}",
            lambda: self.gl.projects.get(project, lazy=True).mergerequests.get(iid, **_NO_RETRY),
        )
        return MergeRequestInfo.from_api(mr.attributes)

    def latest_version(self, project: str | int, iid: int) -> VersionInfo:
        """The newest entry of ``GET .../merge_requests/:iid/versions``: the SHAs positions must name."""
        rows = self._rows(f"read MR !{iid}'s versions", lambda: self._mr(project, iid).diffs)
        if not rows:
            raise SourceError(f"MR !{iid} has no diff versions yet")
        return VersionInfo.from_api(max(rows, key=lambda r: int(r["id"])))

    def version_diffs(self, project: str | int, iid: int, version: int) -> tuple[FileDiffInfo, ...]:
        """``GET .../versions/:version_id``: the version's files with their diff text."""
        v = self._call(
            f"read MR !{iid}'s diff", lambda: self._mr(project, iid).diffs.get(version, **_NO_RETRY)
        )
        return tuple(FileDiffInfo.from_api(d) for d in v.attributes.get("diffs") or [])

    def file_at(self, project: str | int, path: str, ref: str) -> str | None:
        """A file's text at ``ref`` (``GET /projects/:id/repository/files/:path/raw``); None when absent."""

        def get() -> Any:
            try:
                return self.gl.projects.get(project, lazy=True).files.raw(
                    file_path=path, ref=ref, **_NO_RETRY
                )
            except GitlabError as exc:
                if exc.response_code == 404:
                    return None
                raise

        data = self._call(f"read {path} at {ref[:12]}", get)
        return None if data is None else bytes(data).decode("utf-8", "replace")

    def graphql(self, query: str, variables: dict[str, Any], what: str, budget_s: float | None = None) -> Any:
        """``POST /api/graphql``: one retried query (its tries and waits within ``budget_s`` when
        given); the decoded answer, its ``errors`` included (GitLab answers them with HTTP 200)."""

        def post() -> dict[str, Any]:
            url = f"{self.gl.url}/api/graphql"
            payload = {"query": query, "variables": variables}
            return self.gl.http_request("post", url, post_data=payload, **_NO_RETRY).json()

        return self._call(what, post, budget_s=budget_s)

    def page(
        self, path: str, params: dict[str, Any], what: str, *, budget_s: float | None = None
    ) -> tuple[Any, bool]:
        """One page of a REST list (``GET /projects/...``, retried within ``budget_s`` when given):
        its decoded rows and whether GitLab links a next page."""

        def get() -> tuple[Any, bool]:
            r = self.gl.http_request("get", path, query_data=params, **_NO_RETRY)
            return r.json(), "next" in r.links

        return self._call(what, get, budget_s=budget_s)

    def notes(self, project: str | int, iid: int) -> list[NoteInfo]:
        """``GET .../notes`` (all pages)."""
        rows = self._rows(f"read MR !{iid}'s notes", lambda: self._mr(project, iid).notes)
        return [NoteInfo.from_api(n) for n in rows]

    def discussions(self, project: str | int, iid: int) -> list[DiscussionInfo]:
        """``GET .../discussions`` (all pages): each thread's first note."""
        rows = self._rows(f"read MR !{iid}'s threads", lambda: self._mr(project, iid).discussions)
        threads = (DiscussionInfo.from_api(d) for d in rows)
        return [t for t in threads if t is not None]

    def drafts(self, project: str | int, iid: int) -> list[NoteInfo]:
        """``GET .../draft_notes``: the token's user's unpublished notes."""
        rows = self._rows(f"read MR !{iid}'s draft notes", lambda: self._mr(project, iid).draft_notes)
        return [NoteInfo.from_api(n) for n in rows]

    def access_level(self, project: str | int, username: str) -> int | None:
        """The user's access level on the project, inherited ones included (``GET /users?username=``,
        then ``GET /projects/:id/members/all/:user_id``); None for an unknown user or a non-member (404)."""

        def get() -> dict[str, Any] | None:
            users = self.gl.users.list(username=username, get_all=False, **_NO_RETRY)
            user = next((u for u in users if u.attributes.get("username") == username), None)
            if user is None:
                return None
            try:
                return (
                    self.gl.projects.get(project, lazy=True)
                    .members_all.get(user.get_id(), **_NO_RETRY)
                    .attributes
                )
            except GitlabError as exc:
                if exc.response_code == 404:
                    return None
                raise

        member = self._call(f"read {username}'s access level", get)
        return None if member is None else int(member.get("access_level") or 0)

    def open_merge_requests(self, project: str | int) -> list[tuple[int, str]]:
        """``GET /projects/:id/merge_requests?state=opened`` (all pages): (iid, head SHA) of each."""

        mrs = self.gl.projects.get(project, lazy=True).mergerequests
        rows = self._rows("list open MRs", lambda: mrs, state="opened")
        return [(int(a["iid"]), str(a.get("sha") or "")) for a in rows]

    # ------------------------------------------------------------------------------- writes

    def reply_in_thread(
        self, project: str | int, iid: int, discussion: str, body: str, recover: Callable[[], NoteInfo | None]
    ) -> NoteInfo:
        """``POST .../discussions/:discussion_id/notes``: a note in an existing thread."""

        def post() -> dict[str, Any]:
            d = self._mr(project, iid).discussions.get(discussion, lazy=True)
            return d.notes.create({"body": body}, **_NO_RETRY).attributes

        what = f"reply in thread {discussion} of MR !{iid}"
        return self._call(what, post, write=True, recover=recover, parse=lambda a: NoteInfo.from_api(a, body))

    def create_draft(
        self,
        project: str | int,
        iid: int,
        body: str,
        position: dict[str, Any] | None,
        recover: Callable[[], NoteInfo | None],
    ) -> NoteInfo:
        """``POST .../draft_notes``: a thread on ``position`` (or a general note), unpublished."""
        data: dict[str, Any] = {"note": body}
        if position is not None:
            data["position"] = position

        def post() -> dict[str, Any]:
            return self._mr(project, iid).draft_notes.create(data, **_NO_RETRY).attributes

        what = f"create a draft note on MR !{iid}"
        return self._call(what, post, write=True, recover=recover, parse=lambda a: NoteInfo.from_api(a, body))

    def publish_drafts(self, project: str | int, iid: int) -> None:
        """``POST .../draft_notes/bulk_publish``: all drafts become threads at once."""

        def left() -> bool | None:
            return True if not self.drafts(project, iid) else None  # nothing left: it was done

        self._call(
            f"publish MR !{iid}'s draft notes",
            lambda: self._mr(project, iid).draft_notes.bulk_publish(**_NO_RETRY) or True,
            write=True,
            recover=left,
        )

    def create_note(
        self, project: str | int, iid: int, body: str, recover: Callable[[], NoteInfo | None]
    ) -> NoteInfo:
        """``POST .../notes``."""

        def post() -> dict[str, Any]:
            return self._mr(project, iid).notes.create({"body": body}, **_NO_RETRY).attributes

        what = f"create a note on MR !{iid}"
        return self._call(what, post, write=True, recover=recover, parse=lambda a: NoteInfo.from_api(a, body))

    def edit_note(self, project: str | int, iid: int, note_id: int, body: str) -> None:
        """``PUT .../notes/:note_id`` (the same PUT twice is harmless)."""
        self._call(
            f"edit note {note_id}",
            lambda: self._mr(project, iid).notes.update(note_id, {"body": body}, **_NO_RETRY),
            write=True,
        )

    def resolve(self, project: str | int, iid: int, discussion: str) -> None:
        """``PUT .../discussions/:id`` with ``resolved=true`` (the role must allow it)."""
        self._call(
            f"resolve thread {discussion}",
            lambda: self._mr(project, iid).discussions.update(discussion, {"resolved": True}, **_NO_RETRY),
            write=True,
        )


def _text(message: Any) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return " ".join(str(message).split())[:300]


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, GitlabError):
        return f"HTTP {exc.response_code}"
    return type(exc).__name__ if exc is not None else "no answer"


def _error(what: str, write: bool, detail: str) -> ReviewbotError:
    return (PublishError if write else SourceError)(f"GitLab: {what}: {detail}")
