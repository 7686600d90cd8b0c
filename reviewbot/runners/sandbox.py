"""Run model-written code in a bubblewrap sandbox: no network, no secrets, a read-only view, limits.

    sandbox = BubblewrapSandbox(SandboxPolicy(wall_seconds=30))
    result = sandbox.run(["python", "-m", "pytest", "-q", "test_gen.py"],
                         checkout=repo, files={"test_gen.py": text})

What the sandboxed program sees (see docs/sandbox.md):

- Namespaces: ``--unshare-all`` plus ``--unshare-user``: its own user, pid, ipc, uts, cgroup and
  network namespace (only a private loopback: neither the internet nor the host's 127.0.0.1).
  It runs as uid/gid 65534 with every capability dropped, ``no_new_privs`` set, nested user
  namespaces disabled, and dies with its parent.
- Files: read-only binds of /usr (and /bin, /lib, /lib64, /sbin: symlinks where the host has merged
  /usr), /etc/ld.so.cache and /etc/alternatives, the interpreter's prefix and its virtual environment
  (at their host paths), and the checkout at /checkout. /tmp and /work are fresh size-capped tmpfs;
  ``files`` are bound read-only into /work, which is the working directory. Nothing else of the
  host: no $HOME, no /etc/passwd or /etc/shadow, no /sys.
- Environment: only PATH, HOME=/tmp/home, LANG, TMPDIR, PYTHONDONTWRITEBYTECODE=1 and
  PYTHONPATH=/checkout. No GITHUB_TOKEN, no model keys.
- Limits: RLIMIT_AS, RLIMIT_CPU, RLIMIT_FSIZE and RLIMIT_NOFILE through :func:`process.run`;
  processes through RLIMIT_NPROC set inside the sandbox (by ``prlimit``), and when we run as root,
  where the kernel does not apply RLIMIT_NPROC, through a pids cgroup; the wall clock by
  :func:`process.run`, which kills bwrap's process group, and bwrap's pid namespace takes every
  sandboxed process with it.

There is no fallback: a sandbox that cannot start raises ToolError("sandbox unavailable: ...").
:class:`UnsafeLocalRunner` runs the same call without isolation, for configurations that opt out
explicitly; nothing uses it by default.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from ..errors import ToolError
from . import process
from .process import GiB, Limits, MiB, ProcResult

__all__ = [
    "BubblewrapSandbox",
    "CodeRunner",
    "SandboxPolicy",
    "SandboxResult",
    "UnsafeLocalRunner",
]

SANDBOX_UID = 65534  # "nobody" inside the sandbox
CHECKOUT = "/checkout"
WORK = "/work"
HOME = "/tmp/home"
_PRLIMIT = "/usr/bin/prlimit"  # util-linux, present on Debian and Ubuntu; sets RLIMIT_NPROC inside
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC = ("/etc/ld.so.cache", "/etc/alternatives")  # what the dynamic linker and /usr/bin links need
_CGROUP_SLACK = 2  # our own tasks in the pids cgroup: bwrap (sh execs it) and its init in the sandbox
_SETUP_ERRORS = ("bwrap: ", "reviewbot-sandbox: ")  # how set-up failures begin on stderr
_APPARMOR_SYSCTL = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"


@dataclass(frozen=True, slots=True)
class SandboxPolicy:
    """Limits for one sandboxed run. There is deliberately no way to allow the network.

    cpu_seconds: RLIMIT_CPU of each process (SIGXCPU, then SIGKILL a second later).
    memory_bytes: RLIMIT_AS (virtual memory) of each process.
    max_processes: tasks (processes and threads) the sandbox may hold at once.
    file_size_bytes: RLIMIT_FSIZE, the largest file it may write.
    wall_seconds: the whole run, after which everything in it is killed.
    scratch_bytes: size of each of the /tmp and /work tmpfs.
    """

    cpu_seconds: int = 30
    memory_bytes: int = 1 * GiB
    max_processes: int = 64
    file_size_bytes: int = 16 * MiB
    wall_seconds: float = 30.0
    scratch_bytes: int = 64 * MiB
    allow_network: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "memory_bytes", "max_processes", "file_size_bytes", "scratch_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SandboxPolicy.{name} must be positive")
        if self.wall_seconds <= 0:
            raise ValueError("SandboxPolicy.wall_seconds must be positive")


@dataclass(frozen=True, slots=True)
class SandboxResult:
    returncode: int  # the program's exit status; 128+N when a signal N ended it
    stdout: str
    stderr: str
    timed_out: bool
    killed_by_limit: str | None  # "wall", "cpu", "memory", "file_size", or None (see _limit_hit)
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class CodeRunner(Protocol):
    def run(
        self,
        argv: Sequence[str],
        *,
        checkout: Path,
        files: Mapping[str, str] = {},  # noqa: B006 - read only
        python: str | None = None,
    ) -> SandboxResult: ...


class BubblewrapSandbox:
    """Runs commands under bwrap. No I/O until the first :meth:`run` or :meth:`probe`."""

    def __init__(self, policy: SandboxPolicy | None = None, *, bwrap: str = "bwrap") -> None:
        self.policy = policy or SandboxPolicy()
        self.bwrap = bwrap
        self._ready = False

    def probe(self) -> str | None:
        """None when a sandbox starts here, else a one-line reason it cannot."""
        exe = process.which(self.bwrap)
        if exe is None:
            return f"{self.bwrap} is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
        if not os.access(_PRLIMIT, os.X_OK):
            return f"{_PRLIMIT} is missing (util-linux), needed to limit processes in the sandbox"
        if os.geteuid() == 0 and _pids_cgroup_parent() is None:
            return (
                "running as root, where the kernel ignores RLIMIT_NPROC, and no writable pids cgroup "
                "was found; run reviewbot as an unprivileged user"
            )
        with tempfile.TemporaryDirectory(prefix="reviewbot-probe-") as empty:
            try:
                res = self._start(["true"], checkout=Path(empty), files={}, python=None, timeout=15)
            except ToolError as exc:
                return str(exc)
        if res.returncode == 0 and not res.timed_out:
            return None
        return _explain(res, exe)

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
        res = self._start(
            argv, checkout=checkout, files=files, python=python, timeout=self.policy.wall_seconds
        )
        if res.returncode == 1 and res.stderr.startswith(_SETUP_ERRORS):  # failed before the program ran
            raise ToolError(f"sandbox unavailable: {res.stderr_line()}")
        return SandboxResult(
            returncode=res.returncode,
            stdout=res.stdout,
            stderr=res.stderr,
            timed_out=res.timed_out,
            killed_by_limit=_limit_hit(res),
            seconds=res.seconds,
        )

    def _start(
        self,
        argv: Sequence[str],
        *,
        checkout: Path,
        files: Mapping[str, str],
        python: str | None,
        timeout: float,
    ) -> ProcResult:
        exe = process.which(self.bwrap)
        if exe is None:
            raise ToolError(f"sandbox unavailable: {self.bwrap} is not installed")
        checkout = Path(checkout)
        if not checkout.is_dir():
            raise ToolError(f"sandbox: checkout {checkout} is not a directory")
        bin_dir, prefixes = _python_layout(python or sys.executable)
        pol = self.policy
        limits = Limits(
            cpu_seconds=pol.cpu_seconds,
            address_space=pol.memory_bytes,
            file_size=pol.file_size_bytes,
            processes=pol.max_processes,
            open_files=1024,
        )
        with tempfile.TemporaryDirectory(prefix="reviewbot-sandbox-") as staging:
            binds = _stage(files, Path(staging))
            args = _bwrap_args(pol, checkout.resolve(), prefixes, binds)
            env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}
            inner = [_PRLIMIT, f"--nproc={pol.max_processes}", "--core=0", "--", *argv]
            cmd = [exe, *args, *_env_args(env), "--", *inner]
            with _pids_cgroup(pol.max_processes + _CGROUP_SLACK) as procs:
                if procs is not None:  # join the cgroup before exec, so nothing escapes it
                    join = '{ echo $$ > "$0"; } 2>/dev/null || { echo "reviewbot-sandbox: cannot join $0" >&2; exit 1; }'
                    cmd = ["/bin/sh", "-c", join + '; exec "$@"', procs, *cmd]
                return process.run(cmd, cwd=staging, timeout=timeout, limits=limits)


def _bwrap_args(
    pol: SandboxPolicy, checkout: Path, prefixes: Sequence[str], binds: Sequence[tuple[str, str]]
) -> list[str]:
    args = [
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup; net gets only its own loopback
        "--unshare-user",  # --unshare-all only *tries*; we insist
        "--disable-userns",  # no nested user namespaces inside
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--cap-drop", "ALL",
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into our terminal
        "--clearenv",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in _ETC:
        args += ["--ro-bind-try", f, f]
    args += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(pol.scratch_bytes), "--tmpfs", "/tmp",
        "--dir", HOME,
        "--size", str(pol.scratch_bytes), "--tmpfs", WORK,
    ]  # fmt: skip
    for p in prefixes:
        args += ["--ro-bind", p, p]
    args += ["--ro-bind", str(checkout), CHECKOUT]
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    args += ["--chdir", WORK]
    return args


def _env_args(extra: Mapping[str, str]) -> list[str]:
    env = {
        "HOME": HOME,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": CHECKOUT,
        **extra,
    }
    out: list[str] = []
    for k, v in env.items():
        out += ["--setenv", k, v]
    return out


def _stage(files: Mapping[str, str], staging: Path) -> list[tuple[str, str]]:
    """Write ``files`` under ``staging``; return (host path, sandbox path) pairs to bind read-only."""
    binds = []
    for name, text in files.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or not rel.parts or ".." in rel.parts:
            raise ValueError(f"sandbox file name must be relative, without '..': {name!r}")
        host = staging.joinpath(*rel.parts)
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_text(text, encoding="utf-8")
        binds.append((str(host), f"{WORK}/{rel}"))
    return binds


@functools.lru_cache(maxsize=8)
def _python_layout(python: str) -> tuple[str, tuple[str, ...]]:
    """(bin dir to put first on PATH, prefixes to bind) of a host interpreter; /usr is bound anyway."""
    if python == sys.executable:
        raw = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
        exe = sys.executable
    else:  # a trusted interpreter named by configuration: ask it where it lives
        code = "import json,sys;print(json.dumps([sys.executable,sys.prefix,sys.exec_prefix,sys.base_prefix,sys.base_exec_prefix]))"
        res = process.run([python, "-I", "-S", "-c", code], cwd="/", timeout=30)
        if not res.ok:
            raise ToolError(f"sandbox: cannot query interpreter {python}: {res.stderr_line()}")
        exe, *raw = json.loads(res.stdout)
    prefixes: list[str] = []
    for p in raw:
        for q in (os.path.abspath(p), os.path.realpath(p)):
            covered = any(q == d or q.startswith(d + "/") for d in ("/usr", *prefixes))
            if not covered:
                prefixes = [d for d in prefixes if not d.startswith(q + "/")] + [q]
    return os.path.dirname(os.path.abspath(exe)), tuple(prefixes)


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


def _explain(res: ProcResult, exe: str) -> str:
    line = res.stderr_line() or f"{exe} exited {res.returncode}"
    if res.timed_out:
        return f"{exe} did not start a sandbox within 15 s"
    hint = ""
    try:
        with open(_APPARMOR_SYSCTL) as fh:
            restricted = fh.read().strip() == "1"
    except OSError:
        restricted = False
    if restricted or any(w in line for w in ("Permission denied", "Operation not permitted", "namespace")):
        hint = (
            "; user namespaces may be restricted (Ubuntu 24.04: "
            "sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for bwrap)"
        )
    return f"{line}{hint}"


# -- pids cgroup, for root ----------------------------------------------------------------------


def _own_cgroup(controller: str) -> str | None:
    """Our cgroup path in the hierarchy of ``controller`` ("" for cgroup v2), from /proc/self/cgroup."""
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _, names, path = line.rstrip("\n").split(":", 2)
                if names.split(",") == [controller] or (controller == "" and names == ""):
                    return path
    except (OSError, ValueError):
        pass
    return None


def _pids_cgroup_parent() -> str | None:
    """A directory where we may create a child cgroup with a pids.max, or None."""
    candidates = []
    v1 = _own_cgroup("pids")
    if v1 is not None:
        candidates.append(os.path.join("/sys/fs/cgroup/pids", v1.lstrip("/")))
    v2 = _own_cgroup("")
    if v2 is not None:
        candidates.append(os.path.join("/sys/fs/cgroup", v2.lstrip("/")))
    for parent in candidates:
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            continue
        probe = os.path.join(parent, f"reviewbot-probe-{uuid.uuid4().hex[:8]}")
        try:
            os.mkdir(probe)
        except OSError:
            continue
        try:
            if os.path.exists(os.path.join(probe, "pids.max")):
                return parent
        finally:
            with contextlib.suppress(OSError):
                os.rmdir(probe)
    return None


@contextlib.contextmanager
def _pids_cgroup(max_tasks: int) -> Iterator[str | None]:
    """As root: a fresh pids cgroup capped at ``max_tasks``; yields its cgroup.procs path.

    Not root: yields None (RLIMIT_NPROC does the job, see the module docstring).
    """
    if os.geteuid() != 0:
        yield None
        return
    parent = _pids_cgroup_parent()
    if parent is None:
        raise ToolError("sandbox unavailable: running as root and no writable pids cgroup")
    path = os.path.join(parent, f"reviewbot-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.mkdir(path)
        with open(os.path.join(path, "pids.max"), "w") as fh:
            fh.write(str(max_tasks))
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.rmdir(path)
        raise ToolError(f"sandbox unavailable: cannot set up pids cgroup {path}: {exc}") from exc
    try:
        yield os.path.join(path, "cgroup.procs")
    finally:
        _remove_cgroup(path)


def _remove_cgroup(path: str) -> None:
    deadline = time.monotonic() + 2.0
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                return  # an empty cgroup left behind is harmless; it is named after us
        try:
            with open(os.path.join(path, "cgroup.procs")) as fh:
                for pid in fh.read().split():
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
        time.sleep(0.02)


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
        limits = Limits(
            cpu_seconds=pol.cpu_seconds,
            address_space=pol.memory_bytes,
            file_size=pol.file_size_bytes,
            processes=pol.max_processes,
        )
        with tempfile.TemporaryDirectory(prefix="reviewbot-unsafe-") as work:
            _stage(files, Path(work))
            path = os.pathsep.join(
                [os.path.dirname(python or sys.executable), os.environ.get("PATH", os.defpath)]
            )
            env = {"PATH": path, "PYTHONPATH": str(Path(checkout).resolve()), "PYTHONDONTWRITEBYTECODE": "1"}
            res = process.run(argv, cwd=work, timeout=pol.wall_seconds, env=env, limits=limits)
        return SandboxResult(
            returncode=res.returncode,
            stdout=res.stdout,
            stderr=res.stderr,
            timed_out=res.timed_out,
            killed_by_limit=_limit_hit(res),
            seconds=res.seconds,
        )
