"""The staged changes of a git repository (what `git diff --cached` shows): the tree of HEAD against
the tree the index holds, for a pre-commit hook.

    StagedSource(Path(".")).load() -> ChangeSet

``git write-tree`` records the index as a tree object (it changes no ref, the index or the work
tree); ``read_head`` reads the staged text from that tree. Before the first commit the base is the
empty tree. ``workdir`` is always None: the work tree may differ from what is staged, so tools
that need files materialize the staged ones.
"""

from __future__ import annotations

from ..model import ChangeSet
from .git import GitSource

__all__ = ["StagedSource"]


class StagedSource(GitSource):
    """A change from the index of the repository at (or above) ``repo``; see the module docstring."""

    def load(self) -> ChangeSet:
        self._top = None
        self._top = self._toplevel()
        base = self._commit("HEAD") or self._empty_tree()
        staged = self._out("write-tree", what="git write-tree (the staged changes)")
        name = f"git {base[:7]}..staged"
        return ChangeSet(
            files=self._diff(base, staged, name=name),
            description=f"{name} (the staged changes)",
            base=base,
            head=staged,
            read_head=self._head_reader(staged),
            workdir=None,
        )
