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
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

from ...diff.parse import parse_diff
from ...model import ChangeSet
from ..checkout import at_head, changeset, whole_diff
from .client import GitLabClient
from .values import FileDiffInfo, VersionInfo

__all__ = ["GitLabMergeSource", "unified"]

CHECKOUT_HINT = "review it from a checkout holding both commits (--checkout DIR, GIT_DEPTH: 0)"


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


@dataclass
class GitLabMergeSource:
    client: GitLabClient
    project: str
    iid: int
    _: KW_ONLY
    checkout: Path | None = None
    version: VersionInfo | None = field(default=None, init=False)  # filled by load()
    diff_from: str | None = field(default=None, init=False)  # "api" or "git", after load()

    def load(self) -> ChangeSet:
        v = self.version = self.client.latest_version(self.project, self.iid)
        name = f"GitLab {self.project}!{self.iid} {v.base_sha[:7]}..{v.head_sha[:7]}"
        diffs = self.client.version_diffs(self.project, self.iid, v.id)
        notes: list[str] = []
        if any(f.collapsed for f in diffs):
            refused = f"{name}: GitLab sent collapsed or too large diffs; {CHECKOUT_HINT}"
            git = whole_diff(self.checkout, f"{v.base_sha}..{v.head_sha}", refused)
            files, self.diff_from = git.files, "git"
            notes.append("diff from git: GitLab collapsed files too large to show")
        else:
            text = unified(diffs)
            files = parse_diff(text, name=name) if text else ()
            self.diff_from = "api"
            git = at_head(self.checkout, v.head_sha)  # files at head, for the linters
        return changeset(files, name, notes, v.base_sha, v.head_sha, git)
