"""reviewbot.runners.sandbox with real bubblewrap: escapes that must fail, limits that must hold.

Skipped where bwrap cannot start (the reason is printed), except that with
REVIEWBOT_REQUIRE_SANDBOX=1 (CI) an unavailable sandbox is a failure.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from reviewbot.errors import ToolError
from reviewbot.runners import cgroup as cgroup_mod
from reviewbot.runners import sandbox as sandbox_mod
from reviewbot.runners.policy import SandboxPolicy
from reviewbot.runners.sandbox import BubblewrapSandbox, UnsafeLocalRunner


@functools.cache
def _unavailable() -> str | None:
    return BubblewrapSandbox().probe()


def test_sandbox_is_available_when_required():
    reason = _unavailable()
    if os.environ.get("REVIEWBOT_REQUIRE_SANDBOX") == "1":
        assert reason is None, f"REVIEWBOT_REQUIRE_SANDBOX=1 but the sandbox is unavailable: {reason}"
    elif reason is not None:
        pytest.skip(f"sandbox unavailable here: {reason}")


@pytest.fixture
def box() -> BubblewrapSandbox:
    reason = _unavailable()
    if reason is not None:
        pytest.skip(f"sandbox unavailable here: {reason}")
    return BubblewrapSandbox(SandboxPolicy(wall_seconds=20))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    return repo


def _py(box, checkout, code: str, **kw):
    """Run ``code`` as a file in the sandbox; the file prints its verdict."""
    return box.run(["python", "probe.py"], checkout=checkout, files={"probe.py": textwrap.dedent(code)}, **kw)


BLOCKED = """
def attempt():
{body}
try:
    attempt()
except Exception as exc:
    print("BLOCKED", type(exc).__name__, exc)
else:
    print("ESCAPED")
"""


def _attempt(body: str) -> str:
    return BLOCKED.format(body=textwrap.indent(textwrap.dedent(body), "    "))


# -- escapes that must fail -----------------------------------------------------------------------


def test_no_route_to_the_internet(box, checkout):
    res = _py(box, checkout, _attempt('import socket; socket.create_connection(("1.1.1.1", 53), timeout=3)'))
    assert res.stdout.startswith("BLOCKED"), res


def test_host_loopback_is_not_reachable(box, checkout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(0.3)
        port = srv.getsockname()[1]
        code = f'import socket; socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"x")'
        res = _py(box, checkout, _attempt(code))
        with pytest.raises(TimeoutError):
            srv.accept()[0].close()
    assert res.stdout.startswith("BLOCKED"), res


def test_cannot_read_shadow_or_home(box, checkout):
    secret = Path.home() / f"reviewbot-secret-{uuid.uuid4().hex[:8]}"
    secret.write_text("hunter2")
    try:
        for path in ("/etc/shadow", str(secret)):
            res = _py(box, checkout, _attempt(f"print(open({path!r}).read())"))
            assert res.stdout.startswith("BLOCKED"), (path, res)
            assert "hunter2" not in res.stdout
    finally:
        secret.unlink()


def test_no_secrets_in_environment(box, checkout, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_planted_secret")
    res = _py(box, checkout, "import os; print(sorted(os.environ)); print(os.environ.get('GITHUB_TOKEN'))")
    assert "ghp_planted_secret" not in res.stdout
    assert res.stdout.splitlines()[-1] == "None"
    assert "GITHUB_TOKEN" not in res.stdout


def test_cannot_write_checkout_or_host(box, checkout, tmp_path):
    host_file = tmp_path / "host.txt"
    host_file.write_text("original")
    for target in ("/checkout/calc.py", "/checkout/new.py", str(host_file)):
        res = _py(box, checkout, _attempt(f"open({target!r}, 'w').write('pwned')"))
        # a path outside the binds may be writable inside (it is on the sandbox's own tmpfs), but
        # never on the host; the checkout is read-only even inside
        if target.startswith("/checkout"):
            assert res.stdout.startswith("BLOCKED"), (target, res)
    assert host_file.read_text() == "original"
    assert (checkout / "calc.py").read_text().startswith("def add")
    assert not (checkout / "new.py").exists()


FORK_BOMB = """
import os, time
n = 0
try:
    while n < 5000:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError as exc:
    print("STOPPED", n, exc)
else:
    print("ESCAPED", n)
