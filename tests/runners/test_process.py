"""reviewbot.runners.process with real subprocesses: environment, timeouts, process groups, caps, limits."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from reviewbot.errors import ToolError
from reviewbot.runners.process import Limits, _rlimit_plan, run, which

PY = sys.executable


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a container's PID 1 may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_dead(pid: int, within: float = 3.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_environment_is_an_allow_list(monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_TOKEN", "secret")
    monkeypatch.setenv("OPENAI_API_KEY", "secret2")
    code = "import os; print(os.environ.get('GITHUB_TOKEN')); print(' '.join(sorted(os.environ)))"
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=20)
    assert res.ok, res.stderr
    token, names = res.stdout.splitlines()
    assert token == "None"
    assert names.split() == ["HOME", "LANG", "LC_ALL", "PATH", "TMPDIR"]
    assert "secret" not in res.stdout


def test_home_is_a_fresh_temporary_directory_removed_afterwards(tmp_path):
    code = (
        "import os; print(os.environ['HOME']); print(os.environ['TMPDIR']); "
        "print(os.listdir(os.environ['HOME']))"
    )
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=20)
    home, tmpdir, listing = res.stdout.splitlines()
    assert home != os.path.expanduser("~")
    assert tmpdir.startswith(home)
    assert listing == "['tmp']"
    assert not os.path.exists(home)


def test_extra_env_is_passed(tmp_path):
    res = run(
        [PY, "-c", "import os; print(os.environ['X_ONE'])"], cwd=str(tmp_path), timeout=20, env={"X_ONE": "1"}
    )
    assert res.stdout.strip() == "1"


def test_no_shell_metacharacters_are_literal(tmp_path):
    res = run(
        [PY, "-c", "import sys; print(sys.argv[1])", "$(echo hi); rm -rf /"], cwd=str(tmp_path), timeout=20
    )
    assert res.stdout.strip() == "$(echo hi); rm -rf /"


def test_timeout_kills_child_and_grandchild(tmp_path):
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen(['sleep', '60'])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=1.5)
    assert time.monotonic() - started < 5
    assert res.timed_out
    assert res.returncode < 0
    assert not res.ok
    grandchild = int(res.stdout.split()[0])
    assert _wait_dead(grandchild)


def test_leftover_background_grandchild_is_killed_after_a_normal_exit(tmp_path):
    code = "import subprocess; p = subprocess.Popen(['sleep', '60']); print(p.pid)"
    started = time.monotonic()
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=30)
    assert time.monotonic() - started < 10  # did not wait for the sleeping grandchild
    assert res.returncode == 0 and not res.timed_out
    assert _wait_dead(int(res.stdout.split()[0]))


def test_child_that_closes_its_pipes_still_times_out(tmp_path):
    code = "import os, time; os.close(1); os.close(2); time.sleep(60)"
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=1)
    assert res.timed_out


def test_output_is_capped_and_marked(tmp_path):
    code = "import sys; sys.stdout.write('x' * 5_000_000); sys.stderr.write('e' * 10)"
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=30, max_output=1000)
    assert res.returncode == 0  # the rest was drained, the child was not blocked
    assert res.truncated
    assert res.stdout == "x" * 1000
    assert res.stderr == "e" * 10


def test_output_under_the_cap_is_not_truncated(tmp_path):
    res = run([PY, "-c", "print('é' * 10)"], cwd=str(tmp_path), timeout=20)
    assert res.stdout == "é" * 10 + "\n"
    assert not res.truncated


def test_stdin_is_fed(tmp_path):
    data = b"line\n" * 200_000  # larger than a pipe buffer
    code = "import sys; print(len(sys.stdin.buffer.read()))"
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=30, stdin=data)
    assert res.stdout.strip() == str(len(data))


def test_stdin_is_empty_when_not_given(tmp_path):
    res = run([PY, "-c", "import sys; print(repr(sys.stdin.read()))"], cwd=str(tmp_path), timeout=20)
    assert res.stdout.strip() == "''"


def test_missing_tool_raises_tool_error(tmp_path):
    with pytest.raises(ToolError) as info:
        run(["no-such-tool-xyz", "--version"], cwd=str(tmp_path), timeout=5)
    msg = str(info.value)
    assert msg.startswith("no-such-tool-xyz is not installed (looked for no-such-tool-xyz on PATH")
    assert "\n" not in msg
    assert info.value.exit_code == 6


def test_missing_cwd_raises_tool_error(tmp_path):
    with pytest.raises(ToolError):
        run([PY, "-c", "pass"], cwd=str(tmp_path / "nope"), timeout=5)


def test_which_finds_venv_tools_without_path(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    ruff = which("ruff")
    assert ruff is not None and os.path.dirname(ruff) == os.path.dirname(sys.executable)
    assert which("no-such-tool-xyz") is None


def test_cpu_limit_stops_a_busy_loop(tmp_path):
    res = run([PY, "-c", "while True: pass"], cwd=str(tmp_path), timeout=30, limits=Limits(cpu_seconds=1))
    assert not res.timed_out
    assert res.returncode in (-24, -9)  # SIGXCPU at the soft limit, SIGKILL at the hard one
    assert res.seconds < 10


def test_address_space_limit(tmp_path):
    code = "b = bytearray(1024 * 1024 * 1024)"
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=30, limits=Limits(address_space=512 * 1024 * 1024))
    assert res.returncode != 0
    assert "MemoryError" in res.stderr


def test_file_size_limit(tmp_path):
    code = "open('big', 'wb').write(b'x' * (2 * 1024 * 1024))"
    res = run([PY, "-c", code], cwd=str(tmp_path), timeout=30, limits=Limits(file_size=1024 * 1024))
    assert res.returncode != 0  # Python ignores SIGXFSZ, so the write fails with EFBIG
    assert "File too large" in res.stderr or res.returncode == -25
    assert (tmp_path / "big").stat().st_size <= 1024 * 1024


def test_default_limits_let_ruff_run(tmp_path):
    (tmp_path / "a.py").write_text("import os\n")
    res = run(
        ["ruff", "check", "--isolated", "--no-cache", "--output-format", "json", "a.py"],
        cwd=str(tmp_path),
        timeout=60,
    )
    assert res.returncode == 1, res.stderr  # 1: findings
    assert "F401" in res.stdout


def test_nproc_is_not_set_for_root_and_is_headroom_otherwise():
    plan = _rlimit_plan(Limits(), 10)
    has_nproc = any(r == resource.RLIMIT_NPROC for r, _, _ in plan)
    assert has_nproc == (os.getuid() != 0)
    cpu = [(s, h) for r, s, h in plan if r == resource.RLIMIT_CPU]
    assert cpu == [(11, 12)]


def _nobody_python() -> str | None:
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to drop to an unprivileged user")
@pytest.mark.parametrize(("headroom", "should_work"), [(512, True), (3, False)])
def test_nproc_as_an_unprivileged_user(headroom, should_work):
    """RLIMIT_NPROC counts the user's tasks: set as headroom over what the user runs now."""
    py = _nobody_python()
    if py is None:
        pytest.skip("no system python an unprivileged user can run")
    repo = Path(__file__).resolve().parents[2]
    work = tempfile.mkdtemp(prefix="reviewbot-nproc-")
    try:
        os.chmod(work, 0o755)
        pkg = Path(work, "reviewbot")
        (pkg / "runners").mkdir(parents=True)
        for rel in ("__init__.py", "errors.py", "redact.py", "runners/__init__.py", "runners/process.py"):
            shutil.copy(repo / "reviewbot" / rel, pkg / rel)
        for dirpath, dirnames, filenames in os.walk(work):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        spawn = (
            "import subprocess\n"
            "ps = [subprocess.Popen(['sleep', '0.5']) for _ in range(20)]\n"
            "[p.wait() for p in ps]\n"
            "print('spawned', len(ps))\n"
        )
        driver = (
            "import sys\n"
            f"sys.path.insert(0, {work!r})\n"
            "from reviewbot.runners.process import Limits, run\n"
            f"r = run([sys.executable, '-c', {spawn!r}], cwd='/tmp', timeout=30,"
            f" limits=Limits(processes={headroom}))\n"
            "print(r.returncode, r.stdout.strip(), r.stderr.strip().splitlines()[-1:] )\n"
        )

        def drop() -> None:
            os.setgid(65534)
            os.setgroups([])
            os.setuid(65534)

        out = subprocess.run(
            [py, "-c", driver],
            check=False,
            cwd="/tmp",
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=drop,  # a test drops privileges before exec
            env={"PATH": "/usr/bin:/bin"},
        )
        assert out.returncode == 0, out.stderr
        if should_work:
            assert out.stdout.startswith("0 spawned 20"), out.stdout
        else:
            assert not out.stdout.startswith("0 "), out.stdout
            assert "BlockingIOError" in out.stdout or "Resource temporarily unavailable" in out.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
