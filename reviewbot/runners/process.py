"""Run a trusted tool on untrusted files: no shell, no inherited environment, rlimits, a hard timeout.

    run(["ruff", "check", "x.py"], cwd=repo, timeout=60) -> ProcResult

- The child gets only PATH, HOME and TMPDIR (a fresh temporary directory, removed afterwards) and
  LANG/LC_ALL=C.UTF-8, plus what the caller passes in ``env`` less any variable named like a
  credential (``redact.clean_environ``). Nothing else of ours leaks in: no GITHUB_TOKEN, no
  CI_JOB_TOKEN, no model keys.
- It runs in its own session (process group). On timeout the whole group is killed with SIGKILL,
  grandchildren included; after a normal exit any leftover group members are killed too.
- rlimits are set in the child before exec (see :class:`Limits`).
- Each of stdout and stderr keeps at most ``max_output`` bytes; the rest is read and thrown away
  (so the child never blocks on a full pipe) and ``truncated`` is set.

This is a guard for trusted tools (ruff, bandit). Model-written code needs the bubblewrap sandbox.
"""

from __future__ import annotations

import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ToolError
from ..redact import clean_environ

__all__ = ["Limits", "ProcResult", "crash_reason", "relative", "run", "run_tool", "which"]

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied in the child. ``None`` leaves a limit as inherited.

    cpu_seconds: RLIMIT_CPU; None means derived from the timeout (ceil(timeout) + 1 s). It counts the
        CPU time of all threads, so a multi-threaded tool can hit it before the wall clock.
    address_space: RLIMIT_AS in bytes (virtual memory, not resident).
    file_size: RLIMIT_FSIZE in bytes: the largest file the child may write.
    processes: headroom of tasks (processes and threads) the child may add. RLIMIT_NPROC counts all
        tasks of the *user*, not of the child, so it is set to (tasks this user has now) + headroom.
        It is not applied as root: root ignores it on the host, and in a rootless container uid 0
        maps to a host user whose other tasks we cannot count.
    open_files: RLIMIT_NOFILE.
    """

    cpu_seconds: int | None = None
    address_space: int | None = 2 * GiB
    file_size: int | None = 64 * MiB
    processes: int | None = 512
    open_files: int | None = 1024


@dataclass(frozen=True, slots=True)
class ProcResult:
    argv: tuple[str, ...]
    returncode: int  # negative: killed by that signal (as subprocess reports it)
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    truncated: bool  # stdout or stderr went over max_output and was cut

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def stderr_line(self) -> str:
        """The last non-empty stderr line (usually the error), for one-line messages."""
        for line in reversed(self.stderr.strip().splitlines()):
            if line.strip():
                return line.strip()[:300]
        return ""


def which(tool: str) -> str | None:
    """Find ``tool``: first next to sys.executable (the venv's bin, even when not activated), then PATH."""
    if os.sep in tool:
        return tool if os.path.isfile(tool) and os.access(tool, os.X_OK) else None
    beside = os.path.join(os.path.dirname(sys.executable), tool)
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which(tool)


def _search_path() -> str:
    dirs = [os.path.dirname(sys.executable)]
    dirs += [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if d]
    seen: list[str] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return os.pathsep.join(seen)


def _user_tasks(uid: int) -> int | None:
    """Tasks (threads) this uid owns, as far as /proc shows them; None when /proc is not readable."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for name in entries:
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            total += len(os.listdir(f"/proc/{name}/task"))
        except OSError:
            continue  # exited meanwhile
    return total


def _rlimit_plan(limits: Limits, timeout: float) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) triples, computed in the parent so the child only calls setrlimit."""
    plan: list[tuple[int, int, int]] = []

    def add(res: int, value: int, hard_extra: int = 0) -> None:
        _, cur_hard = resource.getrlimit(res)
        hard = value + hard_extra
        if cur_hard != resource.RLIM_INFINITY:
            hard = min(hard, cur_hard)
            value = min(value, hard)
        plan.append((res, value, hard))

    cpu = limits.cpu_seconds if limits.cpu_seconds is not None else math.ceil(timeout) + 1
    add(resource.RLIMIT_CPU, max(1, cpu), hard_extra=1)  # SIGXCPU at soft, SIGKILL at hard
    if limits.address_space is not None and sys.platform != "darwin":  # macOS refuses RLIMIT_AS
        add(resource.RLIMIT_AS, limits.address_space)
    if limits.file_size is not None:
        add(resource.RLIMIT_FSIZE, limits.file_size)
    if limits.open_files is not None:
        add(resource.RLIMIT_NOFILE, limits.open_files)
    if limits.processes is not None and hasattr(resource, "RLIMIT_NPROC"):
        uid = os.getuid()
        if uid != 0:
            now = _user_tasks(uid)
            if now is not None:
                add(resource.RLIMIT_NPROC, now + limits.processes)
    return plan


def _preexec(plan: list[tuple[int, int, int]]):
    def apply() -> None:  # runs in the child between fork and exec: keep it to system calls
        for res, soft, hard in plan:
            resource.setrlimit(res, (soft, hard))

    return apply


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(proc: subprocess.Popen) -> bool:
    """True once the child has exited, without reaping it where the OS allows (so its pid still names
    the group when we kill leftovers); elsewhere (macOS has no waitid) it is reaped by poll()."""
    if hasattr(os, "waitid"):
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return info is not None and info.si_pid == proc.pid
    return proc.poll() is not None


def run(
    argv: Sequence[str],
    *,
    cwd: str,
    timeout: float,
    max_output: int = 2_000_000,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    limits: Limits | None = None,
    pass_fds: Sequence[int] = (),
) -> ProcResult:
    """Run ``argv`` (no shell) in ``cwd`` under the limits; wait at most ``timeout`` seconds.

    Raises ToolError when the program is not installed or cannot start (missing cwd, a limit the
    system refuses). A non-zero exit, a timeout or a truncated output is reported in the result.
    """
    argv = tuple(argv)
    if not argv:
        raise ValueError("run() needs a command")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    exe = which(argv[0])
    if exe is None:
        where = f"{argv[0]} on PATH and in {os.path.dirname(sys.executable)}"
        raise ToolError(f"{os.path.basename(argv[0])} is not installed (looked for {where})")

    plan = _rlimit_plan(limits or Limits(), timeout)
    home = tempfile.mkdtemp(prefix="reviewbot-run-")
    tmp = os.path.join(home, "tmp")
    os.mkdir(tmp)
    child_env = {
        "PATH": _search_path(),
        "HOME": home,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    if env:
        child_env.update(clean_environ(env))  # a credential never, even when a caller passes one

    started = time.monotonic()
    try:
        try:
            proc = subprocess.Popen(
                (exe, *argv[1:]),
                cwd=cwd,
                env=child_env,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_preexec(plan),  # noqa: PLW1509 - only setrlimit calls, see _preexec
                close_fds=True,
                pass_fds=tuple(pass_fds),  # only what the caller names (the sandbox's seccomp program)
            )
        except FileNotFoundError as exc:  # cwd missing, or a race with which()
            raise ToolError(
                f"{os.path.basename(argv[0])}: cannot start ({exc.strerror}: {exc.filename})"
            ) from exc
        except (OSError, subprocess.SubprocessError) as exc:  # SubprocessError: a limit could not be set
            raise ToolError(f"{os.path.basename(argv[0])}: cannot start ({exc})") from exc
        try:
            out, err, timed_out, truncated = _communicate(proc, stdin, started + timeout, max_output)
        finally:
            returncode = proc.wait()  # the group was killed if anything went wrong, so this returns
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return ProcResult(
        argv=argv,
        returncode=returncode,
        stdout=out.decode("utf-8", errors="replace"),
        stderr=err.decode("utf-8", errors="replace"),
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        truncated=truncated,
    )


_GRACE = 2.0  # seconds to drain pipes after the child exited (an escaped grandchild may hold them)


def _communicate(
    proc: subprocess.Popen, stdin: bytes | None, deadline: float, cap: int
) -> tuple[bytes, bytes, bool, bool]:
    """Feed stdin, read both pipes up to ``cap`` bytes each, enforce the deadline; the child is left
    unreaped."""
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    bufs = {out_fd: bytearray(), err_fd: bytearray()}
    in_fd = proc.stdin.fileno() if proc.stdin is not None else -1
    pending = memoryview(stdin or b"")
    truncated = timed_out = finished = False  # finished: the child exited or was killed
    drain_until = deadline
    sel = selectors.DefaultSelector()
    try:
        for fd in bufs:
            sel.register(fd, selectors.EVENT_READ)
        if proc.stdin is not None:
            if pending:
                os.set_blocking(in_fd, False)
                sel.register(in_fd, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()
        while sel.get_map():
            now = time.monotonic()
            if not finished and _exited(proc):
                finished = True
                _kill_group(proc.pid)  # leftover grandchildren; the pid is not reaped yet, so no reuse
                drain_until = min(deadline, now + _GRACE)
            if now >= drain_until:
                if finished:
                    break  # something outside the group still holds the pipes: stop reading
                timed_out = finished = True
                _kill_group(proc.pid)
                drain_until = now + _GRACE  # collect what the killed group left in the pipes
                continue
            for key, _ in sel.select(timeout=min(0.05, drain_until - now)):
                if key.fd == in_fd:
                    try:
                        pending = pending[os.write(in_fd, pending[:65536]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(in_fd)
                        proc.stdin.close()  # type: ignore[union-attr]
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                buf = bufs[key.fd]
                room = cap - len(buf)
                if room < len(chunk):
                    truncated = True
                if room > 0:
                    buf += chunk[:room]
        # the pipes are closed; the child may still run
        while not finished:
            if _exited(proc):
                finished = True
                _kill_group(proc.pid)
            elif time.monotonic() >= deadline:
                timed_out = finished = True
                _kill_group(proc.pid)
            else:
                time.sleep(0.02)
    finally:
        sel.close()
        if not finished:  # an exception on the way: leave nothing running
            _kill_group(proc.pid)
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None and not f.closed:
                f.close()
    return bytes(bufs[out_fd]), bytes(bufs[err_fd]), timed_out, truncated


def run_tool(
    name: str, argv: Sequence[str], root: str, timeout: float, limits: Limits | None
) -> ProcResult | str:
    """:func:`run` for a linter on ``root``: its result, or why there is none as one line."""
    try:
        res = run(argv, cwd=root, timeout=timeout, limits=limits)
    except ToolError as exc:
        msg = str(exc)
        return f"{name} is not installed" if "not installed" in msg else msg
    if res.timed_out:
        return f"{name} timed out after {timeout:g} s"
    if res.truncated:
        return f"{name} wrote more output than the limit; its results were dropped"
    return res


def crash_reason(name: str, res: ProcResult) -> str:
    """One line on a tool that ended with an unexpected status."""
    how = f"signal {-res.returncode}" if res.returncode < 0 else f"exit {res.returncode}"
    return f"{name} failed ({how}): {res.stderr_line() or 'no error message'}"


def relative(filename: str, root: str) -> str:
    """A tool's file name (absolute or ./relative) as a repository-relative path with '/'."""
    full = filename if os.path.isabs(filename) else os.path.join(root, filename)
    return os.path.relpath(os.path.realpath(full), os.path.realpath(root)).replace(os.sep, "/")