"""


def _alive_with(marker: str) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        with open(f"/proc/{name}/stat") as st:
                            if st.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                                pids.append(int(name))
            except OSError:
                continue
    return pids


def test_fork_bomb_is_stopped_by_the_process_limit(checkout):
    if _unavailable():
        pytest.skip(f"sandbox unavailable here: {_unavailable()}")
    box = BubblewrapSandbox(SandboxPolicy(max_processes=32, wall_seconds=20))
    marker = f"forkbomb_{uuid.uuid4().hex[:8]}.py"
    res = box.run(["python", marker], checkout=checkout, files={marker: FORK_BOMB})
    assert res.stdout.startswith("STOPPED"), res
    assert int(res.stdout.split()[1]) < 32
    assert not res.timed_out  # it ended on its own: the sleeping children died with the sandbox
    deadline = time.monotonic() + 3
    while _alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive_with(marker) == []


def test_memory_limit(box, checkout):
    res = _py(box, checkout, "x = bytearray(2 * 1024**3)\nprint('ESCAPED')")
    assert "ESCAPED" not in res.stdout
    assert res.killed_by_limit == "memory", res


def test_wall_clock_limit_kills_everything(checkout):
    if _unavailable():
        pytest.skip(f"sandbox unavailable here: {_unavailable()}")
    box = BubblewrapSandbox(SandboxPolicy(wall_seconds=1.5))
    marker = f"sleeper_{uuid.uuid4().hex[:8]}.py"
    code = "import os, time\nos.fork()\ntime.sleep(60)\n"
    res = box.run(["python", marker], checkout=checkout, files={marker: code})
    assert res.timed_out and res.killed_by_limit == "wall"
    assert res.seconds < 6
    deadline = time.monotonic() + 3
    while _alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive_with(marker) == []


def test_cpu_limit(checkout):
    if _unavailable():
        pytest.skip(f"sandbox unavailable here: {_unavailable()}")
    box = BubblewrapSandbox(SandboxPolicy(cpu_seconds=1, wall_seconds=15))
    res = _py(box, checkout, "while True:\n    pass\n")
    assert not res.timed_out
    assert res.killed_by_limit == "cpu", res


def test_file_size_limit(checkout):
    if _unavailable():
        pytest.skip(f"sandbox unavailable here: {_unavailable()}")
    box = BubblewrapSandbox(SandboxPolicy(file_size_bytes=1024**2, wall_seconds=15))
    res = _py(box, checkout, "open('/tmp/big', 'wb').write(b'x' * 2 * 1024**2)\nprint('ESCAPED')")
    assert "ESCAPED" not in res.stdout
    assert res.killed_by_limit == "file_size", res


# -- it is still useful ------------------------------------------------------------------------------

TESTS = """
from calc import add

def test_ok():
    assert add(2, 2) == 4

def test_wrong():
    assert add(2, 2) == 5
"""


def test_pytest_runs_against_the_checkout(box, checkout):
    res = box.run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_calc.py"],
        checkout=checkout,
        files={"test_calc.py": TESTS},
    )
    assert res.returncode == 1, res
    assert "1 failed, 1 passed" in res.stdout
    assert "assert 4 == 5" in res.stdout
    assert res.killed_by_limit is None


def test_no_cgroup_left_behind(box, checkout):
    parent = cgroup_mod.pids_cgroup_parent() if os.geteuid() == 0 else None
    box.run(["true"], checkout=checkout)
    if parent is not None:  # this process's own cgroups (other runs on the machine have theirs)
        mine = f"reviewbot-sandbox-{os.getpid()}-"
        assert not [n for n in os.listdir(parent) if n.startswith(mine)]


# -- failing closed --------------------------------------------------------------------------------


def test_missing_bwrap_raises_and_never_runs_unsandboxed(checkout, tmp_path):
    flag = tmp_path / "ran"
    box = BubblewrapSandbox(bwrap=str(tmp_path / "no-such-bwrap"))
    assert "not installed" in (box.probe() or "")
    with pytest.raises(ToolError, match="sandbox unavailable"):
        box.run(["touch", str(flag)], checkout=checkout)
    assert not flag.exists()


def test_network_cannot_be_enabled():
    with pytest.raises(TypeError):
        SandboxPolicy(allow_network=True)  # type: ignore[call-arg]
    assert SandboxPolicy().allow_network is False


@pytest.mark.parametrize("name", ["/etc/x", "../x", "a/../../x", ""])
def test_file_names_stay_in_work(box, checkout, name):
    with pytest.raises(ValueError):
        box.run(["true"], checkout=checkout, files={name: "x"})


def test_unsafe_runner_is_explicit_and_works(checkout):
    res = UnsafeLocalRunner(SandboxPolicy(wall_seconds=10)).run(
        ["python", "-c", "import calc; print(calc.add(1, 2))"], checkout=checkout
    )
    assert res.stdout.strip() == "3"


def test_failed_cgroup_join_raises_instead_of_running(box, checkout, monkeypatch, tmp_path):
    @contextlib.contextmanager
    def unjoinable(max_tasks, memory_bytes):
        yield cgroup_mod.Joined((str(tmp_path / "no-such-cgroup" / "cgroup.procs"),), True, True)

    monkeypatch.setattr(sandbox_mod, "sandbox_cgroups", unjoinable)
    flag = tmp_path / "ran"
    with pytest.raises(ToolError, match="cannot join"):
        box.run(["touch", str(flag)], checkout=checkout)
    assert not flag.exists()


# -- escapes through .git, whole-sandbox memory, /dev/shm, unix sockets, ptrace ---------------------


def test_git_credential_in_the_checkout_is_hidden(box, checkout):
    git = checkout / ".git"
    git.mkdir()
    (git / "config").write_text(
        '[http "https://github.com/"]\n'
        "\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA==\n"
    )
    code = """
    import os
    print(sorted(os.listdir('/checkout/.git')))
    try:
        print(open('/checkout/.git/config').read())
    except OSError as exc:
        print('BLOCKED', type(exc).__name__)
    print(open('/checkout/calc.py').read())
    """
    res = _py(box, checkout, code)
    assert "eC1hY2Nlc3MtdG9rZW46" not in res.stdout and "extraheader" not in res.stdout, res
    assert "BLOCKED" in res.stdout and "def add" in res.stdout, res


def test_git_file_pointer_is_hidden(box, checkout):
    (checkout / ".git").write_text("gitdir: /home/runner/secret/.git\n")
    res = _py(box, checkout, _attempt("print(repr(open('/checkout/.git').read()))"))
    assert "secret" not in res.stdout + res.stderr, res
    assert res.stdout.startswith(("BLOCKED", "''")), res


CHILDREN = """
import os, sys, time
pids = []
for i in range(3):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            block = bytearray(200 * 1024**2)
            block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
            os.write(w, b"1")
        except MemoryError:
            os.write(w, b"0")
        time.sleep(5)
        os._exit(0)
    os.close(w)
    pids.append((pid, r))
