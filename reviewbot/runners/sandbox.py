"""Run model-written code in a bubblewrap sandbox: no network, no secrets, a read-only view, limits.

    sandbox = BubblewrapSandbox(SandboxPolicy(wall_seconds=30))
    result = sandbox.run(["python", "-m", "pytest", "-q", "test_gen.py"],
                         checkout=repo, files={"test_gen.py": text})

What the sandboxed program sees (see docs/sandbox.md):

- Namespaces: ``--unshare-all`` plus ``--unshare-user``: its own user, pid, ipc, uts, cgroup and
  network namespace (only a private loopback: neither the internet nor the host's 127.0.0.1).
  It runs as uid/gid 65534 with every capability dropped, ``no_new_privs`` set, nested user
  namespaces disabled, and dies with its parent. As root, bwrap itself starts as uid 65534 (by
  ``setpriv``), so the sandbox's uid is 65534 on the host too, wherever every bound path is open to
  other users; else it stays the host's 0 and the result says so in a note.
- /proc: its own, with every directory and writable file at its top (``sys``, ``sysrq-trigger``,
  ``fs``, ``irq``, ``pressure``, ...) bound read-only over it: no kernel knob is writable, root or not.
  bwrap reads its options from a descriptor and runs with a neutral environment, so neither pid 1's
  command line nor its environment names a host path.
- Files: read-only binds of /usr (and /bin, /lib, /lib64, /sbin: symlinks where the host has merged
  /usr), /etc/ld.so.cache and /etc/alternatives, the interpreter's prefix and its virtual environment
  (at their host paths), and the checkout at /checkout with its ``.git`` covered by an empty
  directory (a credential may sit in .git/config). /tmp, /work and /dev/shm are fresh size-capped tmpfs;
  ``files`` are bound read-only into /work, which is the working directory. /etc/hosts (the
  loopback names), nsswitch.conf, and a passwd/group naming only the sandbox's user are the
  sandbox's own, written for each run. Nothing else of the host: no $HOME, no host /etc/passwd or
  /etc/shadow, no /sys.
- Environment: only PATH, HOME=/tmp/home, LANG, LC_ALL, USER, LOGNAME, TMPDIR, PYTHONDONTWRITEBYTECODE=1 and
  PYTHONPATH=/checkout. No GITHUB_TOKEN, no model keys.
- Limits: RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE and RLIMIT_NOFILE through :func:`process.run`;
  processes through RLIMIT_NPROC set inside the sandbox (by ``prlimit``), and when we run as root,
  where the kernel does not apply RLIMIT_NPROC, through a pids cgroup; the wall clock by
  :func:`process.run`, which kills bwrap's process group, and bwrap's pid namespace takes every
  sandboxed process with it. Memory over the whole sandbox through a memory cgroup wherever one is
  writable (else the result carries a note: the limit is per process).
- System calls: a seccomp filter (runners/seccomp.py) denies ptrace, mounts and namespaces, keyrings,
  eBPF, io_uring and the like, and ``socket()`` of every family but AF_INET and AF_INET6: a unix
  socket in the checkout leads nowhere, nor does AF_VSOCK, AF_NETLINK or AF_PACKET.

There is no fallback: a sandbox that cannot start raises ToolError("sandbox unavailable: ...").
:class:`UnsafeLocalRunner` runs the same call without isolation, for configurations that opt out
explicitly; nothing uses it by default.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import ToolError
from . import process
from .bwrap import SANDBOX_UID, bwrap_args, env_args, etc_files, explain, python_layout, stage
from .cgroup import pids_cgroup_parent, sandbox_cgroups
from .policy import CodeRunner, SandboxPolicy, SandboxResult
from .process import Limits, ProcResult
from .seccomp import program as seccomp_program

__all__ = ["BubblewrapSandbox", "UnsafeLocalRunner", "probe"]

_PRLIMIT = "/usr/bin/prlimit"  # util-linux, present on Debian and Ubuntu; sets RLIMIT_NPROC inside
_SETPRIV = "/usr/bin/setpriv"  # util-linux too: as root, bwrap starts as uid 65534 on the host
_BWRAP_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/", "TMPDIR": "/tmp"}  # bwrap's own: /proc/1/environ
_CGROUP_SLACK = 2  # our own tasks in the pids cgroup: bwrap (sh execs it) and its init in the sandbox
_SETUP_ERRORS = ("bwrap: ", "reviewbot-sandbox: ")  # how set-up failures begin on stderr


class BubblewrapSandbox:
    """Runs commands under bwrap. No I/O until the first :meth:`run` or :meth:`probe`."""

    def __init__(self, policy: SandboxPolicy | None = None, *, bwrap: str = "bwrap") -> None:
        self.policy = policy or SandboxPolicy()
        self.bwrap = bwrap
        self._ready = False
        self._unprivileged = False  # as root: whether bwrap starts as SANDBOX_UID on the host (probe)
        self._root_note = ""  # as root: why it does not, for the result's notes

    def probe(self) -> str | None:
        """None when a sandbox starts here, else a one-line reason it cannot."""
        exe = process.which(self.bwrap)
        if exe is None:
            return f"{self.bwrap} is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
        if not os.access(_PRLIMIT, os.X_OK):
            return f"{_PRLIMIT} is missing (util-linux), needed to limit processes in the sandbox"
        if os.geteuid() == 0 and pids_cgroup_parent() is None:
            return (
                "running as root, where the kernel ignores RLIMIT_NPROC, and no writable pids cgroup "
                "was found; run reviewbot as an unprivileged user"
            )
        with tempfile.TemporaryDirectory(prefix="reviewbot-probe-") as empty:
            os.chmod(empty, 0o755)
            try:
                if os.geteuid() == 0:  # the sandbox's uid maps to the host's 0 unless bwrap starts as another
                    self._unprivileged, self._root_note = self._probe_unprivileged(Path(empty))
                res = self._start(["true"], checkout=Path(empty), files={}, python=None, timeout=15)
            except ToolError as exc:
                return str(exc)
        if res.returncode == 0 and not res.timed_out:
            return None
        return explain(res, exe)

    def _probe_unprivileged(self, empty: Path) -> tuple[bool, str]:
        if not os.access(_SETPRIV, os.X_OK):
            return False, f"the sandbox ran as the host's root user: {_SETPRIV} (util-linux) is missing"
        res = self._start(["true"], checkout=empty, files={}, python=None, timeout=15, unprivileged=True)
        if res.returncode == 0 and not res.timed_out:
            return True, ""
        why = res.stderr_line() or f"exit {res.returncode}"
        return (
            False,
            f"the sandbox ran as the host's root user: bwrap cannot start as uid {SANDBOX_UID} ({why})",
        )

    def run(
        self,
        argv: Sequence[str],
        *,
        checkout: Path,
        files: Mapping[str, str] = {},  # noqa: B006 - read only
        python: str | None = None,
    ) -> SandboxResult:
        """Run ``argv`` in /work inside the sandbox, with ``files`` (relative path -> text) there.

        ``python`` is the host interpreter to make available (default: the one running reviewbot);
        its bin directory comes first on PATH, so ``python -m pytest`` finds it and its packages.
        Raises ToolError("sandbox unavailable: ...") when the sandbox cannot start.
        """
        if not argv:
            raise ValueError("run() needs a command")
        if not self._ready:
            reason = self.probe()
            if reason is not None:
                raise ToolError(f"sandbox unavailable: {reason}")
            self._ready = True
        notes: list[str] = []
        res = self._start(
            argv, checkout=checkout, files=files, python=python, timeout=self.policy.wall_seconds, notes=notes
        )
        if res.returncode == 1 and res.stderr.startswith(_SETUP_ERRORS):  # failed before the program ran
            raise ToolError(f"sandbox unavailable: {res.stderr_line()}")
        return _result(res, tuple(notes))

    def _start(
        self,
        argv: Sequence[str],
        *,
        checkout: Path,
        files: Mapping[str, str],
        python: str | None,
        timeout: float,
        notes: list[str] | None = None,
        unprivileged: bool | None = None,
    ) -> ProcResult:
        exe = process.which(self.bwrap)
        if exe is None:
            raise ToolError(f"sandbox unavailable: {self.bwrap} is not installed")
        checkout = Path(checkout)
        if not checkout.is_dir():
            raise ToolError(f"sandbox: checkout {checkout} is not a directory")
        bin_dir, prefixes = python_layout(python or sys.executable)
        pol = self.policy
        limits = _limits(pol)
        notes = notes if notes is not None else []
        drop = self._unprivileged if unprivileged is None else unprivileged
        sources = [*prefixes, str(checkout.resolve())]
        if drop:
            closed = [p for p in sources if not _open_to_others(p)]  # bwrap walks each path as that uid
            if closed:
                drop = False
                notes.append(
                    f"the sandbox ran as the host's root user (every capability dropped, /proc read-only): "
                    f"{closed[0]} is not readable by other users, so it could not run as uid {SANDBOX_UID}"
                )
        elif unprivileged is None and self._root_note:
            notes.append(self._root_note)
        with tempfile.TemporaryDirectory(prefix="reviewbot-sandbox-") as staging:
            empty = os.path.join(staging, ".empty")
            os.mkdir(empty)
            binds = stage(files, Path(staging) / "files") + etc_files(Path(staging) / "etc")
            if drop:
                _open_up(staging)
            args = bwrap_args(pol, checkout.resolve(), prefixes, binds, empty_dir=empty)
            env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}
            inner = [_PRLIMIT, f"--nproc={pol.max_processes}", "--core=0", "--", *argv]
            with contextlib.ExitStack() as stack:
                filt = seccomp_program()
                fds: list[int] = []
                if filt is None:
                    notes.append("no seccomp filter: this machine's architecture is not supported")
                else:
                    fds.append(_data_fd(stack, staging, filt))
                    args += ["--seccomp", str(fds[-1])]
                # bwrap reads its options from a descriptor: its command line, which the sandbox sees
                # as /proc/1/cmdline, holds no host path (the command after "--" stays on it)
                fds.append(
                    _data_fd(stack, staging, b"".join(f"{a}\0".encode() for a in (*args, *env_args(env))))
                )
                cmd = [exe, "--args", str(fds[-1]), "--", *inner]
                if drop:
                    cmd = [
                        _SETPRIV,
                        f"--reuid={SANDBOX_UID}",
                        f"--regid={SANDBOX_UID}",
                        "--clear-groups",
                        "--",
                        *cmd,
                    ]
                joined = stack.enter_context(
                    sandbox_cgroups(pol.max_processes + _CGROUP_SLACK, pol.memory_bytes)
                )
                if not joined.memory:
                    notes.append(
                        "no writable memory cgroup: the memory limit applies to each process, not to "
                        "the whole sandbox"
                    )
                if joined.procs:  # join the cgroups before exec (and as root), so nothing escapes them
                    join = (
                        'for p in "$@"; do [ "$p" = -- ] && break; { echo $$ > "$p"; } 2>/dev/null '
                        '|| { echo "reviewbot-sandbox: cannot join $p" >&2; exit 1; }; done; '
                        'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
                    )
                    cmd = ["/bin/sh", "-c", join, "sh", *joined.procs, "--", *cmd]
                return process.run(
                    cmd, cwd=staging, timeout=timeout, limits=limits, pass_fds=fds, env=_BWRAP_ENV
                )


def _data_fd(stack: contextlib.ExitStack, staging: str, data: bytes) -> int:
    """An open file holding ``data``, read from its start by bwrap (``--seccomp``, ``--args``)."""
    fh = stack.enter_context(tempfile.TemporaryFile(dir=staging))
    fh.write(data)
    fh.flush()
    fh.seek(0)
    return fh.fileno()


def _open_to_others(path: str) -> bool:
    """Whether any user may enter every directory on the way to ``path`` and list ``path`` itself."""
    p = Path(path)
    try:
        return p.stat().st_mode & 0o005 == 0o005 and all(d.stat().st_mode & 0o001 for d in p.parents)
    except OSError:
        return False


def _open_up(staging: str) -> None:
    """Let the unprivileged bwrap reach what we staged (the files are the bot's, bound read-only)."""
    for root, _dirs, names in os.walk(staging):
        os.chmod(root, 0o755 if root != staging else 0o711)
        for name in names:
            os.chmod(os.path.join(root, name), 0o644)


def probe(runner: CodeRunner) -> str | None:
    """Why ``runner`` cannot start here, or None; a runner without a ``probe`` (no sandbox) always can."""
    check = getattr(runner, "probe", None)
    return check() if callable(check) else None


def _limits(pol: SandboxPolicy) -> Limits:
    return Limits(
        cpu_seconds=pol.cpu_seconds,
        address_space=pol.memory_bytes,
        file_size=pol.file_size_bytes,
        processes=pol.max_processes,
        open_files=1024,
    )


def _result(res: ProcResult, notes: tuple[str, ...] = ()) -> SandboxResult:
    return SandboxResult(
        returncode=res.returncode,
        stdout=res.stdout,
        stderr=res.stderr,
        timed_out=res.timed_out,
        killed_by_limit=_limit_hit(res),
        seconds=res.seconds,
        notes=notes,
    )


def _limit_hit(res: ProcResult) -> str | None:
    """Which limit ended the run, where that can be told from outside.

    bwrap reports a program killed by signal N as exit status 128+N. SIGXCPU means the CPU limit;
    a bare SIGKILL (137) is not attributed: it may be the CPU hard limit (a program that ignored
    SIGXCPU) or the kernel's OOM killer. A failed fork (the process limit) is an error the program
    sees and may handle, so it is not reported here either.
    """
    if res.timed_out:
        return "wall"
    if res.returncode in (128 + signal.SIGXCPU, -signal.SIGXCPU):
        return "cpu"
    if res.returncode in (128 + signal.SIGXFSZ, -signal.SIGXFSZ):
        return "file_size"
    last = res.stderr_line()
    if res.returncode != 0 and (last.startswith("MemoryError") or "std::bad_alloc" in last):
        return "memory"
    if res.returncode != 0 and "File too large" in last:  # Python ignores SIGXFSZ: EFBIG instead
        return "file_size"
    return None


# -- no sandbox ---------------------------------------------------------------------------------


class UnsafeLocalRunner:
    """Runs model-written code on this machine WITHOUT isolation: only rlimits and a clean env.

    For configurations that opt out of the sandbox explicitly (a throwaway VM, a developer laptop).
    The program can read any file this user can, and reach the network. Never a fallback.
    """

    def __init__(self, policy: SandboxPolicy | None = None) -> None:
        self.policy = policy or SandboxPolicy()

    def run(
        self,
        argv: Sequence[str],
        *,
        checkout: Path,
        files: Mapping[str, str] = {},  # noqa: B006 - read only
        python: str | None = None,
    ) -> SandboxResult:
        if not argv:
            raise ValueError("run() needs a command")
        pol = self.policy
        limits = _limits(pol)
        with tempfile.TemporaryDirectory(prefix="reviewbot-unsafe-") as work:
            stage(files, Path(work))
            path = os.pathsep.join(
                [os.path.dirname(python or sys.executable), os.environ.get("PATH", os.defpath)]
            )
            env = {"PATH": path, "PYTHONPATH": str(Path(checkout).resolve()), "PYTHONDONTWRITEBYTECODE": "1"}
            res = process.run(argv, cwd=work, timeout=pol.wall_seconds, env=env, limits=limits)
        return _result(res)
