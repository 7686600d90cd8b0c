"""bubblewrap's command line for the sandbox: namespaces, read-only binds, tmpfs, environment.

What the sandboxed program sees is described in runners/sandbox.py and docs/sandbox.md.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from ..errors import ToolError
from . import process
from .policy import SandboxPolicy
from .process import ProcResult

__all__ = [
    "bwrap_args",
    "env_args",
    "etc_files",
    "explain",
    "hide_git",
    "proc_covers",
    "python_layout",
    "stage",
]

SANDBOX_UID = 65534  # "nobody" inside the sandbox, and on the host where we drop to it (runners/sandbox.py)
CHECKOUT = "/checkout"
WORK = "/work"
HOME = "/tmp/home"
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC = ("/etc/ld.so.cache", "/etc/alternatives")  # what the dynamic linker and /usr/bin links need
_APPARMOR_SYSCTL = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
# What a test suite expects of a machine without the network: the loopback names resolve from a
# file (no DNS is reachable), and the sandbox's own user has a name and a home.
ETC_FILES = {
    "hosts": (
        "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n"
        "::1\tlocalhost ip6-localhost ip6-loopback localhost6 localhost6.localdomain6\n"
    ),
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    "host.conf": "multi on\n",
    "passwd": f"nobody:x:{SANDBOX_UID}:{SANDBOX_UID}:nobody:{HOME}:/bin/sh\n",
    "group": f"nogroup:x:{SANDBOX_UID}:\n",
}


def bwrap_args(
    pol: SandboxPolicy,
    checkout: Path,
    prefixes: Sequence[str],
    binds: Sequence[tuple[str, str]],
    *,
    empty_dir: str,
) -> list[str]:
    args = [
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup; net gets only its own loopback
        "--unshare-user",  # --unshare-all only *tries*; we insist
        "--disable-userns",  # no nested user namespaces inside
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into our terminal
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in _ETC:
        args += ["--ro-bind-try", f, f]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(pol.scratch_bytes),
        "--tmpfs",
        "/dev/shm",  # else shm is bounded by RAM only
        "--size",
        str(pol.scratch_bytes),
        "--tmpfs",
        "/tmp",
        "--dir",
        HOME,
        "--size",
        str(pol.scratch_bytes),
        "--tmpfs",
        WORK,
    ]
    for name in proc_covers():  # the kernel's knobs: read-only over the fresh /proc, whoever the host uid is
        args += ["--ro-bind-try", f"/proc/{name}", f"/proc/{name}"]
    for p in prefixes:
        args += ["--ro-bind", p, p]
    args += ["--ro-bind", str(checkout), CHECKOUT]
    args += hide_git(checkout, empty_dir)
    for src, dest in binds:
        args += ["--ro-bind", src, dest]
    args += ["--chdir", WORK]
    return args


@functools.cache
def proc_covers() -> tuple[str, ...]:
    """The entries of /proc to bind read-only over the sandbox's fresh /proc: every directory and
    every writable file at its top that is not a process's own (``/proc/<pid>``, ``self``).

    bwrap covers ``sys``, ``sysrq-trigger``, ``irq`` and ``bus`` only where it can write the entry
    itself, and /proc/sys is a directory of mode 0555 whose files are writable: as the host's root
    ``kernel/core_pattern`` stayed writable, which runs a program of our choosing on the host.
    What is listed here is the host's /proc as bwrap finds it (the same kernel objects, read-only);
    knobs under a covered directory stay readable.
    """
    names = []
    try:
        entries = sorted(os.listdir("/proc"))
    except OSError:
        entries = []
    for name in entries:
        if name.isdigit() or name in ("self", "thread-self"):
            continue
        path = f"/proc/{name}"
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_mode & 0o222):
            names.append(name)
    for name in ("sys", "sysrq-trigger"):  # always, even where this host's /proc hides them from us
        if name not in names:
            names.append(name)
    return tuple(names)


def hide_git(checkout: Path, empty_dir: str) -> list[str]:
    """Cover the checkout's ``.git`` (its config may hold a credential: actions/checkout leaves an
    ``http.extraheader`` there) with an empty directory, or /dev/null where it is a file."""
    git = checkout / ".git"
    if git.is_symlink():  # its target is not in the sandbox (nothing of the host is, beyond the binds)
        return []
    if git.is_file():  # a worktree's or submodule's "gitdir:" pointer
        return ["--ro-bind", "/dev/null", f"{CHECKOUT}/.git"]
    if git.is_dir():
        return ["--ro-bind", empty_dir, f"{CHECKOUT}/.git"]
    return []


def env_args(extra: Mapping[str, str]) -> list[str]:
    env = {
        "HOME": HOME,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "USER": "nobody",
        "LOGNAME": "nobody",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": CHECKOUT,
        **extra,
    }
    out: list[str] = []
    for k, v in env.items():
        out += ["--setenv", k, v]
    return out


def etc_files(staging: Path) -> list[tuple[str, str]]:
    """``ETC_FILES`` written under ``staging``: (host path, /etc path) pairs to bind read-only."""
    staging.mkdir(parents=True, exist_ok=True)
    binds = []
    for name, text in ETC_FILES.items():
        host = staging / name
        host.write_text(text, encoding="utf-8")
        binds.append((str(host), f"/etc/{name}"))
    return binds


def stage(files: Mapping[str, str], staging: Path) -> list[tuple[str, str]]:
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
def python_layout(python: str) -> tuple[str, tuple[str, ...]]:
    """(bin dir to put first on PATH, prefixes to bind) of a host interpreter; /usr is bound anyway."""
    if python == sys.executable:
        raw = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
        exe = sys.executable
    else:  # a trusted interpreter named by configuration: ask it where it lives
        code = (
            "import json,sys;print(json.dumps("
            "[sys.executable,sys.prefix,sys.exec_prefix,sys.base_prefix,sys.base_exec_prefix]))"
        )
        res = process.run([python, "-I", "-c", code], cwd="/", timeout=30)  # site on: a venv names itself
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


def explain(res: ProcResult, exe: str) -> str:
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
