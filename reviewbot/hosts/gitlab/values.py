"""The GitLab answers reviewbot reads, as plain frozen values, each built from its answer's
attributes by ``from_api``.

``from_api`` runs after the retried request, so a bug in it is raised as itself, never retried
and never reported as GitLab's fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DiscussionInfo", "FileDiffInfo", "MergeRequestInfo", "NoteInfo", "VersionInfo"]


def _author(note: dict[str, Any]) -> str | None:
    author = note.get("author")
    return author.get("username") if isinstance(author, dict) else None


@dataclass(frozen=True, slots=True)
class MergeRequestInfo:
    iid: int
    title: str
    state: str
    web_url: str | None
    source_project_id: int | None  # differs from the target's for MRs from forks
    target_project_id: int | None

    @classmethod
    def from_api(cls, a: dict[str, Any]) -> MergeRequestInfo:
        title, state = str(a.get("title") or ""), str(a.get("state") or "")
        projects = a.get("source_project_id"), a.get("target_project_id")
        return cls(int(a["iid"]), title, state, a.get("web_url"), *projects)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One entry of the MR's versions: positions must name these three SHAs."""

    id: int
    base_sha: str
    start_sha: str
    head_sha: str

    @classmethod
    def from_api(cls, v: dict[str, Any]) -> VersionInfo:
        return cls(int(v["id"]), v["base_commit_sha"], v["start_commit_sha"], v["head_commit_sha"])


@dataclass(frozen=True, slots=True)
class FileDiffInfo:
    old_path: str
    new_path: str
    diff: str  # the hunks, without git's header lines
    new_file: bool
    deleted_file: bool
    renamed_file: bool
    collapsed: bool  # too large or collapsed: GitLab sent no hunks
    a_mode: str | None = None
    b_mode: str | None = None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> FileDiffInfo:
        old, new = d.get("old_path") or d.get("new_path"), d.get("new_path") or d.get("old_path")
        kinds = bool(d.get("new_file")), bool(d.get("deleted_file")), bool(d.get("renamed_file"))
        collapsed = bool(d.get("too_large") or d.get("collapsed"))
        return cls(old, new, str(d.get("diff") or ""), *kinds, collapsed, d.get("a_mode"), d.get("b_mode"))


@dataclass(frozen=True, slots=True)
class NoteInfo:
    """A note, or a draft note (its text is in ``note``, and it names no author)."""

    id: int
    body: str
    author: str | None
    system: bool

    @classmethod
    def from_api(cls, n: dict[str, Any], body: str | None = None) -> NoteInfo:
        """``body``: the text just posted, kept as sent."""
        text = str(n.get("body") or n.get("note") or "") if body is None else body
        return cls(int(n["id"]), text, _author(n), bool(n.get("system")))


@dataclass(frozen=True, slots=True)
class DiscussionInfo:
    """A thread, by its first note."""

    id: str
    body: str
    author: str | None
    resolvable: bool
    resolved: bool
    path: str | None = None  # the file of a thread on the diff

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> DiscussionInfo | None:
        """None for a discussion without notes."""
        notes = d.get("notes") or []
        if not notes:
            return None
        first = notes[0]
        path = (first.get("position") or {}).get("new_path")
        resolvable, resolved = bool(first.get("resolvable")), bool(first.get("resolved"))
        return cls(str(d["id"]), str(first.get("body") or ""), _author(first), resolvable, resolved, path)
