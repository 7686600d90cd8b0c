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
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import github
from github import Auth, GithubException
from github.Commit import Commit

from ...errors import PublishError, SourceError
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

    def _json(
        self, verb: str, url: str, params: dict[str, Any] | None = None, payload: dict[str, Any] | None = None
    ) -> Callable[[], Any]:
        """The request, for ``_call`` to send: it returns the answer's JSON as it came."""
        return lambda: self._requester().requestJsonAndCheck(verb, url, parameters=params, input=payload)[1]

    # ---------------------------------------------------------------------------------- reads

    def pull(self, repo: str, number: int) -> PullInfo:
        """GET /repos/{o}/{r}/pulls/{n}"""

        d = self._call(
            f"pull request {repo}#{number}",
            self._json("GET", f"/repos/{repo}/pulls/{number}"),
            error=SourceError,
        )
        return PullInfo.from_api(d, repo)

    def _raw(
        self, what: str, url: str, media: str, params: dict[str, Any] | None = None, answers: int = 0
    ) -> tuple[int, Any]:
        """GET ``url`` as ``media``: the status and the body as they came; an error other than
        ``answers`` (a status the caller reads) raises."""

        def get() -> tuple[int, Any]:
            status, headers, body = self._requester().requestJson(
                "GET", url, parameters=params, headers={"Accept": media}
            )
            if status >= 400 and status != answers:
                raise GithubException(status, _json_or_text(body), headers)
            return status, body

        return self._call(what, get, error=SourceError)

    def _diff(self, url: str, what: str) -> bytes:
        status, body = self._raw(f"diff of {what}", url, DIFF_MEDIA, answers=406)
        if status == 406:
            raise DiffTooLarge(
                f"GitHub refused the diff of {what} (HTTP 406: over 20,000 lines or 300 files)"
            )
        return body.encode("utf-8", errors="surrogateescape") if isinstance(body, str) else bytes(body)

    def pull_diff(self, repo: str, number: int) -> bytes:
        """GET /repos/{o}/{r}/pulls/{n} with Accept: application/vnd.github.diff (406 -> DiffTooLarge)"""
        return self._diff(f"/repos/{repo}/pulls/{number}", f"{repo}#{number}")

    def compare_diff(self, repo: str, base: str, head: str) -> bytes:
        """GET /repos/{o}/{r}/compare/{base}...{head} as a diff (406 -> DiffTooLarge)"""
        return self._diff(f"/repos/{repo}/compare/{base}...{head}", f"{repo} {base[:7]}...{head[:7]}")

    def file_text(self, repo: str, path: str, ref: str) -> str | None:
        """GET /repos/{o}/{r}/contents/{path}?ref= as raw text; None when the file is not there (404)."""
        url = f"/repos/{repo}/contents/{quote(path)}"
        what = f"{path} at {ref[:12]} in {repo}"
        status, body = self._raw(what, url, RAW_MEDIA, params={"ref": ref}, answers=404)
        if status == 404:
            return None
        return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)

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
        """Every page of a list (at most 100 pages of 100), each page one retried request."""
        out: list[dict[str, Any]] = []
        for page in range(1, 101):
            d = self._call(what, self._json("GET", url, {**(params or {}), "per_page": 100, "page": page}))
            items = d.get(key, []) if key and isinstance(d, dict) else d
            if not isinstance(items, list):
                raise PublishError(f"GitHub {what}: unexpected answer from {url} (not a list)")
            out.extend(items)
            if len(items) < 100:
                break
        return out

    def open_pulls(self, repo: str) -> list[tuple[int, str]]:
        """GET /repos/{o}/{r}/pulls?state=open (all pages): (number, head SHA) of each"""
        rows = self._pages(f"open pull requests of {repo}", f"/repos/{repo}/pulls", params={"state": "open"})
        return [(int(d["number"]), str(d["head"]["sha"])) for d in rows]

    def _json_or_none(self, what: str, url: str) -> Any:
        """GET ``url``'s JSON; None when GitHub answers 404."""

        def get() -> Any:
            try:
                return self._requester().requestJsonAndCheck("GET", url)[1]
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise

        return self._call(what, get, error=SourceError)

    def permission(self, repo: str, user: str) -> str | None:
        """GET /repos/{o}/{r}/collaborators/{user}/permission: ``role_name``; None for a
        non-collaborator (404)"""
        url = f"/repos/{repo}/collaborators/{quote(user, safe='')}/permission"
        d = self._json_or_none(f"permission of {user} on {repo}", url)
        return None if d is None else str(d.get("role_name") or d.get("permission") or "none")

    def default_branch(self, repo: str) -> str | None:
        """GET /repos/{o}/{r}: the repository's default branch ("" for an empty repository); None
        when there is no such repository or the token cannot see it (404)"""
        d = self._json_or_none(f"repository {repo}", f"/repos/{repo}")
        return None if d is None else str(d.get("default_branch") or "")

    def reviews(self, repo: str, number: int) -> list[ReviewInfo]:
        """GET /repos/{o}/{r}/pulls/{n}/reviews (all pages)"""
        url = f"/repos/{repo}/pulls/{number}/reviews"
        return [ReviewInfo.from_api(d) for d in self._pages(f"reviews of {repo}#{number}", url)]

    def review_comments(self, repo: str, number: int) -> list[CommentInfo]:
        """GET /repos/{o}/{r}/pulls/{n}/comments (all pages)"""
        url = f"/repos/{repo}/pulls/{number}/comments"
        return [CommentInfo.from_api(d) for d in self._pages(f"review comments of {repo}#{number}", url)]

    def issue_comments(self, repo: str, number: int) -> list[IssueCommentInfo]:
        """GET /repos/{o}/{r}/issues/{n}/comments (all pages)"""
        url = f"/repos/{repo}/issues/{number}/comments"
        return [IssueCommentInfo.from_api(d) for d in self._pages(f"comments of {repo}#{number}", url)]

    def check_runs(self, repo: str, sha: str, name: str) -> list[CheckRunInfo]:
        """GET /repos/{o}/{r}/commits/{sha}/check-runs?check_name=NAME"""
        url = f"/repos/{repo}/commits/{sha}/check-runs"
        rows = self._pages(f"check runs of {sha[:7]}", url, key="check_runs", params={"check_name": name})
        return [CheckRunInfo.from_api(d) for d in rows]

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
            out.extend(ThreadInfo.from_api(t) for t in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return out

    def graphql(
        self,
        query: str,
        variables: dict[str, Any],
        what: str = "GraphQL query",
        *,
        budget_s: float | None = None,
    ) -> dict[str, Any]:
        """POST /graphql: one retried query; its decoded answer (``data``). An answer with errors
        raises ``SourceError`` naming ``what``. ``budget_s``: the call's tries and waits stop there
        (a read bounded in time), instead of the client's budget."""
        call = self._call
        if budget_s is not None:
            bounded = Retrier(replace(self.policy, budget_s=budget_s), self._retry.sleep, self._retry.rng)
            bounded.waits = self.waits
            call = bounded.call
        _, d = call(what, lambda: self._requester().graphql_query(query, variables), error=SourceError)
        return d

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

        return self._call(
            f"create review on {repo}#{number}", post, recover=recover, parse=ReviewInfo.from_api
        )

    def create_issue_comment(
        self, repo: str, number: int, body: str, recover: Callable[[], IssueCommentInfo | None] | None = None
    ) -> IssueCommentInfo:
        """POST /repos/{o}/{r}/issues/{n}/comments"""

        post = self._json("POST", f"/repos/{repo}/issues/{number}/comments", payload={"body": body})
        return self._call(
            f"comment on {repo}#{number}", post, recover=recover, parse=IssueCommentInfo.from_api
        )

    def reply_review_comment(
        self,
        repo: str,
        number: int,
        comment_id: int,
        body: str,
        recover: Callable[[], CommentInfo | None] | None = None,
    ) -> CommentInfo:
        """POST /repos/{o}/{r}/pulls/{n}/comments/{id}/replies"""

        url = f"/repos/{repo}/pulls/{number}/comments/{comment_id}/replies"
        post = self._json("POST", url, payload={"body": body})
        return self._call(
            f"reply to comment {comment_id} on {repo}#{number}",
            post,
            recover=recover,
            parse=CommentInfo.from_api,
        )

    def edit_issue_comment(self, repo: str, comment_id: int, body: str) -> None:
        """PATCH /repos/{o}/{r}/issues/comments/{id} (idempotent: retried as is)"""
        self._call(
            f"edit comment {comment_id}",
            self._json("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", payload={"body": body}),
        )

    def create_check_run(
        self, repo: str, payload: dict[str, Any], recover: Callable[[], CheckRunInfo | None] | None = None
    ) -> CheckRunInfo:
        """POST /repos/{o}/{r}/check-runs"""

        post = self._json("POST", f"/repos/{repo}/check-runs", payload=payload)
        return self._call(f"create check run on {repo}", post, recover=recover, parse=CheckRunInfo.from_api)

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
            self._json("PATCH", f"/repos/{repo}/check-runs/{run_id}", payload=payload),
            recover=recover,
        )

    def annotations_count(self, repo: str, run_id: int) -> int:
        """GET /repos/{o}/{r}/check-runs/{id}: ``output.annotations_count``"""

        d = self._call(f"read check run {run_id}", self._json("GET", f"/repos/{repo}/check-runs/{run_id}"))
        return int(((d or {}).get("output") or {}).get("annotations_count") or 0)


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
