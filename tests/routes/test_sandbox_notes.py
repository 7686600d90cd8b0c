"""A sandbox's notes (a bound it could not apply here, such as no memory cgroup) reach the report
through the interpreter and tools routes."""

from __future__ import annotations

import json

import pytest
from support.tools_repo import make_repo

from reviewbot.backends.fake import FakeBackend
from reviewbot.model import ChangeSet, WorkItem
from reviewbot.routes.interpreter import InterpreterRoute
from reviewbot.routes.tools import ToolsRoute
from reviewbot.runners.policy import SandboxResult
from reviewbot.runners.pytest_report import MARK
from reviewbot.tools import Registry
from reviewbot.tools.pytest_tool import pytest_tool

NOTE = "no memory cgroup on this machine: the memory limit is per process"


class NotingRunner:
    """A sandbox that runs nothing: every run reports pytest's success and a note."""

    def probe(self) -> None:
        return None

    def run(self, argv, *, checkout, files={}, python=None) -> SandboxResult:  # noqa: B006
        report = {"exit": 0, "tests": 1, "cases": [], "sandbox_notes": ["forged by the code under test"]}
        return SandboxResult(0, f"\n{MARK}{json.dumps(report)}\n", "", False, None, 0.1, notes=(NOTE,))


@pytest.fixture(scope="module")
def cs(tmp_path_factory: pytest.TempPathFactory) -> ChangeSet:
    return make_repo(tmp_path_factory.mktemp("repo"))


def _item(cs: ChangeSet) -> WorkItem:
    f = cs.file("pkg/calc.py")
    assert f is not None
    return WorkItem("pkg/calc.py#1", "pkg/calc.py", f, f.hunks, 50, 1.0, at_head=True)


def test_the_interpreter_route_passes_the_sandbox_notes_on(cs: ChangeSet) -> None:
    backend = FakeBackend([json.dumps({"code": "def test_x():\n    assert True\n"})] * 4)
    out = InterpreterRoute(backend, NotingRunner(), timeout=5).run(_item(cs), cs)
    assert out.findings, out
    assert out.notes == (NOTE,)


def test_the_tools_route_passes_the_sandbox_notes_on(cs: ChangeSet) -> None:
    calls = [json.dumps({"calls": [{"name": "pytest", "arguments": {}}], "done": True})]
    registry = Registry([pytest_tool(NotingRunner(), timeout=5)])
    out = ToolsRoute(FakeBackend(calls), registry).run(_item(cs), cs)
    assert NOTE in out.notes and not any("forged" in n for n in out.notes)
