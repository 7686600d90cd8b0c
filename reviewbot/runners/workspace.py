"""Where the linters find the files to lint: the checkout at head, or a temporary copy of them.

With ``changeset.workdir`` the tools run in that checkout; with only ``changeset.read_head`` the
changed files are written to a temporary directory under the same relative paths; a bare diff gets
a Skipped per file. Also the subprocess helpers the linters share.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..errors import ReviewbotError
from ..model import ChangeSet, FileStatus, Skipped
from .process import Limits, ProcResult, crash_reason, relative, run_tool

log = logging.getLogger(__name__)

NO_HEAD = "linters need the file at head (a git source); a bare diff has only the changed lines"
STAGE = "lint"
_CHUNK = 200  # files per tool invocation (keeps argv short)
RUFF_CONFIG_FILES = ("ruff.toml", ".ruff.toml", "pyproject.toml")


# ---------------------------------------------------------------------------------------------
# which files, and where they are on disk


@dataclass(frozen=True, slots=True)
class _Tree:
    root: str  # directory the tool runs in
    paths: tuple[str, ...]  # repository-relative paths of the files to lint, all present under root
    materialized: bool  # True when root is our temporary copy


def _python_targets(changeset: ChangeSet, paths: Sequence[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        f = changeset.file(p)
        if f is None or f.status is FileStatus.DELETED or f.is_binary or f.new_path is None:
            continue
        if f.new_path.endswith(".py") and f.new_path not in out:
            out.append(f.new_path)
    return out


_READ_ERRORS = (ReviewbotError, OSError, ValueError)


def _safe_relpath(path: str) -> bool:
    if not path or os.path.isabs(path) or "\x00" in path:
        return False
    return ".." not in path.replace("\\", "/").split("/")


def _inside(root_real: str, path: str) -> bool:
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real + os.sep)


def _has_ruff_config(text: str, name: str) -> bool:
    return name != "pyproject.toml" or "[tool.ruff" in text


class _Workspace:
    """Files at head on disk, for one lint call: the checkout, or a temporary copy (context manager)."""

    def __init__(self, changeset: ChangeSet, paths: Sequence[str], *, copy_ruff_config: bool) -> None:
        self._changeset = changeset
        self._paths = paths
        self._copy_config = copy_ruff_config
        self._tmp: str | None = None
        self.skipped: list[Skipped] = []

    def __enter__(self) -> _Tree | None:
        cs = self._changeset
        targets = _python_targets(cs, self._paths)
        keep: list[str] = []
        for p in targets:
            if _safe_relpath(p):
                keep.append(p)
            else:
                self.skipped.append(Skipped(p, "path escapes the repository; not linted", STAGE))
        if not keep:
            return None
        if cs.workdir:
            root_real = os.path.realpath(cs.workdir)
            present: list[str] = []
            for p in keep:
                full = os.path.join(cs.workdir, p)
                if not os.path.lexists(full):
                    continue  # not at head in this checkout: nothing to lint
                if os.path.islink(full) or not _inside(root_real, full) or not os.path.isfile(full):
                    self.skipped.append(
                        Skipped(p, "not a regular file in the checkout (a symlink?); not linted", STAGE)
                    )
                    continue
                present.append(p)
            return _Tree(cs.workdir, tuple(present), materialized=False) if present else None
        if cs.read_head is None:
            self.skipped.extend(Skipped(p, NO_HEAD, STAGE) for p in keep)
            return None
        self._tmp = tempfile.mkdtemp(prefix="reviewbot-lint-")
        written: list[str] = []
        for p in keep:
            try:
                text = cs.read_head(p)
            except _READ_ERRORS as exc:  # a git reader's SourceError, a decoding error: report it per file
                self.skipped.append(Skipped(p, f"could not read the file at head: {exc}", STAGE))
                continue
            if text is None:
                continue
            self._write(p, text)
            written.append(p)
        if self._copy_config and written:
            self._copy_ruff_configs(written)
        return _Tree(self._tmp, tuple(written), materialized=True) if written else None

    def _write(self, rel: str, text: str) -> None:
        assert self._tmp is not None
        full = os.path.join(self._tmp, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    def _copy_ruff_configs(self, written: Sequence[str]) -> None:
        """Bring the repository's ruff configs (root and each changed file's directories) into the copy."""
        reader = self._changeset.read_head
        assert reader is not None
        dirs: set[str] = {""}
        for p in written:
            d = os.path.dirname(p)
            while d:
                dirs.add(d)
                d = os.path.dirname(d)
        for d in sorted(dirs):
            for name in RUFF_CONFIG_FILES:
                rel = os.path.join(d, name) if d else name
                try:
                    text = reader(rel)
                except _READ_ERRORS as exc:
                    log.debug("no ruff config at %s: %s", rel, exc)
                    continue
                if text is not None and _has_ruff_config(text, name):
                    self._write(rel, text)

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


_relative = relative  # the tool's file name as a repository-relative path with '/'


def _run_tool(
    name: str, argv: Sequence[str], root: str, timeout: float, limits: Limits | None
) -> ProcResult | Skipped:
    res = run_tool(name, argv, root, timeout, limits)
    return Skipped("*", res, STAGE) if isinstance(res, str) else res


def _failed(name: str, res: ProcResult) -> Skipped:
    return Skipped("*", crash_reason(name, res), STAGE)
