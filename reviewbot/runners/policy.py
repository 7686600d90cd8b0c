"""What a sandboxed run may use (SandboxPolicy), what it gives back (SandboxResult), and the one
verb of whatever runs it (CodeRunner: the bubblewrap sandbox, or the explicitly unsafe local runner)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .process import GiB, MiB


@dataclass(frozen=True, slots=True)
class SandboxPolicy:
    """Limits for one sandboxed run. There is deliberately no way to allow the network.

    cpu_seconds: RLIMIT_CPU of each process (SIGXCPU, then SIGKILL a second later).
    memory_bytes: RLIMIT_AS (virtual memory) of each process, and the memory cgroup's limit over the
        whole sandbox (resident memory, tmpfs pages included) where a memory cgroup is writable.
    max_processes: tasks (processes and threads) the sandbox may hold at once.
    file_size_bytes: RLIMIT_FSIZE, the largest file it may write.
    wall_seconds: the whole run, after which everything in it is killed.
    scratch_bytes: size of each of the /tmp, /work and /dev/shm tmpfs.
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
    notes: tuple[str, ...] = ()  # a bound that could not be applied here (say, no memory cgroup)

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
