"""A pids cgroup for one sandboxed run, where we run as root (the kernel ignores RLIMIT_NPROC there)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator

from ..errors import ToolError

__all__ = ["pids_cgroup", "pids_cgroup_parent"]


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


def pids_cgroup_parent() -> str | None:
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
def pids_cgroup(max_tasks: int) -> Iterator[str | None]:
    """As root: a fresh pids cgroup capped at ``max_tasks``; yields its cgroup.procs path.

    Not root: yields None (RLIMIT_NPROC does the job, see runners/sandbox.py).
    """
    if os.geteuid() != 0:
        yield None
        return
    parent = pids_cgroup_parent()
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
