"""The sandbox is a working test environment: what common test suites need from a machine without
the network is there (real bubblewrap; skipped where it cannot start, a failure under
REVIEWBOT_REQUIRE_SANDBOX=1)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.sandbox import require_sandbox

from reviewbot.runners.policy import SandboxPolicy
from reviewbot.runners.sandbox import BubblewrapSandbox


@pytest.fixture(scope="module")
def box() -> BubblewrapSandbox:
    require_sandbox()
    return BubblewrapSandbox(SandboxPolicy(wall_seconds=30))


def _run(box: BubblewrapSandbox, tmp_path: Path, files: dict[str, str], argv: list[str]) -> str:
    res = box.run(argv, checkout=tmp_path, files={k: textwrap.dedent(v) for k, v in files.items()})
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


SELF_TALK = """
import socket
import threading


def test_a_server_on_localhost_talks_to_itself():
    with socket.socket() as srv:
        srv.bind(("localhost", 0))
        srv.listen(1)
        port = srv.getsockname()[1]

        def answer():
            conn, _ = srv.accept()
            with conn:
                conn.sendall(conn.recv(16).upper())

        t = threading.Thread(target=answer)
        t.start()
        with socket.create_connection(("localhost", port), timeout=5) as c:
            c.sendall(b"ping")
            assert c.recv(16) == b"PING"
        t.join()


def test_loopback_names_resolve():
    for name in ("localhost", "ip6-localhost", "localhost.localdomain"):
        assert socket.getaddrinfo(name, 80)
"""


def test_a_new_test_binding_localhost_passes_in_the_sandbox(box, tmp_path):
    out = _run(
        box,
        tmp_path,
        {"test_self.py": SELF_TALK},
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_self.py"],
    )
    assert "2 passed" in out


HOME = """
import getpass, locale, os, pathlib, sys, tempfile

home = pathlib.Path.home()
(home / ".config").mkdir()
(home / ".config" / "x").write_text("ok")
with tempfile.NamedTemporaryFile() as fh:
    fh.write(b"ok")
print(
    getpass.getuser(),
    os.path.expanduser("~"),
    tempfile.gettempdir(),
    locale.getpreferredencoding(),
    sys.getfilesystemencoding(),
)
"""


def test_home_temp_dir_user_and_locale(box, tmp_path):
    out = _run(box, tmp_path, {"probe.py": HOME}, ["python", "probe.py"])
    assert out.split() == ["nobody", "/tmp/home", "/tmp", "UTF-8", "utf-8"]


def test_the_host_names_stay_out(box, tmp_path):
    """The sandbox's /etc/passwd and /etc/hosts are its own, not the host's."""
    code = "print(open('/etc/passwd').read().count('\\n'), open('/etc/hosts').read().split()[:2])"
    out = _run(box, tmp_path, {"probe.py": code}, ["python", "probe.py"])
    assert out.strip() == "1 ['127.0.0.1', 'localhost']"
