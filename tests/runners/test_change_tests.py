"""runners/change_tests.py: the change's own tests at head in the sandbox, failures checked at base.

The tests that run pytest run it for real in the bubblewrap sandbox (skipped with the reason where
it cannot start; CI installs bubblewrap). The budget and the limits use a scripted runner.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from support.sandbox import require_sandbox

from reviewbot.model import ChangeSet, Location, Side
from reviewbot.runners import change_tests
from reviewbot.runners.change_tests import SandboxedChangeTests, _extract
from reviewbot.runners.policy import SandboxResult
from reviewbot.runners.pytest_driver import related_tests, sandbox_policy
from reviewbot.runners.pytest_report import MARK
from reviewbot.runners.sandbox import BubblewrapSandbox
from reviewbot.sources.git import GitSource

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]

CALC_OLD = "def add(a, b):\n    return a + b\n"
CALC_NEW = "def add(a, b):\n    return a - b\n"
TEST_CALC = (
    "from pkg.calc import add\n\n\n"
    "def test_add():\n    assert add(2, 2) == 4\n\n\n"
    "def test_old_bug():\n    assert add(1, 1) == 3\n"
)  # test_add breaks with the change; test_old_bug fails before it too
TEST_WEB = (
    "from pkg import calc\n\n\ndef test_page(httpbin):\n    assert calc\n\n\n"
    "def test_calc():\n    assert calc.add\n"
)
TEST_NEW = "from pkg.calc import add\n\n\ndef test_zero():\n    assert add(0, 1) == 1\n"  # new at head, fails
TEST_OTHER = "def test_unrelated():\n    assert False\n"  # imports nothing changed: not selected


def _git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True)


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)


@pytest.fixture(scope="module")
def cs(tmp_path_factory: pytest.TempPathFactory) -> ChangeSet:
    repo = tmp_path_factory.mktemp("repo")
    _git(repo, "init", "-q")
    base = {"pkg/__init__.py": "", "pkg/calc.py": CALC_OLD, "tests/test_calc.py": TEST_CALC}
    _write(repo, {**base, "tests/test_web.py": TEST_WEB, "other/test_other.py": TEST_OTHER})
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "checkout", "-qb", "feature")
    _write(repo, {"pkg/calc.py": CALC_NEW, "tests/test_new.py": TEST_NEW})
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    return GitSource(repo, "main..feature").load()


@pytest.fixture(scope="module")
def needs_sandbox() -> None:
    require_sandbox()


def sandboxed(seconds: float) -> BubblewrapSandbox:
    return BubblewrapSandbox(sandbox_policy(seconds))


def test_the_selection_is_the_changed_tests_then_the_importers(cs: ChangeSet) -> None:
    assert related_tests(cs) == ["tests/test_new.py", "tests/test_calc.py", "tests/test_web.py"]


def test_a_test_the_change_breaks_is_a_finding_on_the_changed_line(
    cs: ChangeSet, needs_sandbox: None
) -> None:
    out = SandboxedChangeTests(sandboxed, timeout=60).run(cs)
    by_test = {f.message.split()[1]: f for f in out.findings}
    assert set(by_test) == {"tests/test_calc.py::test_add", "tests/test_new.py::test_zero"}
    broken = by_test["tests/test_calc.py::test_add"]
    assert broken.location == Location("pkg/calc.py", Side.RIGHT, 2)  # `return a - b`
    assert (broken.source, broken.rule, broken.route, str(broken.severity)) == (
        "pytest",
        "pytest/failed",
        "tests",
        "error",
    )
    assert "assert 0 == 4" in broken.message and broken.message.endswith("(passes at base)")
    new = by_test["tests/test_new.py::test_zero"]
    assert new.location == Location("tests/test_new.py", Side.RIGHT, 5) and new.message.endswith(
        "(a new test)"
    )
    first, *rest = out.notes
    assert first.startswith(
        "the change's tests (60 s budget, in the sandbox): 3 file(s) run: tests/test_new.py, "
    )
    assert "1 deselected: they need fixtures this Python lacks (httpbin)" in first
    assert "1 passed, 3 failed" in first  # test_calc passes; test_page is deselected
    assert rest == [
        "the change's tests: 1 test(s) fail at base too, not blamed on the change: "
        "tests/test_calc.py::test_old_bug"
    ]


# ---------------------------------------------------------------------------------------------
# limits, with a scripted runner


class Scripted:
    """A CodeRunner that answers every run with the driver's report of one failing test."""

    def __init__(self, clock: list[float], cost: float) -> None:
        self.clock, self.cost, self.runs = clock, cost, []

    def run(self, argv, *, checkout, files={}, python=None):  # noqa: B006 - read only
        self.clock[0] += self.cost
        selection = list(argv[argv.index("--") + 1 :])
        self.runs.append((str(checkout), selection))
        file = selection[0].split("::")[0]
        case = {
            "kind": "failure",
            "classname": file.removesuffix(".py").replace("/", "."),
            "name": "test_add",
            "file": file,
            "line": "3",
            "message": "assert 0 == 4",
            "text": "",
        }
        report = {"exit": 1, "root": "/checkout", "cases": [case], "tests": 1, "failures": 1, "passed": []}
        return SandboxResult(0, f"{MARK}{json.dumps(report)}\n", "", False, None, 0.1)


