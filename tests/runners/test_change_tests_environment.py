"""The change's tests in the real sandbox: a failure that belongs to the machine is named as not
run here (never a failure of the change), a new test failing like an old one that shares its
fixture is not blamed, and one hanging test file costs only its share of the budget.

Real bubblewrap, real pytest; skipped where the sandbox cannot start, a failure under
REVIEWBOT_REQUIRE_SANDBOX=1 (CI).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from support.sandbox import require_sandbox

from reviewbot.model import ChangeSet
from reviewbot.runners.change_tests import SandboxedChangeTests
from reviewbot.runners.pytest_driver import related_tests, sandbox_policy
from reviewbot.runners.sandbox import BubblewrapSandbox
from reviewbot.sources.git import GitSource

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]


@pytest.fixture(scope="module", autouse=True)
def needs_sandbox() -> None:
    require_sandbox()


def sandboxed(seconds: float) -> BubblewrapSandbox:
    return BubblewrapSandbox(sandbox_policy(seconds))


def _repo(root: Path, base: dict[str, str], head: dict[str, str]) -> ChangeSet:
    def git(*args: str) -> None:
        subprocess.run([*GIT, "-C", str(root), *args], check=True, capture_output=True)

    def write(files: dict[str, str]) -> None:
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)

    git("init", "-q")
    write(base)
    git("add", "-A")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "feature")
    write(head)
    git("add", "-A")
    git("commit", "-qm", "head")
    return GitSource(root, "main..feature").load()


CALC = "def add(a, b):\n    return a + b\n"
CONFTEST = (
    "import pytest\n\n\n@pytest.fixture\ndef server():\n    raise RuntimeError('the fixture is broken')\n"
)
OLD_TESTS = (
    "from pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_old_with_server(server):\n    assert server\n"
)
NEW_TESTS = """
import socket

from pkg.calc import add


def test_new_binds_localhost():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        s.listen(1)
        with socket.create_connection(s.getsockname(), timeout=5):
            pass
    assert add(1, 1) == 2


def test_new_needs_dns():
    socket.getaddrinfo("files.pythonhosted.org", 443)


def test_new_with_server(server):
    assert add(server, 1)


def test_new_is_wrong():
    assert add(2, 2) == 5
"""
NEEDS_PACKAGE = (
    "import reviewbot_no_such_package_here\n\n\ndef test_x():\n    assert reviewbot_no_such_package_here\n"
)


def test_failures_of_the_machine_are_not_run_here_and_a_broken_fixture_is_not_blamed(tmp_path: Path) -> None:
    base = {
        "pkg/__init__.py": "",
        "pkg/calc.py": CALC,
        "tests/conftest.py": CONFTEST,
        "tests/test_calc.py": OLD_TESTS,
    }
    head = {
        "pkg/calc.py": CALC + "\n\ndef sub(a, b):\n    return a - b\n",
        "tests/test_new.py": NEW_TESTS,
        "tests/test_plugin.py": NEEDS_PACKAGE,
    }
    cs = _repo(tmp_path, base, head)
    out = SandboxedChangeTests(sandboxed, timeout=90).run(cs)
    assert [f.message.split()[1] for f in out.findings] == ["tests/test_new.py::test_new_is_wrong"]
    notes = "\n".join(out.notes)
    assert (
        "1 test(s) not run here, not failures of the change: it needs a name server (the sandbox resolves "
        "only the loopback names): tests/test_new.py::test_new_needs_dns"
    ) in notes
    assert (
        "not run here, not failures of the change: it imports 'reviewbot_no_such_package_here', which is "
        "not installed here: tests/test_plugin.py"
    ) in notes
    assert (
        "1 new test(s) fail the same way as old tests that share their fixtures, which are reported on "
        "their own: tests/test_new.py::test_new_with_server (as tests/test_calc.py::test_old_with_server, "
        "fixture server)"
    ) in notes
    assert "fail at base too, not blamed on the change: tests/test_calc.py::test_old_with_server" in notes
    assert "test_new_binds_localhost" not in notes  # it passed: localhost resolves in the sandbox


SLEEPER = (
    "import time\n\nfrom pkg.calc import add\n\n\ndef test_sleeps():\n    time.sleep(3600)\n    assert add\n"
)
CALC_TESTS = "from pkg.calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"


def test_a_sleeping_test_file_costs_only_its_share(tmp_path: Path) -> None:
    base = {"pkg/__init__.py": "", "pkg/calc.py": CALC, "tests/test_calc.py": CALC_TESTS}
    head = {"pkg/calc.py": "def add(a, b):\n    return a - b\n", "tests/test_a_sleeps.py": SLEEPER}
    cs = _repo(tmp_path, base, head)
    assert related_tests(cs) == ["tests/test_a_sleeps.py", "tests/test_calc.py"]  # both import calc
    t0 = time.monotonic()
    out = SandboxedChangeTests(sandboxed, timeout=90).run(cs)
    assert time.monotonic() - t0 < 120  # not the sleep's hour
    (f,) = out.findings  # the importing test still ran, and its failure was checked at base
    assert f.message.startswith("test tests/test_calc.py::test_add fails") and f.message.endswith(
        "(passes at base)"
    )
    notes = "\n".join(out.notes)
    assert "1 file(s) run: tests/test_calc.py" in notes
    assert "the change's tests: tests/test_a_sleeps.py: pytest timed out after" in notes
    assert "so its tests did not run (each file has its own share of the budget)" in notes


def test_the_importing_tests_come_first(tmp_path: Path) -> None:
    base = {"pkg/__init__.py": "", "pkg/calc.py": CALC, "tests/test_calc.py": CALC_TESTS}
    head = {
        "pkg/calc.py": "def add(a, b):\n    return a - b\n",
        "tests/test_a_other.py": "def test_o():\n    pass\n",
    }
    cs = _repo(tmp_path, base, head)
    assert related_tests(cs) == ["tests/test_calc.py", "tests/test_a_other.py"]
