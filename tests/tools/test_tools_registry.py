"""reviewbot.tools: the allow-list, argument validation, and each tool on a real repository.

ruff, bandit and pytest run for real (pytest in the bubblewrap sandbox; those tests are skipped
with the reason where the sandbox cannot start). mypy, shellcheck and eslint are real subprocesses
of stand-in scripts when the test needs them present, and absent from PATH when it needs them
missing.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from support.tools_repo import FAKE_MYPY, FAKE_SHELLCHECK, fake_tool, make_repo

from reviewbot.compose import default_registry
from reviewbot.model import ChangeSet, FileDiff, FileStatus, Hunk, Line, LineKind, Location, Side
from reviewbot.runners.pytest_driver import default_selection
from reviewbot.runners.pytest_report import TestCase, parse_report, place
from reviewbot.runners.sandbox import BubblewrapSandbox
from reviewbot.tools import Registry, Tool, ToolResult
from reviewbot.tools.base import select_paths
from reviewbot.tools.checkers import eslint_argv, parse_eslint, parse_mypy, parse_shellcheck, ruff_tool
from reviewbot.tools.pytest_tool import pytest_tool


@functools.cache
def _sandbox_unavailable() -> str | None:
    return BubblewrapSandbox().probe()


@pytest.fixture
def needs_sandbox() -> None:
    reason = _sandbox_unavailable()
    if reason is not None:
        pytest.skip(f"sandbox unavailable here: {reason}")


@pytest.fixture(scope="module")
def cs(tmp_path_factory: pytest.TempPathFactory) -> ChangeSet:
    return make_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def no_extra_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only a directory with git in it: mypy, shellcheck and eslint are missing, even
    where they are installed system-wide (CI installs shellcheck)."""
    import shutil

    empty = tmp_path / "bin"
    empty.mkdir()
    git = shutil.which("git")
    if git:
        (empty / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(empty))
    return empty


# ---------------------------------------------------------------------------------------------
# the allow-list and its validation


def test_default_registry_lists_the_allow_list_with_valid_specs() -> None:
    reg = default_registry()
    assert reg.names == ("ruff", "bandit", "mypy", "pytest", "shellcheck", "eslint")
    for tool in reg:
        spec = tool.spec()
        assert spec["type"] == "function" and spec["function"]["name"] == tool.name
        assert spec["function"]["parameters"]["type"] == "object"
        json.dumps(spec)  # serialisable for the prompt
    with pytest.raises(ValueError, match="unknown tool"):
        default_registry(include=("ruff", "nmap"))


def test_registry_refuses_a_name_twice() -> None:
    t = Tool("x", "d", {"type": "object"}, lambda cs, a: ToolResult())
    with pytest.raises(ValueError, match="twice"):
        Registry([t, t])


@pytest.mark.parametrize(
    ("name", "args", "error"),
    [
        ("nmap", {}, "unknown tool 'nmap'"),
        ("ruff", {"paths": "pkg/calc.py"}, "paths: 'pkg/calc.py' is not of type 'array'"),
        ("ruff", {"paths": ["-rf"]}, "does not match"),
        ("ruff", {"paths": ["/etc/passwd"]}, "does not match"),
        ("ruff", {"fix": True}, "Additional properties are not allowed"),
        ("pytest", {"selection": ["--pdb"]}, "does not match"),
        ("pytest", {"selection": ["tests/test_calc.py"], "keyword": "x; rm -rf /"}, "keyword"),
        ("pytest", [], "arguments must be a JSON object"),
    ],
)
def test_validation_refuses_unknown_tools_and_bad_arguments(name, args, error) -> None:
    reg = default_registry()
    problem = reg.validate(name, args)
    assert problem is not None and error in problem
    result = reg.call(name, ChangeSet((), "empty"), args)
    assert result.error and error in result.observation and not result.findings


