"""What a host's fetch takes from a git checkout of the change (a CI job's clone, ``--checkout DIR``).

- ``whole_diff``: the diff from git when the host's API will not give it (GitHub above 20,000
  lines or 300 files, GitLab's collapsed files); without a checkout that is a ``SourceError``
  saying how to give one.
- ``at_head``: the head commit, so files at head are read from git and linters run; without a
  checkout holding it only the model sees the change.
- ``changeset``: the change as reviewed, its name followed by the notes on where its diff came from.
- ``interdiff``: the files changed from the last reviewed head to the new one, from git.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import SourceError
from ..model import ChangeSet, FileDiff
from ..sources.git import GitSource

__all__ = ["at_head", "changeset", "interdiff", "whole_diff"]


def whole_diff(checkout: Path | None, revisions: str, refused: str) -> ChangeSet:
    """``git diff revisions`` in ``checkout``; ``refused`` (why, and what checkout it takes) without one."""
    if checkout is None:
        raise SourceError(refused)
    return GitSource(checkout, revisions).load()


def at_head(checkout: Path | None, head: str) -> ChangeSet | None:
    """The head commit in the checkout, for reading files at head; None when it is not there."""
    if checkout is None:
        return None
    try:
        return GitSource(checkout, f"{head}^!").load()
    except SourceError:
        return None


def changeset(
    files: tuple[FileDiff, ...],
    name: str,
    notes: Sequence[str],
    base: str,
    head: str,
    git: ChangeSet | None,
) -> ChangeSet:
    """The change, with files at head read from ``git`` where there is a checkout."""
    return ChangeSet(
        files=files,
        description=name + (f" ({'; '.join(notes)})" if notes else ""),
        base=base,
        head=head,
        read_head=git.read_head if git is not None else None,
        workdir=git.workdir if git is not None else None,
    )


def interdiff(checkout: Path | None, since: str, head: str) -> tuple[FileDiff, ...] | None:
    """Files changed from ``since`` to ``head`` in git; None without both commits (a force-push)."""
    if checkout is None:
        return None
    try:
        return GitSource(checkout, f"{since}..{head}").load().files
    except SourceError:
        return None
