"""The GitHub endpoints reviewbot uses, each one request, with bounded retries.

PyGithub's own retry (``GithubRetry``, a urllib3 ``Retry``) is switched off (``retry=None``): it
re-sends a POST after a 502, and GitHub may already have created the review. Retries happen
through ``reviewbot.retry`` instead, under one ``RetryPolicy``, with GitHub's rules in ``retry``:

- 403/429 with ``retry-after``: wait that many seconds;
- 403/429 that says "secondary rate limit" (or abuse detection) without ``retry-after``: wait at
  least a minute (GitHub's advice), then back off exponentially;
- a primary rate limit (``x-ratelimit-remaining: 0``): wait until ``x-ratelimit-reset``;
- 5xx and connection errors: exponential back-off with full jitter;
- anything else (401, 404, 422, ...) is not retried.

A request's tries and waits count against ``budget_s``; a wait that would pass it, or ``attempts``
failures, give up with ``PublishError`` (or ``SourceError`` for reads) naming the endpoint, the
status and the limit.

Writes that create something (``create_review``, ``create_issue_comment``, ``create_check_run``)
take a ``recover`` callable: before a retry of a request that may have been done (a 5xx, a lost
connection) it looks for what the failed attempt may have created (the caller's hidden run marker)
and returns it instead of posting twice.

With ``retry``, the only importer of PyGithub. Results are plain frozen dataclasses (``values``),
built from the answer after the retried request (a bug in that parsing is ours, raised as itself):
no lazy PyGithub objects leak out (their attribute reads can make hidden HTTP calls). Each method's
docstring names the endpoint it calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import github
from github import Auth, GithubException
from github.Commit import Commit

from ...errors import SourceError
from ...retry import RetryPolicy
from . import values
from .retry import POLICY, Retrier, classify
from .values import CheckRunInfo, CommentInfo, IssueCommentInfo, PullInfo, ReviewInfo, ThreadInfo

__all__ = ["DiffTooLarge", "GitHubClient", "RetryPolicy"]

DEFAULT_API = "https://api.github.com"
RAW_MEDIA = "application/vnd.github.raw"
DIFF_MEDIA = "application/vnd.github.diff"


class DiffTooLarge(SourceError):
    """GitHub answered 406: the diff is over 20,000 lines or 300 files (fall back to git)."""


_THREADS = """query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) {
    reviewThreads(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
      nodes { id isResolved isOutdated comments(first: 1) { nodes { body author { login } } } } } } } }"""
_RESOLVE = (
    """mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } } }"""
)


class GitHubClient:
    """GitHub's REST API through PyGithub, for one token or one App installation (``values.AppInstallation``:
    PyGithub signs the JWT and renews the installation token before it expires). No request is made
    until a method is called."""

    def __init__(
        self,
        token: str | values.AppInstallation,
        *,
        base_url: str = DEFAULT_API,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        seconds_between_writes: float = 1.0,  # PyGithub's pacing of content-creating requests
    ) -> None:
        self.policy = policy or POLICY
        self.base_url = base_url.rstrip("/")
        self._retry = Retrier(self.policy, sleep, random.Random(seed))
        self.waits = self._retry.waits  # every wait taken, for logs and tests
        self._call = self._retry.call
        self._gh = github.Github(
            auth=_auth(token),
            base_url=self.base_url,
            timeout=int(timeout),
            retry=None,
            lazy=True,
            seconds_between_requests=None,
            seconds_between_writes=seconds_between_writes or None,
            user_agent="reviewbot",
        )

    # ------------------------------------------------------------------------------- retrying

    def _repo(self, repo: str):
        return self._gh.get_repo(repo)

    def _requester(self):
        return self._gh.requester

    # ---------------------------------------------------------------------------------- reads

    def pull(self, repo: str, number: int) -> PullInfo:
        """GET /repos/{o}/{r}/pulls/{n}"""

        _, d = self._call(
            f"pull request {repo}#{number}",
            lambda: self._requester().requestJsonAndCheck("GET", f"/repos/{repo}/pulls/{number}"),
            error=SourceError,
        )
        return _pull(d, repo)

    def _diff(self, url: str, what: str) -> bytes:
        def get() -> bytes:
            status, headers, body = self._requester().requestJson("GET", url, headers={"Accept": DIFF_MEDIA})
            if status == 406:
                raise DiffTooLarge(
                    f"GitHub refused the diff of {what} (HTTP 406: over 20,000 lines or 300 files)"
                )
            if status >= 400:
                raise GithubException(status, _json_or_text(body), headers)
            return body.encode("utf-8", errors="surrogateescape") if isinstance(body, str) else bytes(body)

        return self._call(f"diff of {what}", get, error=SourceError)

    def pull_diff(self, repo: str, number: int) -> bytes:
        """GET /repos/{o}/{r}/pulls/{n} with Accept: application/vnd.github.diff (406 -> DiffTooLarge)"""
        return self._diff(f"/repos/{repo}/pulls/{number}", f"{repo}#{number}")

    def compare_diff(self, repo: str, base: str, head: str) -> bytes:
        """GET /repos/{o}/{r}/compare/{base}...{head} as a diff (406 -> DiffTooLarge)"""
        return self._diff(f"/repos/{repo}/compare/{base}...{head}", f"{repo} {base[:7]}...{head[:7]}")

    def file_text(self, repo: str, path: str, ref: str) -> str | None:
        """GET /repos/{o}/{r}/contents/{path}?ref= as raw text; None when the file is not there (404)."""

        def get() -> str | None:
            status, headers, body = self._requester().requestJson(
                "GET",
                f"/repos/{repo}/contents/{quote(path)}",
                parameters={"ref": ref},
                headers={"Accept": RAW_MEDIA},
            )
            if status == 404:
                return None
            if status >= 400:
                raise GithubException(status, _json_or_text(body), headers)
            return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)

        return self._call(f"{path} at {ref[:12]} in {repo}", get, error=SourceError)

    def login(self) -> str | None:
        """GET /user; None for tokens that cannot read it (GITHUB_TOKEN answers 403)."""

        def get() -> Any:
            try:
                return self._requester().requestJsonAndCheck("GET", "/user")[1]
            except GithubException as exc:
                if exc.status in (401, 403, 404) and classify(exc) is None:
                    return None
                raise

        d = self._call("read the token's user", get)
        return str(d.get("login")) if isinstance(d, dict) and d.get("login") else None

    def _pages(
        self, what: str, url: str, key: str | None = None, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        def get() -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            page = 1
            while True:
                _, d = self._requester().requestJsonAndCheck(
                    "GET", url, parameters={**(params or {}), "per_page": 100, "page": page}
                )
                items = d.get(key, []) if key and isinstance(d, dict) else d
                if not isinstance(items, list):
                    raise GithubException(500, {"message": f"unexpected answer from {url}"}, None)
                out.extend(items)
                if len(items) < 100 or page >= 100:
                    return out
                page += 1

        return self._call(what, get)

    def open_pulls(self, repo: str) -> list[tuple[int, str]]:
        """GET /repos/{o}/{r}/pulls?state=open (all pages): (number, head SHA) of each"""
        rows = self._pages(f"open pull requests of {repo}", f"/repos/{repo}/pulls", params={"state": "open"})
        return [(int(d["number"]), str(d["head"]["sha"])) for d in rows]

    def permission(self, repo: str, user: str) -> str | None:
        """GET /repos/{o}/{r}/collaborators/{user}/permission: ``role_name``; None when not a collaborator (404)"""

        def get() -> Any:
            try:
                return self._requester().requestJsonAndCheck(
                    "GET", f"/repos/{repo}/collaborators/{quote(user, safe='')}/permission"
                )[1]
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise

        d = self._call(f"permission of {user} on {repo}", get, error=SourceError)
        return None if d is None else str(d.get("role_name") or d.get("permission") or "none")

    def reviews(self, repo: str, number: int) -> list[ReviewInfo]:
        """GET /repos/{o}/{r}/pulls/{n}/reviews (all pages)"""
        url = f"/repos/{repo}/pulls/{number}/reviews"
        return [_review(d) for d in self._pages(f"reviews of {repo}#{number}", url)]

    def review_comments(self, repo: str, number: int) -> list[CommentInfo]:
        """GET /repos/{o}/{r}/pulls/{n}/comments (all pages)"""
        url = f"/repos/{repo}/pulls/{number}/comments"
        return [_comment(d) for d in self._pages(f"review comments of {repo}#{number}", url)]

    def issue_comments(self, repo: str, number: int) -> list[IssueCommentInfo]:
        """GET /repos/{o}/{r}/issues/{n}/comments (all pages)"""
        url = f"/repos/{repo}/issues/{number}/comments"
        return [_issue_comment(d) for d in self._pages(f"comments of {repo}#{number}", url)]

    def check_runs(self, repo: str, sha: str, name: str) -> list[CheckRunInfo]:
        """GET /repos/{o}/{r}/commits/{sha}/check-runs?check_name=NAME"""
        url = f"/repos/{repo}/commits/{sha}/check-runs"
        rows = self._pages(f"check runs of {sha[:7]}", url, key="check_runs", params={"check_name": name})
        return [_check_run(d) for d in rows]

    def review_threads(self, repo: str, number: int) -> list[ThreadInfo]:
        """POST /graphql: the PR's review threads (REST cannot see or resolve threads)"""
        owner, name = repo.split("/", 1)

        out: list[ThreadInfo] = []
        after = None
        for _ in range(100):  # one retried request per page
            variables = {"owner": owner, "name": name, "number": number, "after": after}
            _, d = self._call(
                f"review threads of {repo}#{number}",
                lambda variables=variables: self._requester().graphql_query(_THREADS, variables),
            )
            page = d["data"]["repository"]["pullRequest"]["reviewThreads"]
            out.extend(_thread(t) for t in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return out

    def resolve_thread(self, thread_id: str) -> None:
        """POST /graphql: mutation resolveReviewThread (idempotent: resolving twice is harmless)"""
        self._call(
            f"resolve thread {thread_id}",
            lambda: self._requester().graphql_query(_RESOLVE, {"id": thread_id}),
        )

    # --------------------------------------------------------------------------------- writes

    def create_review(
        self,
        repo: str,
        number: int,
        *,
        commit_sha: str,
        body: str,
        comments: Sequence[dict[str, Any]],
        recover: Callable[[], ReviewInfo | None] | None = None,
    ) -> ReviewInfo:
        """POST /repos/{o}/{r}/pulls/{n}/reviews with event COMMENT (never left PENDING)"""
        pr = self._repo(repo).get_pull(number)
        commit = Commit(self._requester(), {}, {"sha": commit_sha}, completed=True)

        def post() -> dict[str, Any]:
            return pr.create_review(
                commit=commit, body=body, event="COMMENT", comments=list(comments)
            ).raw_data

        return self._call(f"create review on {repo}#{number}", post, recover=recover, parse=_review)

    def create_issue_comment(
        self, repo: str, number: int, body: str, recover: Callable[[], IssueCommentInfo | None] | None = None
    ) -> IssueCommentInfo:
        """POST /repos/{o}/{r}/issues/{n}/comments"""

        def post() -> dict[str, Any]:
            return self._requester().requestJsonAndCheck(
                "POST", f"/repos/{repo}/issues/{number}/comments", input={"body": body}
            )[1]

        return self._call(f"comment on {repo}#{number}", post, recover=recover, parse=_issue_comment)

    def reply_review_comment(
        self, repo: str, number: int, comment_id: int, body: str,
        recover: Callable[[], CommentInfo | None] | None = None,
    ) -> CommentInfo:  # fmt: skip
        """POST /repos/{o}/{r}/pulls/{n}/comments/{id}/replies"""

        def post() -> dict[str, Any]:
            return self._requester().requestJsonAndCheck(
                "POST", f"/repos/{repo}/pulls/{number}/comments/{comment_id}/replies", input={"body": body}
            )[1]

        return self._call(
            f"reply to comment {comment_id} on {repo}#{number}", post, recover=recover, parse=_comment
        )

    def edit_issue_comment(self, repo: str, comment_id: int, body: str) -> None:
        """PATCH /repos/{o}/{r}/issues/comments/{id} (idempotent: retried as is)"""
        self._call(
            f"edit comment {comment_id}",
            lambda: self._requester().requestJsonAndCheck(
                "PATCH", f"/repos/{repo}/issues/comments/{comment_id}", input={"body": body}
            ),
        )

    def create_check_run(
        self, repo: str, payload: dict[str, Any], recover: Callable[[], CheckRunInfo | None] | None = None
    ) -> CheckRunInfo:
        """POST /repos/{o}/{r}/check-runs"""

        def post() -> dict[str, Any]:
            _, d = self._requester().requestJsonAndCheck("POST", f"/repos/{repo}/check-runs", input=payload)
            return d

        return self._call(f"create check run on {repo}", post, recover=recover, parse=_check_run)

    def update_check_run(
        self,
        repo: str,
        run_id: int,
        payload: dict[str, Any],
        recover: Callable[[], bool | None] | None = None,
    ) -> None:
        """PATCH /repos/{o}/{r}/check-runs/{id}: annotations are appended, so pass ``recover`` for them"""
        self._call(
            f"update check run {run_id}",
            lambda: self._requester().requestJsonAndCheck(
                "PATCH", f"/repos/{repo}/check-runs/{run_id}", input=payload
            ),
            recover=recover,
        )

    def annotations_count(self, repo: str, run_id: int) -> int:
        """GET /repos/{o}/{r}/check-runs/{id}: ``output.annotations_count``"""

        _, d = self._call(
            f"read check run {run_id}",
            lambda: self._requester().requestJsonAndCheck("GET", f"/repos/{repo}/check-runs/{run_id}"),
        )
        return int(((d or {}).get("output") or {}).get("annotations_count") or 0)


# ------------------------------------------------------------- answers -> values (never retried)


def _pull(d: dict[str, Any], repo: str) -> PullInfo:
    head_repo = (d.get("head") or {}).get("repo") or {}
    base_repo = (d.get("base") or {}).get("repo") or {}
    return PullInfo(
        number=int(d["number"]),
        title=str(d.get("title") or ""),
        base_sha=str(d["base"]["sha"]),
        head_sha=str(d["head"]["sha"]),
        head_repo=head_repo.get("full_name"),
        base_repo=str(base_repo.get("full_name") or repo),
        state=str(d.get("state") or ""),
        html_url=d.get("html_url"),
    )


def _review(d: dict[str, Any]) -> ReviewInfo:
    login = (d.get("user") or {}).get("login")
    return ReviewInfo(
        int(d["id"]), str(d.get("body") or ""), d.get("commit_id"), str(d.get("state") or ""), login
    )


def _issue_comment(d: dict[str, Any]) -> IssueCommentInfo:
    return IssueCommentInfo(int(d["id"]), str(d.get("body") or ""), (d.get("user") or {}).get("login"))


def _check_run(d: dict[str, Any]) -> CheckRunInfo:
    return CheckRunInfo(int(d["id"]), str(d.get("name") or ""), d.get("external_id"), d.get("head_sha"))


def _thread(t: dict[str, Any]) -> ThreadInfo:
    first = (t.get("comments") or {}).get("nodes") or [{}]
    author = (first[0].get("author") or {}).get("login")
    body = str(first[0].get("body") or "")
    return ThreadInfo(str(t["id"]), bool(t["isResolved"]), bool(t["isOutdated"]), body, author)


def _comment(d: dict[str, Any]) -> CommentInfo:
    return CommentInfo(int(d["id"]), str(d.get("body") or ""), str(d.get("path") or ""), d.get("line"),
                       d.get("side"), d.get("commit_id"), d.get("pull_request_review_id"),
                       (d.get("user") or {}).get("login"))  # fmt: skip


def _auth(token: str | values.AppInstallation) -> Auth.Auth:
    """A token; or PyGithub's app auth (RS256 JWT: iat 60 s ago, 5 min long; token renewed before expiry)."""
    if isinstance(token, values.AppInstallation):
        app = Auth.AppAuth(token.app_id, token.private_key)
        return app.get_installation_auth(token.installation_id)
    return Auth.Token(token)


def _json_or_text(body: Any) -> Any:
    import json

    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return {"message": str(body)[:300]}
