"""The GitHub answers reviewbot reads, as plain frozen values (no lazy PyGithub objects: their
attribute reads can make hidden HTTP calls), each built from its answer by ``from_api``.

``from_api`` runs after the retried request, so a bug in it is raised as itself, never retried
and never reported as GitHub's fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AppInstallation",
    "CheckRunInfo",
    "CommentInfo",
    "IssueCommentInfo",
    "PullInfo",
    "ReviewInfo",
    "ThreadInfo",
]


def _login(d: dict[str, Any]) -> str | None:
    return (d.get("user") or {}).get("login")


@dataclass(frozen=True, slots=True)
class PullInfo:
    number: int
    title: str
    base_sha: str
    head_sha: str
    head_repo: str | None  # owner/name of the head repository (a fork's, for fork PRs)
    base_repo: str
    state: str
    html_url: str | None = None

    @classmethod
    def from_api(cls, d: dict[str, Any], repo: str) -> PullInfo:
        head, base = d["head"], d["base"]
        head_repo = (head.get("repo") or {}).get("full_name")
        base_repo = str((base.get("repo") or {}).get("full_name") or repo)
        title, state = str(d.get("title") or ""), str(d.get("state") or "")
        shas = str(base["sha"]), str(head["sha"])
        return cls(int(d["number"]), title, *shas, head_repo, base_repo, state, d.get("html_url"))


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    id: int
    body: str
    commit_id: str | None
    state: str
    user: str | None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> ReviewInfo:
        return cls(
            int(d["id"]), str(d.get("body") or ""), d.get("commit_id"), str(d.get("state") or ""), _login(d)
        )


@dataclass(frozen=True, slots=True)
class CommentInfo:
    """A review comment (on a line of the diff)."""

    id: int
    body: str
    path: str
    line: int | None  # None once the comment is outdated
    side: str | None
    commit_id: str | None
    review_id: int | None
    user: str | None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> CommentInfo:
        body, path = str(d.get("body") or ""), str(d.get("path") or "")
        review = d.get("pull_request_review_id")
        return cls(
            int(d["id"]), body, path, d.get("line"), d.get("side"), d.get("commit_id"), review, _login(d)
        )


@dataclass(frozen=True, slots=True)
class IssueCommentInfo:
    id: int
    body: str
    user: str | None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> IssueCommentInfo:
        return cls(int(d["id"]), str(d.get("body") or ""), _login(d))


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """A review thread (GraphQL): its first comment, and whether GitHub marked it outdated."""

    id: str
    resolved: bool
    outdated: bool
    body: str
    author: str | None  # GraphQL logins of apps have no "[bot]" suffix

    @classmethod
    def from_api(cls, t: dict[str, Any]) -> ThreadInfo:
        first = ((t.get("comments") or {}).get("nodes") or [{}])[0]
        author = (first.get("author") or {}).get("login")
        return cls(
            str(t["id"]), bool(t["isResolved"]), bool(t["isOutdated"]), str(first.get("body") or ""), author
        )


@dataclass(frozen=True, slots=True)
class CheckRunInfo:
    id: int
    name: str
    external_id: str | None
    head_sha: str | None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> CheckRunInfo:
        return cls(int(d["id"]), str(d.get("name") or ""), d.get("external_id"), d.get("head_sha"))


@dataclass(frozen=True, slots=True)
class AppInstallation:
    """A GitHub App's installation: the client signs JWTs with ``private_key`` (PEM) for its token."""

    app_id: int
    installation_id: int
    private_key: str = field(repr=False)
