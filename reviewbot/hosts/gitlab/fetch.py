"""A merge request on GitLab as a ChangeSet: the latest version's diff from the API, or from git.

    GitLabMergeSource(client, "group/project", 7, checkout=Path(".")).load() -> ChangeSet

- ``base``/``head`` and the position SHAs come from the newest entry of the MR's versions
  (``GET .../versions``), never from the target branch's HEAD.
- The diff is that version's (``GET .../versions/:id``), rebuilt as a git diff. When GitLab sends a
  file collapsed or too large (no hunks), the whole diff is ``git diff BASE..HEAD`` in ``checkout``
  (a CI job's clone with both commits: ``GIT_DEPTH: 0``); without one that is a ``SourceError``.
- With a checkout that holds the head commit, files at head are read from git, so linters run.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from ...diff.parse import parse_diff
from ...errors import SourceError
from ...model import ChangeSet
from ...sources.git import GitSource
from .client import GitLabClient
from .values import FileDiffInfo, VersionInfo

__all__ = ["GitLabMergeSource", "unified"]


def unified(files: Iterable[FileDiffInfo]) -> str:
    """The version's files as one git diff (GitLab sends each file's hunks without git's header)."""
    out: list[str] = []
    for f in files:
        if not f.diff.strip():
            continue  # binary, or a mode or rename without content: nothing to review
        out.append(f"diff --git a/{f.old_path} b/{f.new_path}\n")
        if f.new_file:
            out.append(f"new file mode {f.b_mode or '100644'}\n")
        elif f.deleted_file:
            out.append(f"deleted file mode {f.a_mode or '100644'}\n")
        elif f.renamed_file:
            out.append(f"rename from {f.old_path}\nrename to {f.new_path}\n")
        out.append("--- /dev/null\n" if f.new_file else f"--- a/{f.old_path}\n")
        out.append("+++ /dev/null\n" if f.deleted_file else f"+++ b/{f.new_path}\n")
        out.append(f.diff if f.diff.endswith("\n") else f.diff + "\n")
    return "".join(out)


class GitLabMergeSource:
    def __init__(self, client: GitLabClient, project: str, iid: int, *, checkout: Path | None = None) -> None:
        self.client, self.project, self.iid, self.checkout = client, project, iid, checkout
        self.version: VersionInfo | None = None  # filled by load()
        self.diff_from: str | None = None  # "api" or "git", after load()

    def load(self) -> ChangeSet:
        v = self.version = self.client.latest_version(self.project, self.iid)
        name = f"GitLab {self.project}!{self.iid} {v.base_sha[:7]}..{v.head_sha[:7]}"
        diffs = self.client.version_diffs(self.project, self.iid, v.id)
        git: ChangeSet | None = None
        notes: list[str] = []
        if any(f.collapsed for f in diffs):
            if self.checkout is None:
                raise SourceError(
                    f"{name}: GitLab sent collapsed or too large diffs; review it from a checkout holding both "
                    "commits (--checkout DIR, GIT_DEPTH: 0)"
                )
            git = GitSource(self.checkout, f"{v.base_sha}..{v.head_sha}").load()
            files = git.files
            self.diff_from = "git"
            notes.append("diff from git: GitLab collapsed files too large to show")
        else:
            text = unified(diffs)
            files = parse_diff(text, name=name) if text else ()
            self.diff_from = "api"
            if self.checkout is not None:  # files at head, for the linters
                with suppress(SourceError):
                    git = GitSource(self.checkout, f"{v.head_sha}^!").load()
        cs = ChangeSet(files, name + (f" ({'; '.join(notes)})" if notes else ""), v.base_sha, v.head_sha)
        return cs if git is None else replace(cs, read_head=git.read_head, workdir=git.workdir)