def test_the_budget_names_what_it_did_not_reach_and_blames_nothing_unchecked(
    cs: ChangeSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [0.0]
    monkeypatch.setattr(change_tests.time, "monotonic", lambda: clock[0])
    runner = Scripted(clock, cost=35.0)
    out = SandboxedChangeTests(lambda s: runner, timeout=60).run(cs)
    assert [sel for _, sel in runner.runs] == [["tests/test_new.py"], ["tests/test_calc.py"]]
    assert "2 file(s) run" in out.notes[0]
    assert out.findings == ()  # no time was left to run them at base
    assert out.notes[1:] == (
        "the change's tests: 1 file(s) not run, the time budget was spent: tests/test_web.py",
        "the change's tests: 2 test(s) fail, not blamed on the change: not checked at base "
        "(the time budget was spent): tests/test_new.py::test_add, tests/test_calc.py::test_add",
    )


def test_at_most_max_files_run(cs: ChangeSet) -> None:
    runner = Scripted([0.0], cost=0.0)
    out = SandboxedChangeTests(lambda s: runner, max_files=1).run(cs)
    assert out.notes[1] == (
        "the change's tests: 2 more test file(s) not run (at most 1): tests/test_calc.py, tests/test_web.py"
    )


def test_without_a_checkout_or_a_sandbox_nothing_runs(cs: ChangeSet) -> None:
    no_checkout = SandboxedChangeTests(sandboxed).run(ChangeSet(cs.files, "diff file"))
    assert no_checkout.notes == (
        "the change's tests not run: they need a checkout of the head revision (a git range)",
    )
    out = SandboxedChangeTests(lambda s: BubblewrapSandbox(bwrap="/nonexistent/bwrap")).run(cs)
    assert out.findings == () and out.notes[0] == (
        "the change's tests not run: pytest needs the sandbox: /nonexistent/bwrap is not installed "
        "(Debian/Ubuntu: apt-get install bubblewrap)"
    )


class Uncollectable:
    """At head pytest cannot import the tests (the change breaks an import); at base they run."""

    def __init__(self, head: str) -> None:
        self.head = head

    def run(self, argv, *, checkout, files={}, python=None):  # noqa: B006 - read only
        if str(checkout) == self.head:
            tail = (
                "ImportError while importing test module\npkg/calc.py:2: in <module>\n    return a - b\n"
                "E   NameError: name 'x' is not defined\n"
            )
            report = {"exit": 2, "root": "/checkout", "cases": [], "tests": 0, "tail": tail}
        else:
            report = {"exit": 0, "root": "/checkout", "cases": [], "tests": 2, "passed": []}
        return SandboxResult(0, f"{MARK}{json.dumps(report)}\n", "", False, None, 0.1)


def test_a_test_file_the_change_makes_uncollectable_is_a_finding(cs: ChangeSet) -> None:
    assert cs.workdir is not None
    out = SandboxedChangeTests(lambda s: Uncollectable(cs.workdir), max_files=2).run(cs)
    by_file = {f.message.split()[1]: f for f in out.findings}
    assert set(by_file) == {"tests/test_new.py", "tests/test_calc.py"}
    f = by_file["tests/test_calc.py"]
    assert f.location == Location("pkg/calc.py", Side.RIGHT, 2)  # the changed line in the traceback
    assert f.message == (
        "test tests/test_calc.py errors: cannot be collected: NameError: name 'x' is not defined "
        "(passes at base)"
    )
    assert by_file["tests/test_new.py"].message.endswith("(a new test)")  # the file is new at head


def test_without_tarfiles_data_filter_only_plain_files_are_unpacked(tmp_path, monkeypatch) -> None:
    """Python before 3.11.4 (Debian 12's 3.11.2) has no extraction filter: the base revision is
    still unpacked, its regular files and folders only, nothing outside the destination."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("pkg/calc.py", b"x = 1\n"), ("../escape.py", b"out\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("pkg/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)  # absent before 3.11.4
    dest = tmp_path / "base"
    dest.mkdir()
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tf:
        _extract(tf, str(dest))
    assert (dest / "pkg" / "calc.py").read_bytes() == b"x = 1\n"
    assert not (dest / "pkg" / "passwd").exists() and not (tmp_path / "escape.py").exists()
