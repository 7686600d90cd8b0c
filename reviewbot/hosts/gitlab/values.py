"""The GitLab answers reviewbot reads, as plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DiscussionInfo", "FileDiffInfo", "MergeRequestInfo", "NoteInfo", "VersionInfo"]


@dataclass(frozen=True, slots=True)
class MergeRequestInfo:
    iid: int
    title: str
    state: str
    web_url: str | None
    source_project_id: int | None  # differs from the target's for MRs from forks
    target_project_id: int | None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One entry of the MR's versions: positions must name these three SHAs."""

    id: int
    base_sha: str
    start_sha: str
    head_sha: str


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


@dataclass(frozen=True, slots=True)
class NoteInfo:
    id: int
    body: str
    author: str | None
    system: bool


@dataclass(frozen=True, slots=True)
class DiscussionInfo:
    """A thread, by its first note."""

    id: str
    body: str
    author: str | None
    resolvable: bool
    resolved: bool
    path: str | None = None  # the file of a thread on the diff
