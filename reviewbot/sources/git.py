"""A change taken from a local git repository: a revision range, or this branch against the default one.

    GitSource(Path("."), "main..HEAD").load() -> ChangeSet

Ranges (``range_spec``):

- ``BASE..HEAD``: the tree of BASE against the tree of HEAD (what ``git diff BASE HEAD`` shows).
  An empty side means ``HEAD``, as in git.
- ``BASE...HEAD``: from the merge base of BASE and HEAD to HEAD, which is what a pull request
  against BASE shows.
- ``REV`` alone: ``REV...HEAD`` (the merge base, so ``--git main`` on a feature branch shows the
  branch's own changes even when main has moved on; when REV is an ancestor of HEAD it is REV).
- ``REV^!``: that one commit against its first parent.
- None: the merge base of HEAD and the default branch (``refs/remotes/origin/HEAD``, then the
  local ``main``, ``master``, ``trunk``, ``develop``, then ``origin/`` of those). When that merge
  base is HEAD itself (HEAD *is* the default branch, or has nothing new), HEAD's last commit is
  reviewed instead and the description says so. A root commit is diffed against the empty tree.

Each revision is resolved with ``git rev-parse --verify --end-of-options REV^{commit}``; a bad one
raises ``SourceError`` naming it. ``base``/``head`` of the ChangeSet are full commit ids and the
description is ``git BASE7..HEAD7`` (plus a note for the default-range cases).

The diff is made by ``git diff`` with every setting that changes its *format* pinned on the command
line, so a user's or a repository's configuration cannot break parsing: no colour, no external diff
driver, no textconv, ``a/``/``b/`` prefixes (``diff.noprefix``/``diff.mnemonicPrefix`` overridden),
no ``diff.relative``, ``--submodule=short``, three lines of context, rename detection on (copy
detection off: a copied file is reviewed whole, as an added file). Other settings that only change
which equally valid diff comes out (``diff.algorithm``, ``diff.orderFile``) are left to the user.
Git runs without a shell, with a timeout, with ``LC_ALL=C``, no pager, no prompts, no optional
locks, and without the ``GIT_DIR``-style variables a calling hook may have set. The user's global
configuration is kept on purpose: it carries ``safe.directory`` for checkouts owned by another user.

``read_head(path)`` returns the text of ``path`` in the head commit (UTF-8, undecodable bytes become
U+FFFD), or None when it does not exist there, is not a file, or is binary (a NUL byte in its first
8000 bytes, git's own test). Absolute paths and ``..`` components are refused (None). Results are
cached per ChangeSet.

``workdir`` is the repository's top level only when the checkout *is* the head revision for the
changed files: the work tree's HEAD is the head commit and ``git status`` shows nothing (modified,
staged or untracked) for any old or new path of the change. Otherwise it is None, and tools that
need files on disk materialize them through ``read_head``. Tools that run against the checkout
therefore never see edits that are not part of the reviewed change.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reviewbot.diff.parse import parse_diff_bytes
from reviewbot.errors import SourceError, UsageError
from reviewbot.model import ChangeSet, FileDiff
from reviewbot.redact import clean_environ

__all__ = ["DEFAULT_BRANCHES", "GitSource"]

DEFAULT_BRANCHES = ("main", "master", "trunk", "develop")
DEFAULT_TIMEOUT = 120.0
_HINT = "pass the range explicitly, for example --git BASE..HEAD"

# Format-affecting configuration, pinned for every git call.
_CONFIG = (
    "color.ui=false",
    "color.diff=false",
    "core.quotepath=on",
    "core.fsmonitor=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.suppressBlankEmpty=false",
    "diff.submodule=short",
)
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "--submodule=short",
    "--unified=3",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
# Variables that point git at another repository or change its output; a git hook sets some of them.
_DROP_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "GIT_DIFF_PATH_COUNTER",
    "GIT_DIFF_PATH_TOTAL",
    "GIT_PAGER",
    "PAGER",
    "GIT_TRACE",
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)


@dataclass(frozen=True, slots=True)
class _Resolved:
    base: str
    head: str
    note: str | None = None  # how a default range was chosen, for the description


def _env() -> dict[str, str]:
    env = {k: v for k, v in clean_environ(os.environ).items() if k not in _DROP_ENV}  # no credentials
    env.update(
        LC_ALL="C",
        LANGUAGE="C",
        GIT_PAGER="cat",
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
    )
    return env


def _last_line(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:  # git's own verdict first
        if ln.startswith(("fatal:", "error:")):
            return ln[:300]
    return lines[-1][:300] if lines else "no message"


class GitSource:
    """A change from the git repository at (or above) ``repo``; see the module docstring."""

    def __init__(
        self,
        repo: Path | str,
        range_spec: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        default_branches: tuple[str, ...] = DEFAULT_BRANCHES,
        git: str = "git",
    ) -> None:
        self.repo = Path(repo)
        self.range_spec = range_spec
        self.timeout = timeout
        self.default_branches = tuple(default_branches)
        self.git = git
        self._env = _env()
        self._top: str | None = None

    # ---------------------------------------------------------------------------------- running

    def _run(
        self, *args: str, check: bool = True, what: str | None = None, cwd: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        argv = [self.git, "--no-pager"]
        for item in _CONFIG:
            argv += ["-c", item]
        argv += args
        try:
            proc = subprocess.run(
                argv,
                cwd=cwd or self._top or str(self.repo),
                env=self._env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            if cwd is None and self._top is None and not self.repo.is_dir():
                raise SourceError(f"{self.repo}: no such directory") from exc
            raise SourceError(f"git is not installed or not on PATH ({self.git})") from exc
        except subprocess.TimeoutExpired as exc:
            raise SourceError(f"git {args[0]} took longer than {self.timeout:g} s in {self.repo}") from exc
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an argument
            raise SourceError(f"cannot run git {args[0]}: {exc}") from exc
        if check and proc.returncode != 0:
            raise SourceError(f"{what or 'git ' + args[0]} failed in {self.repo}: {_last_line(proc.stderr)}")
        return proc

    def _out(self, *args: str, what: str | None = None) -> str:
        return self._run(*args, what=what).stdout.decode("utf-8", errors="replace").strip()

    # ---------------------------------------------------------------------------------- loading

    def load(self) -> ChangeSet:
        self._top = None
        self._top = self._toplevel()
        r = self._resolve()
        short = f"{r.base[:7]}..{r.head[:7]}"
        description = f"git {short}" + (f" ({r.note})" if r.note else "")
        files = self._diff(r.base, r.head, name=f"git {short}")
        return ChangeSet(
            files=files,
            description=description,
            base=r.base,
            head=r.head,
            read_head=self._head_reader(r.head),
            workdir=self._workdir(r.head, files),
        )

    def _toplevel(self) -> str:
        if not self.repo.is_dir():
            raise SourceError(f"{self.repo}: no such directory")
        proc = self._run("rev-parse", "--show-toplevel", check=False, cwd=str(self.repo))
        top = proc.stdout.decode("utf-8", errors="surrogateescape").strip()
        if proc.returncode == 0 and top:
            return top
        reason = _last_line(proc.stderr)
        if "not a git repository" in reason:
            raise SourceError(f"{self.repo} is not a git repository")
        if "must be run in a work tree" in reason:
            raise SourceError(f"{self.repo} is a bare git repository; reviewbot needs a work tree")
        raise SourceError(f"{self.repo}: git cannot use this repository: {reason}")

    def _commit(self, rev: str) -> str | None:
        if not rev or "\0" in rev or "\n" in rev:
            return None
        proc = self._run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}", check=False
        )
        sha = proc.stdout.decode("ascii", errors="replace").strip()
        return sha if proc.returncode == 0 and sha else None

    def _verify(self, rev: str) -> str:
        sha = self._commit(rev)
        if sha is None:
            raise SourceError(f"unknown revision {rev!r} in {self.repo} (not a commit)")
        return sha

    def _merge_base(self, a: str, b: str, *, names: str) -> str | None:
        proc = self._run("merge-base", a, b, check=False)
        sha = proc.stdout.decode("ascii", errors="replace").split()
        if proc.returncode == 0 and sha:
            return sha[0]
        if proc.returncode not in (0, 1):  # 1 is git's "no merge base"; anything else is an error
            raise SourceError(f"git merge-base {names} failed in {self.repo}: {_last_line(proc.stderr)}")
        return None

    def _no_merge_base(self, names: str) -> SourceError:
        shallow = self._out("rev-parse", "--is-shallow-repository") == "true"
        why = (
            "the clone is shallow: fetch more history (fetch-depth: 0)" if shallow else "unrelated histories"
        )
        return SourceError(f"{names} have no merge base ({why}); {_HINT}")

    def _resolve(self) -> _Resolved:
        spec = self.range_spec
        if spec is None:
            return self._default_range()
        spec = spec.strip()
        if not spec:
            raise UsageError(f"empty git range; {_HINT}")
        if spec.endswith("^!") and ".." not in spec:
            rev = spec[:-2]
            head = self._verify(rev)
            parent = self._commit(head + "^1")
            return _Resolved(parent or self._empty_tree(), head, None if parent else "root commit")
        if "..." in spec:
            left, right = spec.split("...", 1)
            left, right = left or "HEAD", right or "HEAD"
            base_c, head = self._verify(left), self._verify(right)
            base = self._merge_base(base_c, head, names=f"{left} and {right}")
            if base is None:
                raise self._no_merge_base(f"{left} and {right}")
            return _Resolved(base, head)
        if ".." in spec:
            left, right = spec.split("..", 1)
            if right.startswith("."):
                raise UsageError(f"bad git range {spec!r}; expected BASE..HEAD or BASE...HEAD")
            return _Resolved(self._verify(left or "HEAD"), self._verify(right or "HEAD"))
        # a single revision: REV...HEAD
        base_c, head = self._verify(spec), self._verify("HEAD")
        base = self._merge_base(base_c, head, names=f"{spec} and HEAD")
        if base is None:
            raise self._no_merge_base(f"{spec} and HEAD")
        return _Resolved(base, head)

    def _default_branch(self) -> tuple[str, str] | None:
        """(display name, commit) of the default branch, or None."""
        proc = self._run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False)
        candidates: list[str] = []
        target = proc.stdout.decode("utf-8", errors="replace").strip()
        if proc.returncode == 0 and target.startswith("refs/"):
            candidates.append(target)
        candidates += [f"refs/heads/{b}" for b in self.default_branches]
        candidates += [f"refs/remotes/origin/{b}" for b in self.default_branches]
        for ref in candidates:
            sha = self._commit(ref)
            if sha is not None:
                name = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
                return name, sha
        return None

    def _default_range(self) -> _Resolved:
        head = self._commit("HEAD")
        if head is None:
            raise SourceError(f"{self.repo} has no commits yet (HEAD does not name a commit)")
        found = self._default_branch()
        if found is None:
            tried = ", ".join(("origin/HEAD",) + self.default_branches)
            raise SourceError(f"cannot find the default branch in {self.repo} (tried {tried}); {_HINT}")
        name, branch = found
        base = self._merge_base(branch, head, names=f"{name} and HEAD")
        if base is None:
            raise self._no_merge_base(f"{name} and HEAD")
        if base != head:
            return _Resolved(base, head, f"merge base of {name} and HEAD")
        # HEAD is the default branch (or has nothing new): review its last commit
        parent = self._commit(head + "^1")
        if parent is None:
            return _Resolved(self._empty_tree(), head, f"root commit; HEAD has nothing new against {name}")
        return _Resolved(parent, head, f"last commit; HEAD has nothing new against {name}")

    def _empty_tree(self) -> str:
        # the empty tree's id depends on the repository's hash (sha1 or sha256)
        proc = self._run("hash-object", "-t", "tree", "/dev/null")
        return proc.stdout.decode("ascii").strip()

    # ------------------------------------------------------------------------------------- diff

    def _diff(self, base: str, head: str, *, name: str) -> tuple[FileDiff, ...]:
        proc = self._run("diff", *_DIFF_OPTIONS, base, head, "--", what=f"git diff {name[4:]}")
        if not proc.stdout.strip():
            return ()  # identical trees: an empty change, not an error
        return parse_diff_bytes(proc.stdout, name=name)

    # -------------------------------------------------------------------------------- read_head

    def read_at(self, rev: str, path: str) -> str | None:
        """The text of `path` at commit `rev` (the base's configuration file, say), or None."""
        return self._head_reader(rev)(path)

    def _head_reader(self, head: str):
        run = self._run

        @functools.lru_cache(maxsize=512)
        def read_head(path: str) -> str | None:
            if not isinstance(path, str) or not path or "\0" in path or "\n" in path:
                return None
            p = path.removeprefix("./")
            if p.startswith("/") or ".." in p.split("/") or not p:
                return None
            proc = run("cat-file", "blob", f"{head}:{p}", check=False)
            if proc.returncode != 0:
                return None  # missing at head, a directory, or a submodule
            data = proc.stdout
            if b"\0" in data[:8000]:
                return None
            return data.decode("utf-8", errors="replace")

        return read_head

    # ---------------------------------------------------------------------------------- workdir

    def _workdir(self, head: str, files: tuple[FileDiff, ...]) -> str | None:
        if self._commit("HEAD") != head:
            return None
        paths = sorted({p for f in files for p in (f.old_path, f.new_path) if p})
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            proc = self._run(
                "--literal-pathspecs",
                "status",
                "--porcelain",
                "-z",
                "--untracked-files=all",
                "--ignore-submodules=none",
                "--",
                *chunk,
                check=False,
            )
            if proc.returncode != 0 or proc.stdout.strip(b"\0"):
                return None
        return self._top