def test_validation_accepts_good_arguments() -> None:
    reg = default_registry()
    assert reg.validate("ruff", {}) is None
    assert reg.validate("ruff", {"paths": ["pkg/calc.py"]}) is None
    assert (
        reg.validate("pytest", {"selection": ["tests/test_calc.py::test_add[1-2]"], "keyword": "add"}) is None
    )


def test_select_paths_keeps_only_changed_files_of_the_tool(cs: ChangeSet) -> None:
    chosen, notes = select_paths(
        cs, ["pkg/calc.py", "tests/test_calc.py", "scripts/run.sh", "../x.py"], (".py",)
    )
    assert chosen == ["pkg/calc.py"]
    assert notes == [
        "tests/test_calc.py: not a file of this change",
        "scripts/run.sh: not a .py file",
        "../x.py: not a file of this change",
    ]
    assert select_paths(cs, None, (".sh",)) == (["scripts/run.sh"], [])


# ---------------------------------------------------------------------------------------------
# ruff and bandit (real)


def test_ruff_reports_on_changed_lines_only(cs: ChangeSet) -> None:
    res = default_registry(include=("ruff",)).call("ruff", cs, {"paths": ["pkg/calc.py"]})
    assert [(f.rule, f.location.line, f.route) for f in res.findings] == [("ruff/F401", 1, "tools")]
    assert "pkg/calc.py:1: error F401" in res.observation or "pkg/calc.py:1: warning F401" in res.observation
    assert "1 more on unchanged lines" in res.observation  # the F821 on line 7
    assert "undefined_y" not in res.observation
    assert res.anchored_only and not res.skipped


def test_bandit_runs_and_finds_nothing_here(cs: ChangeSet) -> None:
    res = default_registry(include=("bandit",)).call("bandit", cs, {})
    assert res.findings == () and res.skipped == ()
    assert "bandit checked pkg/calc.py" in res.observation


# ---------------------------------------------------------------------------------------------
# tools that are not installed


@pytest.mark.parametrize("tool", ["mypy", "shellcheck", "eslint"])
def test_a_missing_tool_is_reported_as_not_installed(cs: ChangeSet, no_extra_tools: Path, tool: str) -> None:
    reg = default_registry(include=(tool,))
    res = reg.call(tool, cs, {})
    assert res.observation == f"{tool} is not installed"
    assert [(s.reason, s.stage) for s in res.skipped] == [(f"{tool} is not installed", "route")]
    assert reg.unavailable() == ((tool, f"{tool} is not installed"),)
    assert len(reg.available()) == 0


def test_ruff_missing_is_reported_too(cs: ChangeSet) -> None:
    reg = Registry([ruff_tool(executable="no-such-ruff")])
    res = reg.call("ruff", cs, {})
    assert [s.reason for s in res.skipped] == ["ruff is not installed"]


# ---------------------------------------------------------------------------------------------
# shellcheck and mypy through stand-ins; the environment they get


