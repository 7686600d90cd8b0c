"""Routed review through the CLI: `reviewbot review --git BASE..HEAD` on temporary repositories.

1. A change that breaks an existing test: the model (scripted here) routes the item to `tools`,
   calls pytest, and the failing test comes back as a finding, run for real in the sandbox.
2. A change that adds an untested function: the model routes it to `interpreter`, writes a test,
   and the test's real outcome from the sandbox is reported.

The fake backend scripts only the model's answers (the route choice, the tool call, the test's
text); git, pytest and bubblewrap are real. tests/test_e2e_model.py runs the same two repositories
with the real embedded model.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from support.cli_json import review_diff, run_json
from support.sandbox import require_sandbox

from reviewbot import compose
from reviewbot.backends.fake import FakeBackend

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]

CALC = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
CALC_BROKEN = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = (
    "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)
TEXT = 'def shout(s):\n    return s.upper() + "!"\n'
TEXT_NEW = TEXT + (
    "\n\ndef initials(name):\n"
    '    """The first letter of each word, upper-cased: "ada lovelace" -> "AL"."""\n'
    '    return "".join(word[0].upper() for word in name.split(" "))\n'
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def broken_test_repo(root: Path) -> Path:
    """main: calc.py with its tests; feature: add() subtracts. HEAD is checked out and clean."""
    root.mkdir()
    git(root, "init", "-q")
    (root / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TEST_CALC)
    (root / "conftest.py").write_text("")  # rootdir on sys.path, so tests import calc
    git(root, "add", "-A")
    git(root, "commit", "-qm", "calc with tests")
    git(root, "checkout", "-qb", "feature")
    (root / "calc.py").write_text(CALC_BROKEN)
    git(root, "commit", "-qam", "add: refactor")
    return root


def untested_function_repo(root: Path) -> Path:
    """main: text.py with shout(); feature: adds initials() with no test."""
    root.mkdir()
    git(root, "init", "-q")
    (root / "text.py").write_text(TEXT)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "text")
    git(root, "checkout", "-qb", "feature")
    (root / "text.py").write_text(TEXT_NEW)
    git(root, "commit", "-qam", "initials")
    return root


Script = Callable[[Sequence[Mapping[str, str]], Mapping | None], str]


def scripted_choice(table: Mapping[str, float]):
    """The model's route choice: `table` for the item, uniform on the router's content-free
    calibration item (so calibration leaves `table` as it is)."""

    def choose(messages, labels):
        if "File: N/A" in messages[-1]["content"]:
            return {lb: 1.0 for lb in labels}
        return table

    return choose


def review(
    repo: Path, backend: FakeBackend, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, dict, str]:
    monkeypatch.setattr(compose, "backend", lambda settings, status=None: backend)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    return run_json("review", "--git", "main..feature", "--repo", str(repo), "--fail-on", "never", *extra)


def test_a_change_that_breaks_a_test_is_reported_through_the_tools_route(tmp_path, monkeypatch):
    require_sandbox()
    repo = broken_test_repo(tmp_path / "repo")
    calls = json.dumps({"calls": [{"name": "pytest", "arguments": {}}], "done": True})
    backend = FakeBackend(texts=[calls], choices=scripted_choice({"tools": 0.8, "review": 0.2}))
    config = tmp_path / "tools-only.yml"  # the change's tests would report the failure first
    config.write_text("tests:\n  enabled: false\n")
    code, doc, err = review(repo, backend, monkeypatch, "--config", str(config))
    assert code == 0, err
    (run,) = doc["routes"]
    assert (run["item"], run["route"], run["probability"]) == ("calc.py", "tools", pytest.approx(0.8))
    failed = [f for f in doc["findings"] if f["rule"] == "pytest/failed"]
    assert len(failed) == 1, doc
    (f,) = failed
    assert f["route"] == "tools" and f["route_probability"] == pytest.approx(0.8)
    assert "test_add" in f["message"] and "assert -1 == 5" in f["message"]
    assert (f["path"], f["line"]) == ("calc.py", 2)  # on the changed line the failing test runs through
    assert not any("test_mul" in x["message"] for x in doc["findings"])  # the passing test is not a finding
    assert [c for c, _ in backend.calls] == ["choose", "generate"]
    assert any(
        n.startswith("calc.py: tools route called pytest: ") and "1 failed" in n for n in doc["notes"]
    ), doc["notes"]


@pytest.mark.parametrize(
    ("test", "rule", "says"),
    [
        (
            'def test_initials():\n    assert initials("ada lovelace") == "AL"\n',
            "interpreter/suggested-test",
            "it passes against the new code",
        ),
        # two spaces make an empty word: the new code raises IndexError, a real defect of the change
        (
            'def test_initials_double_space():\n    assert initials("ada  lovelace") == "AL"\n',
            "interpreter/test-failed",
            "IndexError",
        ),
    ],
)
def test_an_untested_function_gets_a_sandbox_run_test_with_its_real_outcome(
    tmp_path, monkeypatch, test, rule, says
):
    require_sandbox()
    repo = untested_function_repo(tmp_path / "repo")
    backend = FakeBackend(
        texts=[json.dumps({"code": test})],
        choices=scripted_choice({"interpreter": 0.7, "review": 0.2, "tools": 0.1}),
    )
    code, doc, err = review(repo, backend, monkeypatch)
    assert code == 0, err
    (run,) = doc["routes"]
    assert (run["route"], run["probability"]) == ("interpreter", pytest.approx(0.7))
    (f,) = [f for f in doc["findings"] if f["rule"].startswith("interpreter/")]
    assert f["rule"] == rule and says in f["message"], f["message"]
    assert (f["path"], f["line"]) == ("text.py", 5)  # the `def initials` line, added
    assert test.splitlines()[0] in f["message"]  # the test as run is shown
    assert f["route_probability"] == pytest.approx(0.7)


def test_the_router_is_not_asked_about_routes_a_bare_diff_cannot_run(tmp_path, monkeypatch):
    repo = broken_test_repo(tmp_path / "repo")
    offered: list[tuple[str, ...]] = []

    def choose(messages, labels):
        offered.append(tuple(labels))
        return {"review": 1.0}

    backend = FakeBackend(texts=[], choices=choose, scores=lambda m, c: None)
    monkeypatch.setattr(compose, "backend", lambda settings, status=None: backend)
    code, doc, err = review_diff(tmp_path, git(repo, "diff", "main..feature"), "--fail-on", "never")
    assert code == 0, err
    # no checkout: neither tools nor interpreter is offered; no question: no repo_qa
    assert offered == [("review", "search")]
    assert [r["route"] for r in doc["routes"]] == ["review"]
