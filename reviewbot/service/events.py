"""Webhook payloads -> the job they ask for, or None for events the service ignores.

The fields a job keeps are checked (``Malformed``, a 400): a repository path of ``/``-separated
names of letters, digits, ``.``, ``_`` and ``-``; a head of 40 or 64 hex digits; a change number
and a comment id that are JSON integers in range (not ``1e300``, not ``true``). A command's job is
known by its comment, ``(host, repository, comment id)``, so a replayed delivery under a fresh
delivery id is the same job; an edited GitLab note (``action: update``) is not a command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_GITHUB_REVIEW = {"opened", "reopened", "synchronize", "ready_for_review"}
_GITLAB_REVIEW = {"open", "reopen"}
_NAME = r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}"
_REPO = re.compile(rf"{_NAME}(?:/{_NAME}){{1,20}}")
_HEAD = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
MAX_NUMBER = 2**31 - 1  # pull request and merge request numbers
MAX_ID = 2**63 - 1  # comment and note ids (GitHub's are past 2**31)


class Malformed(ValueError):
    """A payload field that is not what the host sends; its message names the field."""


@dataclass(frozen=True, slots=True)
class Request:
    """What to enqueue: a review of `head`, or a comment command (kind "command", arg JSON).
    ``key``: a command's identity, ``host:comment:repo:id``, stored as its delivery."""

    host: str
    repo: str
    number: int
    head: str
    kind: str = "review"
    arg: str = ""
    key: str = ""


def _repo(value: Any) -> str:
    if not isinstance(value, str) or not _REPO.fullmatch(value) or {".", ".."} & set(value.split("/")):
        raise Malformed("repository path")
    return value


def _integer(value: Any, what: str, top: int = MAX_NUMBER) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise Malformed(what)
    return value


def _head(value: Any) -> str:
    if not isinstance(value, str) or not _HEAD.fullmatch(value):
        raise Malformed("head commit")
    return value


def _review(host: str, repo: Any, number: Any, head: Any) -> Request:
    return Request(host, _repo(repo), _integer(number, "number"), _head(head))


def _command(
    host: str,
    repo: str,
    number: Any,
    comment: Any,
    body: Any,
    user: Any,
    thread: str | None,
    parse: Callable[[str], Any] | None,
) -> Request | None:
    if parse is None:
        from .commands import parse  # the comment commands of service/commands.py
    cmd = parse(body if isinstance(body, str) else "")
    if cmd is None:
        return None
    repo, comment = _repo(repo), _integer(comment, "comment id", MAX_ID)
    user = user if isinstance(user, str) else ""
    arg = json.dumps({"name": cmd.name, "arg": cmd.arg, "user": user, "thread": thread}, sort_keys=True)
    return Request(
        host, repo, _integer(number, "number"), "", "command", arg, f"{host}:comment:{repo}:{comment}"
    )


def github(event: str, payload: dict[str, Any], parse: Callable[[str], Any] | None = None) -> Request | None:
    repo = (payload.get("repository") or {}).get("full_name")
    if not isinstance(repo, str):
        return None
    if event == "pull_request" and payload.get("action") in _GITHUB_REVIEW:
        pr = payload.get("pull_request") or {}
        if pr.get("draft") or pr.get("state") != "open":
            return None
        return _review("github", repo, pr["number"], pr["head"]["sha"])
    if payload.get("action") != "created" or (payload.get("sender") or {}).get("type") == "Bot":
        return None
    comment = payload.get("comment") or {}
    user = (comment.get("user") or {}).get("login", "")
    if event == "issue_comment" and (payload.get("issue") or {}).get("pull_request"):
        number = payload["issue"]["number"]
        return _command("github", repo, number, comment.get("id"), comment.get("body"), user, None, parse)
    if event == "pull_request_review_comment":
        thread = str(comment.get("in_reply_to_id") or comment.get("id"))
        number = payload["pull_request"]["number"]
        return _command("github", repo, number, comment.get("id"), comment.get("body"), user, thread, parse)
    return None


def gitlab(event: str, payload: dict[str, Any], parse: Callable[[str], Any] | None = None) -> Request | None:
    repo = (payload.get("project") or {}).get("path_with_namespace")
    attrs = payload.get("object_attributes") or {}
    if not isinstance(repo, str):
        return None
    if event == "Merge Request Hook":
        new_commits = attrs.get("action") == "update" and "oldrev" in attrs
        if attrs.get("state") != "opened" or not (attrs.get("action") in _GITLAB_REVIEW or new_commits):
            return None
        if attrs.get("draft") or attrs.get("work_in_progress"):
            return None
        return _review("gitlab", repo, attrs["iid"], attrs["last_commit"]["id"])
    if event == "Note Hook" and attrs.get("noteable_type") == "MergeRequest":
        if attrs.get("action", "create") != "create":  # an edited note runs nothing
            return None
        mr, user = payload.get("merge_request") or {}, (payload.get("user") or {}).get("username", "")
        thread = attrs.get("discussion_id")
        thread = thread if isinstance(thread, str) else None
        return _command("gitlab", repo, mr["iid"], attrs.get("id"), attrs.get("note"), user, thread, parse)
    return None