held = 0
for pid, r in pids:
    held += os.read(r, 1) == b"1"
print("HELD", held)
"""


def test_memory_limit_holds_over_all_children(box, checkout):
    # 3 children of 200 MB each against 256 MiB: each is under RLIMIT_AS, the sum is not
    if not cgroup_mod._parent("memory"):
        pytest.skip("no writable memory cgroup here (the result carries a note instead)")
    small = BubblewrapSandbox(SandboxPolicy(memory_bytes=256 * 1024**2, wall_seconds=20))
    res = _py(small, checkout, CHILDREN)
    held = int(res.stdout.split()[1]) if res.stdout.startswith("HELD") else 0
    assert held < 2, res  # the OOM killer (or the parent dying with them) stops the second one
    assert res.notes == () or all("memory" not in n for n in res.notes), res


def test_memory_note_without_a_memory_cgroup(box, checkout, monkeypatch):
    real = cgroup_mod._parent
    monkeypatch.setattr(cgroup_mod, "_parent", lambda c: None if c == "memory" else real(c))
    res = box.run(["true"], checkout=checkout)
    assert any("memory limit applies to each process" in n for n in res.notes), res


def test_dev_shm_is_size_capped(box, checkout):
    small = BubblewrapSandbox(SandboxPolicy(scratch_bytes=16 * 1024**2, wall_seconds=20))
    # files each under RLIMIT_FSIZE (16 MiB), 64 MiB in all
    code = _attempt("for i in range(8): open(f'/dev/shm/fill{i}', 'wb').write(b'x' * 8 * 1024**2)")
    res = _py(small, checkout, code)
    assert res.stdout.startswith("BLOCKED"), res


def test_unix_socket_in_the_checkout_does_not_reach_the_host(box, checkout):
    path = checkout / "host.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(str(path))
        srv.listen(1)
        srv.settimeout(0.3)
        code = _attempt(
            "import socket; s = socket.socket(socket.AF_UNIX); "
            "s.connect('/checkout/host.sock'); s.sendall(b'x')"
        )
        res = _py(box, checkout, code)
        with pytest.raises(TimeoutError):
            srv.accept()[0].close()
    assert res.stdout.startswith("BLOCKED"), res


def test_socketpair_still_works(box, checkout):
    res = _py(box, checkout, "import socket; a, b = socket.socketpair(); a.sendall(b'ok'); print(b.recv(2))")
    assert res.stdout.strip() == "b'ok'", res


def test_ptrace_is_blocked(box, checkout):
    code = """
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.ptrace(0, 0, None, None)  # PTRACE_TRACEME
    print("BLOCKED" if rc == -1 else "ESCAPED", os.strerror(ctypes.get_errno()))
    """
    res = _py(box, checkout, code)
    assert res.stdout.startswith("BLOCKED"), res


def test_seccomp_program_shape():
    from reviewbot.runners import seccomp

    for machine in ("x86_64", "aarch64"):
        prog = seccomp.program(machine)
        assert prog is not None and len(prog) % 8 == 0 and len(prog) // 8 < 4096
    assert seccomp.program("sparc") is None
