"""The sandbox holds when reviewbot runs as root (CI and many runners do): the kernel's knobs in
/proc are read-only, the sandboxed processes run as an unprivileged host uid where the paths allow
it, no host path shows in pid 1's command line or environment, and only AF_INET/AF_INET6 sockets.

Each write test opens a knob for writing and writes nothing, or writes back the value it has just
read: nothing on the host changes even where the sandbox would let it.

Skipped where bwrap cannot start, except that with REVIEWBOT_REQUIRE_SANDBOX=1 (CI) that fails.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.runners.bwrap import SANDBOX_UID
from reviewbot.runners.policy import SandboxPolicy
from reviewbot.runners.sandbox import BubblewrapSandbox

_WRITE_REFUSED = ("EROFS", "EACCES", "EPERM")


@functools.cache
def _unavailable() -> str | None:
    return BubblewrapSandbox().probe()


@pytest.fixture
def box() -> BubblewrapSandbox:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("REVIEWBOT_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"REVIEWBOT_REQUIRE_SANDBOX=1 but the sandbox is unavailable: {reason}")
        pytest.skip(f"sandbox unavailable here: {reason}")
    return BubblewrapSandbox(SandboxPolicy(wall_seconds=60))


@pytest.fixture
def open_checkout() -> Iterator[Path]:
    """A checkout that every user may read, as a CI clone is (pytest's tmp_path is not: mode 0700)."""
    root = Path(tempfile.mkdtemp(prefix="reviewbot-open-checkout-", dir="/tmp"))
    root.chmod(0o755)
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "calc.py").chmod(0o644)
    try:
        yield root
    finally:
        shutil.rmtree(root)


def _run(box: BubblewrapSandbox, checkout: Path, code: str, **kw):
    return box.run(
        ["python3", "probe.py"], checkout=checkout, files={"probe.py": textwrap.dedent(code)}, **kw
    )


# the check run inside the sandbox: open each knob for writing, write nothing, report what opened
KNOBS = """
import errno, json, os

def try_open(path):
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    os.close(fd)
    return "WRITABLE"

seen, sysctls, writable, refused = 0, 0, [], set()
tops = [n for n in os.listdir("/proc") if not n.isdigit() and n not in ("self", "thread-self")]
for top in sorted(tops):
    path = "/proc/" + top
    if os.path.islink(path):
        continue
    walk = [(path, [], [""])] if not os.path.isdir(path) else os.walk(path)
    for root, _dirs, names in walk:
        for name in names:
            full = os.path.join(root, name) if name else root
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            seen += 1
            sysctls += full.startswith("/proc/sys/")
            verdict = try_open(full)
            if verdict == "WRITABLE":
                writable.append(full)
            else:
                refused.add(verdict)
print(json.dumps({"seen": seen, "sysctls": sysctls, "writable": writable, "refused": sorted(refused)}))
"""


def test_no_knob_under_proc_is_writable(box, open_checkout):
    res = _run(box, open_checkout, KNOBS)
    assert res.returncode == 0, res
    out = json.loads(res.stdout.splitlines()[-1])
    # every sysctl was tried (those of the network differ: the sandbox has its own network), and more
    host = [p for p in Path("/proc/sys").rglob("*") if p.is_file() and p.parts[3] != "net"]
    assert out["sysctls"] >= len(host) > 100, (out["sysctls"], len(host))
    assert out["seen"] > out["sysctls"], out
    assert out["writable"] == [], out["writable"][:20]
    assert set(out["refused"]) <= {*_WRITE_REFUSED, "ENOENT", "EINVAL", "EIO", "ENXIO"}, out["refused"]


def test_core_pattern_cannot_be_rewritten_as_root(box, open_checkout):
    """The escape: a test writes ``|/host/path/hook.sh`` to core_pattern and crashes a child. Here
    the test writes back the value it read, which changes nothing where it works."""
    code = """
    import errno
    try:
        with open("/proc/sys/kernel/core_pattern", "r+") as fh:
            value = fh.read()
            fh.seek(0)
            fh.write(value)
    except OSError as exc:
        print("REFUSED", errno.errorcode[exc.errno])
    else:
        print("WRITTEN")
    """
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    res = _run(box, open_checkout, code)
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before
    verdict = res.stdout.split()
    assert verdict[:1] == ["REFUSED"] and verdict[1] in _WRITE_REFUSED, res


def test_sysrq_trigger_is_not_writable(box, open_checkout):
    code = """
    import errno, os
    if not os.path.exists("/proc/sysrq-trigger"):
        print("ABSENT")
    else:
        try:
            os.close(os.open("/proc/sysrq-trigger", os.O_WRONLY))
        except OSError as exc:
            print("REFUSED", errno.errorcode[exc.errno])
        else:
            print("OPENED")
    """
    res = _run(box, open_checkout, code)
    assert res.stdout.split()[0] in ("ABSENT", "REFUSED"), res


