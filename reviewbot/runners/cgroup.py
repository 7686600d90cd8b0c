"""Cgroups for one sandboxed run: a pids cap where we run as root (the kernel ignores RLIMIT_NPROC
there) and a memory cap over the whole sandbox wherever a memory cgroup is writable.

cgroup v1 has one hierarchy per controller (two directories, two ``cgroup.procs`` to join); v2 has
one directory with both ``pids.max`` and ``memory.max``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import ToolError

__all__ = ["Joined", "pids_cgroup_parent", "sandbox_cgroups"]

# controller -> (v1 mount, the file a v1 child has, the file a v2 child has when the controller is on)
_CONTROLLERS = {
    "pids": ("/sys/fs/cgroup/pids", "pids.max", "pids.max"),
    "memory": ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.max"),
}


@dataclass(frozen=True, slots=True)
class Joined:
    """The ``cgroup.procs`` files the sandbox joins before exec, and which caps they carry."""

    procs: tuple[str, ...]
    pids: bool
    memory: bool


def _own_cgroup(controller: str) -> str | None:
    """Our cgroup path in the hierarchy of ``controller`` ("" for cgroup v2), from /proc/self/cgroup."""
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _, names, path = line.rstrip("\n").split(":", 2)
                if controller in names.split(",") or (controller == "" and names == ""):
                    return path
    except (OSError, ValueError):
        pass
    return None


def _parent(controller: str) -> str | None:
    """A directory where we may create a child cgroup that has ``controller``'s limit, or None."""
    mount, v1_file, v2_file = _CONTROLLERS[controller]
    candidates = []
    v1 = _own_cgroup(controller)
    if v1 is not None:
        candidates.append((os.path.join(mount, v1.lstrip("/")), v1_file))
    v2 = _own_cgroup("")
    if v2 is not None:
        candidates.append((os.path.join("/sys/fs/cgroup", v2.lstrip("/")), v2_file))
    for parent, marker in candidates:
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            continue
        probe = os.path.join(parent, f"reviewbot-probe-{uuid.uuid4().hex[:8]}")
        try:
            os.mkdir(probe)
        except OSError:
            continue
        try:
            if os.path.exists(os.path.join(probe, marker)):
                return parent
        finally:
            with contextlib.suppress(OSError):
                os.rmdir(probe)
    return None


def pids_cgroup_parent() -> str | None:
    """A directory where we may create a child cgroup with a pids.max, or None."""
    return _parent("pids")


def _make(parent: str, limits: dict[str, int]) -> str:
    path = os.path.join(parent, f"reviewbot-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.mkdir(path)
        for name, value in limits.items():
            full = os.path.join(path, name)
            if os.path.exists(full):
                with open(full, "w") as fh:
                    fh.write(str(value))
    except OSError as exc:
        _remove_cgroup(path)
        raise ToolError(f"sandbox unavailable: cannot set up cgroup {path}: {exc}") from exc
    return path


@contextlib.contextmanager
def sandbox_cgroups(max_tasks: int, memory_bytes: int) -> Iterator[Joined]:
    """Fresh cgroups for one run: pids (as root; required there) and memory (wherever writable).

    Not root and no writable memory cgroup: yields Joined((), False, False) (RLIMIT_NPROC and the
    per-process RLIMIT_AS do the job, see runners/sandbox.py).
    """
    root = os.geteuid() == 0
    pids_parent = _parent("pids") if root else None
    if root and pids_parent is None:
        raise ToolError("sandbox unavailable: running as root and no writable pids cgroup")
    mem_parent = _parent("memory")
    made: list[str] = []
    try:
        limits = {"pids.max": max_tasks}
        # v1 names, then v2 names; a file the cgroup lacks is skipped (memsw needs swap accounting)
        mem = {
            "memory.limit_in_bytes": memory_bytes,
            "memory.memsw.limit_in_bytes": memory_bytes,
            "memory.max": memory_bytes,
            "memory.swap.max": 0,
        }
        if pids_parent is not None and pids_parent == mem_parent:  # v2: one cgroup for both
            made.append(_make(pids_parent, {**limits, **mem}))
        else:
            if pids_parent is not None:
                made.append(_make(pids_parent, limits))
            if mem_parent is not None:
                made.append(_make(mem_parent, mem))
        yield Joined(
            tuple(os.path.join(p, "cgroup.procs") for p in made),
            pids=pids_parent is not None,
            memory=mem_parent is not None,
        )
    finally:
        for path in made:
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
