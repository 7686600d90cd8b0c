"""Webhook payloads -> the job they ask for, or None for events the service ignores."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_GITHUB_REVIEW = {"opened", "reopened", "synchronize", "ready_for_review"}
_GITLAB_REVIEW = {"open", "reopen"}


@dataclass(frozen=True, slots=True)
class Request:
    """What to enqueue: a review of `head`, or a comment command (kind "command", arg JSON)."""

    host: str
    repo: str
    number: int
    head: str
    kind: str = "review"
    arg: str = ""


def _command(host: str, repo: str, number: int, body: str, user: str, thread: str | None,
             parse: Callable[[str], Any] | None) -> Request | None:  # fmt: skip
    if parse is None:
        from .commands import parse  # svchost's parser (issue 12, build item 4)
    cmd = parse(body)
    if cmd is None:
        return None
    arg = json.dumps({"name": cmd.name, "arg": cmd.arg, "user": user, "thread": thread}, sort_keys=True)
    return Request(host, repo, number, "", "command", arg)


def github(event: str, payload: dict[str, Any], parse: Callable[[str], Any] | None = None) -> Request | None:
    repo = (payload.get("repository") or {}).get("full_name")
    if not isinstance(repo, str):
        return None
    if event == "pull_request" and payload.get("action") in _GITHUB_REVIEW:
        pr = payload.get("pull_request") or {}
        if pr.get("draft") or pr.get("state") != "open":
            return None
        return Request("github", repo, int(pr["number"]), str(pr["head"]["sha"]))
    if payload.get("action") != "created" or (payload.get("sender") or {}).get("type") == "Bot":
        return None
    comment = payload.get("comment") or {}
    user = (comment.get("user") or {}).get("login", "")
    if event == "issue_comment" and (payload.get("issue") or {}).get("pull_request"):
        return _command(
            "github", repo, int(payload["issue"]["number"]), comment.get("body") or "", user, None, parse
        )
    if event == "pull_request_review_comment":
        thread = str(comment.get("in_reply_to_id") or comment.get("id"))
        number = int(payload["pull_request"]["number"])
        return _command("github", repo, number, comment.get("body") or "", user, thread, parse)
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
        return Request("gitlab", repo, int(attrs["iid"]), str(attrs["last_commit"]["id"]))
    if event == "Note Hook" and attrs.get("noteable_type") == "MergeRequest":
        mr, user = payload.get("merge_request") or {}, (payload.get("user") or {}).get("username", "")
        return _command(
            "gitlab", repo, int(mr["iid"]), attrs.get("note") or "", user, attrs.get("discussion_id"), parse
        )
    return None