def test_shellcheck_json_on_changed_lines_without_secrets(
    cs: ChangeSet, no_extra_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tool(no_extra_tools, "shellcheck", FAKE_SHELLCHECK)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_planted_secret")
    res = default_registry(include=("shellcheck",)).call("shellcheck", cs, {})
    assert [(f.rule, f.location.path, f.location.line, f.message) for f in res.findings] == [
        ("shellcheck/SC2086", "scripts/run.sh", 2, "GITHUB_TOKEN absent")
    ]
    assert "1 more on unchanged lines" in res.observation


def test_mypy_json_with_our_config(cs: ChangeSet, no_extra_tools: Path) -> None:
    fake_tool(no_extra_tools, "mypy", FAKE_MYPY)
    res = default_registry(include=("mypy",)).call("mypy", cs, {"paths": ["pkg/calc.py"]})
    assert [(f.rule, f.location.line, f.message) for f in res.findings] == [
        ("mypy/operator", 3, "config ours")
    ]


def test_tool_without_checkout_says_so(no_extra_tools: Path) -> None:
    fake_tool(no_extra_tools, "shellcheck", FAKE_SHELLCHECK)
    bare = ChangeSet((FileDiff("a.sh", "a.sh", FileStatus.MODIFIED, ()),), "diff file")
    res = default_registry(include=("shellcheck",)).call("shellcheck", bare, {})
    assert "needs a checkout" in res.skipped[0].reason


# ---------------------------------------------------------------------------------------------
# output parsers


def test_parse_mypy_json_and_text() -> None:
    text = "pkg/a.py:3:5: error: Unsupported operand types  [operator]\npkg/a.py:3:5: note: see here\n"
    js = (
        '{"file": "pkg/a.py", "line": 4, "column": 1, "message": "bad", "hint": "try x", '
        '"code": "misc", "severity": "error"}'
    )
    got = [(f.rule, f.location.line, f.message) for f in parse_mypy(text + js, "/nonexistent")]
    assert got == [("mypy/operator", 3, "Unsupported operand types"), ("mypy/misc", 4, "bad (try x)")]


def test_parse_shellcheck_json1_and_eslint() -> None:
    sc = json.dumps(
        {"comments": [{"file": "a.sh", "line": 3, "endLine": 4, "level": "error", "code": 1, "message": "m"}]}
    )
    (f,) = parse_shellcheck(sc, "/r")
    assert (f.location.start_line, f.location.line, str(f.severity)) == (3, 4, "error")
    es = json.dumps(
        [
            {
                "filePath": "/r/web/app.js",
                "messages": [
                    {
                        "ruleId": "no-unreachable",
                        "severity": 2,
                        "message": "Unreachable code.",
                        "line": 5,
                        "endLine": 5,
                    },
                    {"ruleId": None, "fatal": True, "severity": 2, "message": "Parsing error", "line": 1},
                ],
            }
        ]
    )
    got = [(f.location.path, f.rule, f.location.line) for f in parse_eslint(es, "/r")]
    assert got == [("web/app.js", "eslint/no-unreachable", 5), ("web/app.js", "eslint/parse-error", 1)]


def test_eslint_never_loads_the_repository_config() -> None:
    v9 = eslint_argv("eslint", (9, 1), ["a.js"])
    assert "--no-config-lookup" in v9 and v9[-2:] == ["--", "a.js"]
    assert "--no-eslintrc" in eslint_argv("eslint", (8, 57), ["a.js"])


# ---------------------------------------------------------------------------------------------
# pytest


def test_default_selection_finds_the_tests_of_changed_modules(cs: ChangeSet) -> None:
    assert default_selection(cs) == ["tests/test_calc.py"]


def test_pytest_reports_the_failing_test(cs: ChangeSet, needs_sandbox: None) -> None:
    res = default_registry(include=("pytest",), test_timeout=60).call("pytest", cs, {})
    assert res.skipped == () and not res.anchored_only
    (f,) = res.findings
    assert f.rule == "pytest/failed" and str(f.severity) == "error" and f.route == "tools"
    assert "tests/test_calc.py::test_add" in f.message and "assert 0 == 4" in f.message
    # the assertion is in the unchanged test: placed on the changed code the test imports
    assert f.location == Location("pkg/calc.py", Side.RIGHT, 3)  # in add(), which the failure names
    assert "1 failed" in res.observation and "changed code that tests/test_calc.py imports" in res.observation


def test_pytest_runs_without_secrets(
    cs: ChangeSet, needs_sandbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_planted_secret")
    res = default_registry(include=("pytest",), test_timeout=60).call(
        "pytest", cs, {"selection": ["tests/test_env.py"]}
    )
    assert res.findings == () and res.skipped == ()
    assert "1 passed" in res.observation


def test_pytest_selection_outside_the_checkout_runs_nothing(cs: ChangeSet) -> None:
    tool = pytest_tool(runner=_NeverRun())
    res = tool.runner(cs, {"selection": ["nosuch/test_x.py", "tests/../../etc/passwd"]})
    assert res.findings == () and "nothing to run" in res.observation
    assert "nosuch/test_x.py: no such test file" in res.observation


def test_pytest_without_the_sandbox_is_skipped_with_the_reason(cs: ChangeSet) -> None:
    tool = pytest_tool(runner=BubblewrapSandbox(bwrap="/nonexistent/bwrap"))
    res = tool.runner(cs, {})
    assert [s.reason for s in res.skipped] == [
        "pytest needs the sandbox: /nonexistent/bwrap is not installed "
        "(Debian/Ubuntu: apt-get install bubblewrap)"
    ]
    assert tool.check() == res.skipped[0].reason


def test_pytest_needs_a_checkout() -> None:
    res = pytest_tool(runner=_NeverRun()).runner(ChangeSet((), "diff file"), {})
    assert "needs a checkout" in res.skipped[0].reason


class _NeverRun:
    def run(self, *a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("ran")


# placing a failure: each rule of pytest_tool's docstring

A, C = LineKind.ADDED, LineKind.CONTEXT


def _cs(**added: list[int]) -> ChangeSet:
    files = tuple(
        FileDiff(
            p.replace("__", "/") + ".py",
            p.replace("__", "/") + ".py",
            FileStatus.MODIFIED,
            (Hunk(1, 1, 1, 1, "", tuple(Line(A, None, n, "x") for n in nums)),),
        )
        for p, nums in added.items()
    )
    return ChangeSet(files, "test")


def _case(text: str, file: str = "tests/test_calc.py", line: int | None = 4) -> TestCase:
    return TestCase("failure", "tests.test_calc", "test_add", file, line, "assert 0 == 4", text)


TB = (
    "tests/test_calc.py:9: in test_add\n    assert add(2, 2) == 4\n"
    "/checkout/pkg/calc.py:3: in add\n    return a - b\nE   boom"
)


@pytest.mark.parametrize(
    ("added", "where", "why"),
    [
        ({"tests__test_calc": [9], "pkg__calc": [3]}, ("tests/test_calc.py", 9), "failing line of the test"),
        ({"pkg__calc": [3]}, ("pkg/calc.py", 3), "changed line in the traceback"),
        ({"tests__test_calc": [6]}, ("tests/test_calc.py", 6), "changed line of the test"),
        ({"tests__test_calc": [20]}, ("tests/test_calc.py", 9), "outside the change"),
    ],
)
def test_place(added, where, why) -> None:
    loc, reason = place(_case(TB), _cs(**added), ("/checkout",))
    assert loc is not None and (loc.path, loc.line) == where and why in reason


def test_parse_report_takes_the_last_mark_and_converts_lines() -> None:
    good = {
        "exit": 1,
        "root": "/checkout",
        "tests": 1,
        "failures": 1,
        "cases": [
            {
                "kind": "failure",
                "classname": "tests.test_calc.TestX",
                "name": "test_a",
                "file": "tests/test_calc.py",
                "line": "3",
                "message": "m",
                "text": "t",
            }
        ],
    }
    forged = {"exit": 0, "cases": []}
    out = (
        "junk\n@@reviewbot-pytest-report@@"
        + json.dumps(forged)
        + "\n@@reviewbot-pytest-report@@"
        + json.dumps(good)
    )
    rep = parse_report(out)
    assert rep is not None
    (case,) = rep["cases"]
    assert case.line == 4 and case.nodeid == "tests/test_calc.py::TestX::test_a"
    assert parse_report("no report here") is None


def test_a_pr_shellcheckrc_cannot_switch_shellcheck_off(tmp_path: Path) -> None:
    """The change's `.shellcheckrc` (disable=all) is not read (``--norc``)."""
    import shutil

    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed here (CI installs it)")
    repo = make_repo(tmp_path)
    assert repo.workdir is not None
    Path(repo.workdir, ".shellcheckrc").write_text("disable=all\n")
    Path(repo.workdir, "scripts", ".shellcheckrc").write_text("disable=all\n")
    res = default_registry(include=("shellcheck",)).call("shellcheck", repo, {})
    assert any(f.rule.startswith("shellcheck/SC") for f in res.findings), res
