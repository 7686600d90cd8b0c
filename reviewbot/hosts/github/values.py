"""The GitHub answers reviewbot reads, as plain frozen values (no lazy PyGithub objects: their
attribute reads can make hidden HTTP calls)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "AppInstallation",
    "CheckRunInfo",
    "CommentInfo",
    "IssueCommentInfo",
    "PullInfo",
    "ReviewInfo",
    "ThreadInfo",
]


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


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    id: int
    body: str
    commit_id: str | None
    state: str
    user: str | None


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


@dataclass(frozen=True, slots=True)
class IssueCommentInfo:
    id: int
    body: str
    user: str | None


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """A review thread (GraphQL): its first comment, and whether GitHub marked it outdated."""

    id: str
    resolved: bool
    outdated: bool
    body: str
    author: str | None  # GraphQL logins of apps have no "[bot]" suffix


@dataclass(frozen=True, slots=True)
class CheckRunInfo:
    id: int
    name: str
    external_id: str | None
    head_sha: str | None


@dataclass(frozen=True, slots=True)
class AppInstallation:
    """A GitHub App's installation: the client signs JWTs with ``private_key`` (PEM) for its token."""

    app_id: int
    installation_id: int
    private_key: str = field(repr=False)