def test_no_host_path_in_pid_1(box, open_checkout):
    """pid 1 in the sandbox is bwrap's: its command line and environment held the checkout's host
    path (the escape read it there to name its hook)."""
    code = """
    import os
    for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as fh:
                    print(pid, what, fh.read().replace(b"\\0", b" ").decode(errors="replace"))
            except OSError as exc:
                print(pid, what, "unreadable", exc.errno)
    """
    res = _run(box, open_checkout, code)
    assert res.returncode == 0, res
    assert "1 cmdline" in res.stdout, res
    assert str(open_checkout) not in res.stdout, res.stdout


def _host_uid_of(marker: str, found: list[int], deadline: float) -> None:
    """Find the sandboxed process by a marker in its command line and record its host uid."""
    while time.monotonic() < deadline and not found:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if marker.encode() in cmdline and b"bwrap" not in cmdline and b"prlimit" not in cmdline:
                    found.append(os.stat(f"/proc/{pid}").st_uid)
                    return
            except OSError:
                continue
        time.sleep(0.05)


@pytest.mark.skipif(os.geteuid() != 0, reason="run as root: the sandbox must leave uid 0 on the host")
def test_sandboxed_code_runs_as_an_unprivileged_host_uid(box, open_checkout):
    python = shutil.which("python3", path="/usr/bin")  # /usr is bound: every user can reach it
    if python is None:
        pytest.skip("no /usr/bin/python3 here")
    marker = f"marker-{uuid.uuid4().hex}"
    found: list[int] = []
    watcher = threading.Thread(target=_host_uid_of, args=(marker, found, time.monotonic() + 20))
    watcher.start()
    res = box.run(
        ["python3", "-c", f"import time; time.sleep(3)  # {marker}"], checkout=open_checkout, python=python
    )
    watcher.join()
    assert res.returncode == 0, res
    assert found == [SANDBOX_UID], (found, res)
    assert res.notes == (), res.notes


@pytest.mark.skipif(os.geteuid() != 0, reason="run as root")
def test_a_checkout_others_cannot_read_says_the_sandbox_ran_as_root(box, tmp_path):
    """pytest's tmp_path is mode 0700: bwrap started as uid 65534 could not bind it, so the sandbox
    runs as root (capabilities dropped, /proc read-only) and says so."""
    checkout = tmp_path / "repo"
    checkout.mkdir()
    res = _run(box, checkout, "print('ran')", python="/usr/bin/python3")
    assert res.stdout.strip() == "ran", res
    assert any("ran as the host's root user" in n and "not readable by other users" in n for n in res.notes)


def test_only_inet_sockets(box, open_checkout):
    code = """
    import errno, json, socket
    out = {}
    for family in range(0, 64):
        kinds = {}
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET):
            try:
                socket.socket(family, kind).close()
            except OSError as exc:
                kinds[int(kind)] = errno.errorcode.get(exc.errno, str(exc.errno))
            else:
                kinds[int(kind)] = "OK"
        out[family] = kinds
    print(json.dumps(out))
    """
    res = _run(box, open_checkout, code)
    out = json.loads(res.stdout.splitlines()[-1])
    for family, kinds in out.items():
        if int(family) in (socket.AF_INET, socket.AF_INET6):
            assert kinds[str(int(socket.SOCK_STREAM))] == "OK", (family, kinds)
            assert kinds[str(int(socket.SOCK_DGRAM))] == "OK", (family, kinds)
        else:  # the seccomp filter answers before the kernel looks at the family: EPERM for each
            assert set(kinds.values()) == {"EPERM"}, (family, kinds)


def test_a_loopback_server_still_works_in_the_sandbox(box, open_checkout):
    code = """
    import socket, threading
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    threading.Thread(target=lambda: srv.accept()[0].sendall(b"pong"), daemon=True).start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        print(c.recv(4).decode())
    """
    res = _run(box, open_checkout, code)
    assert res.stdout.strip() == "pong", res


def test_the_marker_key_is_not_readable_from_the_sandbox(box, open_checkout, tmp_path):
    from reviewbot.hosts.markers import KEY_FILE, installation_key

    cache = Path(tempfile.mkdtemp(prefix="reviewbot-cache-", dir="/tmp"))
    try:
        key, _ = installation_key(None, cache, {})
        code = f"""
        import os
        found = []
        for root, dirs, names in os.walk("/"):
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/usr")]
            found += [os.path.join(root, n) for n in names if n == {KEY_FILE!r}]
        print("FOUND", found, os.path.exists({str(cache)!r}))
        """
        res = _run(box, open_checkout, code)
    finally:
        shutil.rmtree(cache)
    assert res.stdout.strip() == "FOUND [] False", res
    assert len(key) == 32


def test_a_configured_venv_interpreter_brings_its_venv(tmp_path):
    """An interpreter named by configuration is asked where it lives; a venv's says so only with its
    site module on (with ``-S`` it named its base, and the venv's packages were not bound)."""
    import venv

    from reviewbot.runners.bwrap import python_layout

    venv.create(tmp_path / "venv", with_pip=False)
    bin_dir, prefixes = python_layout(str(tmp_path / "venv" / "bin" / "python"))
    assert bin_dir == str(tmp_path / "venv" / "bin")
    assert str(tmp_path / "venv") in prefixes, prefixes
