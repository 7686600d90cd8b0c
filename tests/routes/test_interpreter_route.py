"""The interpreter route with the fake backend scripting the model's test, on a real git repository,
the test run for real by pytest in the bubblewrap sandbox.

Skipped where bwrap cannot start (the reason is printed), except that with
REVIEWBOT_REQUIRE_SANDBOX=1 (CI) an unavailable sandbox is a failure.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

import pytest
from support.sandbox import require_sandbox
from support.tools_repo import git, write

from reviewbot.backends.fake import FakeBackend
from reviewbot.model import ChangeSet, Severity, WorkItem
from reviewbot.routes.interpreter import InterpreterRoute, classify, module_of, targets
from reviewbot.routes.interpreter_run import sandbox_policy
from reviewbot.runners.policy import SandboxResult
from reviewbot.runners.pytest_report import MARK
from reviewbot.runners.sandbox import BubblewrapSandbox
from reviewbot.sources.git import GitSource

STATS_OLD = """def total(xs):
    return sum(xs)
"""
STATS_NEW = '''def total(xs):
    return sum(xs)


def mean(xs):
    """The arithmetic mean of a non-empty list."""
    return sum(xs) / len(xs)
'''
MEAN_LINE = 5  # `def mean(xs):` at head, an added line


@pytest.fixture(scope="module")
def sandboxed() -> None:
    """Skips where bwrap cannot start; with REVIEWBOT_REQUIRE_SANDBOX=1 (CI) that is a failure (the
    sandbox is probed once for the module)."""
    require_sandbox()


@pytest.fixture(scope="module")
def cs(tmp_path_factory: pytest.TempPathFactory) -> ChangeSet:
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q")
    write(root, "pkg/__init__.py", "")
    write(root, "pkg/stats.py", STATS_OLD)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write(root, "pkg/stats.py", STATS_NEW)
    git(root, "commit", "-qam", "add mean and spin")
    changeset = GitSource(root, "main..feature").load()
    assert changeset.workdir is not None
    return changeset


def item_of(cs: ChangeSet, path: str = "pkg/stats.py") -> WorkItem:
    f = cs.file(path)
    assert f is not None
    return WorkItem(f"{path}#1", path, f, f.hunks, 80, 1.0, at_head=True)


class Script:
    """The model's answers, as {"code": ...} JSON; records the messages and schema of each call."""

    def __init__(self, *tests: str) -> None:
        self.tests = list(tests)
        self.messages: list[list[Mapping[str, str]]] = []
        self.schemas: list[Mapping | None] = []

    def __call__(self, messages: Sequence[Mapping[str, str]], schema: Mapping | None) -> str:
        self.messages.append(list(messages))
        self.schemas.append(schema)
        return json.dumps({"code": self.tests[len(self.messages) - 1]})


def run_route(cs: ChangeSet, *tests: str, timeout: float = 30.0, max_functions: int = 1, runner=None):
    script = Script(*tests)
    runner = runner or BubblewrapSandbox(sandbox_policy(timeout))  # what compose passes
    route = InterpreterRoute(FakeBackend(script), runner, timeout=timeout, max_functions=max_functions)
    return route.run(item_of(cs), cs), script


# ---------------------------------------------------------------------------------------------
# outcomes, run for real


def test_a_passing_test_is_a_suggested_test(cs: ChangeSet, sandboxed: None) -> None:
    test = "def test_mean():\n    assert mean([1, 2, 3]) == 2\n"
    out, script = run_route(cs, test)
    assert not out.not_reviewed, out.not_reviewed
    (f,) = out.findings
    assert (f.rule, f.severity, f.route) == ("interpreter/suggested-test", Severity.INFO, "interpreter")
    assert (f.location.path, f.location.line) == ("pkg/stats.py", MEAN_LINE)
    assert "1 test(s) passed" in f.message
    assert "from pkg.stats import mean" in f.message and "assert mean([1, 2, 3]) == 2" in f.message
    # the model was asked under the answer's JSON schema, about `mean`, with the PR text as data
    assert script.schemas[0] is not None and "code" in script.schemas[0]["properties"]
    assert "Under test: mean" in script.messages[0][1]["content"]
    assert out.prompt_tokens > 0 and out.generated_tokens > 0 and out.seconds > 0


def test_a_failing_assertion_is_a_possible_defect_with_the_assertion(cs: ChangeSet, sandboxed: None) -> None:
    test = "def test_mean():\n    assert mean([1, 2, 4]) == 2\n"
    out, _ = run_route(cs, test)
    (f,) = out.findings
    assert (f.rule, f.severity, f.category) == ("interpreter/test-failed", Severity.WARNING, "bug")
    assert f.location.line == MEAN_LINE
    assert "possible defect in `mean`" in f.message
    assert "assert 2.3333333333333335 == 2" in f.message  # pytest's real assertion text


def test_an_exception_from_the_code_is_a_possible_defect(cs: ChangeSet, sandboxed: None) -> None:
    test = "def test_empty():\n    assert mean([]) == 0\n"
    out, _ = run_route(cs, test)
    (f,) = out.findings
    assert f.rule == "interpreter/test-failed"
    assert "errors against the new code: ZeroDivisionError" in f.message


def test_a_test_that_never_ends_is_timed_out(cs: ChangeSet, sandboxed: None) -> None:
    test = "import time\n\ndef test_forever():\n    while True:\n        time.sleep(0.05)\n"
    out, _ = run_route(cs, test, timeout=6.0)
    (f,) = out.findings
    assert (f.rule, f.severity) == ("interpreter/test-timed-out", Severity.WARNING)
    assert "did not finish within 6 s" in f.message
    assert out.seconds >= 6.0


def test_a_busy_loop_is_timed_out_not_cpu_killed(cs: ChangeSet, sandboxed: None) -> None:
    test = "def test_spin():\n    while True:\n        pass\n"
    out, _ = run_route(cs, test, timeout=4.0)
    (f,) = out.findings
    assert f.rule == "interpreter/test-timed-out"


# ---------------------------------------------------------------------------------------------
# the sandbox holds: escapes fail inside it


def test_reading_etc_shadow_or_a_file_outside_the_checkout_fails(
    cs: ChangeSet, sandboxed: None, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t-on-the-host")
    shadow = "def test_shadow():\n    with open('/etc/shadow') as fh:\n        assert fh.read() == 'leaked'\n"
    outside = (
        f"def test_outside():\n    with open({str(secret)!r}) as fh:\n        assert fh.read() == 'leaked'\n"
    )
    out, _ = run_route(cs, shadow)
    out2, _ = run_route(cs, outside)
    for res in (out, out2):
        (f,) = res.findings
        assert f.rule == "interpreter/test-failed"
        assert "FileNotFoundError" in f.message, f.message
    assert "s3cr3t-on-the-host" not in out2.findings[0].message


def test_a_socket_cannot_reach_the_host_or_the_internet(cs: ChangeSet, sandboxed: None) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(15)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    test = (
        "import socket\n\n"
        "def test_host():\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n\n"
    )
    try:
        out, _ = run_route(cs, test)
        out2, _ = run_route(
            cs,
            "import socket\n\ndef test_net():\n"
            "    socket.create_connection(('1.1.1.1', 53), timeout=3).close()\n",
        )
    finally:
        server.close()
        t.join(5)
    (f,) = out.findings
    assert f.rule == "interpreter/test-failed" and "ConnectionRefusedError" in f.message, f.message
    assert accepted == []
    (f2,) = out2.findings
    assert f2.rule == "interpreter/test-failed" and "OSError" in f2.message, f2.message


def test_an_environment_secret_does_not_reach_the_test(
    cs: ChangeSet, sandboxed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_for_the_model")
    monkeypatch.setenv("REVIEWBOT_API_KEY", "sk-not-for-the-model")
    test = (
        "import os\n\n"
        "def test_env():\n"
        "    leaked = sorted(k for k in os.environ if 'TOKEN' in k or 'KEY' in k)\n"
        "    assert leaked == ['GITHUB_TOKEN', 'REVIEWBOT_API_KEY']\n"
    )
    out, _ = run_route(cs, test)
    (f,) = out.findings
    assert f.rule == "interpreter/test-failed"
    assert "AssertionError: assert [] == ['GITHUB_TO" in f.message  # nothing leaked in
    assert "ghp_not_for_the_model" not in f.message


# ---------------------------------------------------------------------------------------------
# the model's own errors: fed back once


def test_a_test_that_does_not_run_is_fed_back_and_written_again(cs: ChangeSet, sandboxed: None) -> None:
    broken = "def test_mean():\n    assert mean(helper()) == 2\n"  # NameError in the test itself
    fixed = "def test_mean():\n    assert mean([2, 2]) == 2\n"
    out, script = run_route(cs, broken, fixed)
    (f,) = out.findings
    assert f.rule == "interpreter/suggested-test"
    assert len(script.messages) == 2
    feedback = script.messages[1][-1]["content"]
    assert script.messages[1][-1]["role"] == "user" and "NameError" in feedback and "helper" in feedback


def test_a_test_that_does_not_collect_twice_is_not_reviewed(cs: ChangeSet, sandboxed: None) -> None:
    out, script = run_route(
        cs, "def test_x(:\n    pass\n", "from nowhere_at_all import x\n\ndef test_x():\n    pass\n"
    )
    assert out.findings == ()
    (s,) = out.not_reviewed
    assert "did not run, twice" in s.reason and "nowhere_at_all" in s.reason
    assert (
        "SyntaxError" in script.messages[1][-1]["content"]
        or "invalid syntax" in script.messages[1][-1]["content"]
    )


def test_a_test_without_test_functions_is_the_models_error(cs: ChangeSet, sandboxed: None) -> None:
    out, script = run_route(cs, "x = mean([1])\n", "def test_one():\n    assert mean([1]) == 1\n")
    assert [f.rule for f in out.findings] == ["interpreter/suggested-test"]
    assert "collected no test" in script.messages[1][-1]["content"]


# ---------------------------------------------------------------------------------------------
# no sandbox, no run


class NoSandbox:
    """A runner whose probe says it cannot start; running anything on it is a test failure."""

    def __init__(self) -> None:
        self.runs = 0

    def probe(self) -> str:
        return "bwrap: setting up uid map: Permission denied"

    def run(self, argv, *, checkout, files={}, python=None) -> SandboxResult:  # noqa: B006
        self.runs += 1
        raise AssertionError("ran code although the sandbox cannot start")


def test_no_sandbox_means_not_reviewed_with_the_reason_and_nothing_run(cs: ChangeSet) -> None:
    runner = NoSandbox()
    backend = FakeBackend([])  # no answer scripted: asking the model would fail the test
    route = InterpreterRoute(backend, runner, timeout=5)
    out = route.run(item_of(cs), cs)
    out2 = route.run(item_of(cs), cs)
    assert out.findings == () and runner.runs == 0 and backend.calls == []
    (s,) = out.not_reviewed
    assert s.stage == "route" and "cannot start" in s.reason and "Permission denied" in s.reason
    assert out2.not_reviewed == out.not_reviewed


def test_the_default_runner_is_the_bubblewrap_sandbox() -> None:
    from reviewbot import compose
    from reviewbot.config import load

    route = compose.other_routes(
        load({"backend": "none", "interpreter.timeout": 7}, {}, None), FakeBackend([])
    )["interpreter"]
    assert isinstance(route.runner, BubblewrapSandbox)
    assert route.runner.policy.wall_seconds == 7 and route.runner.policy.cpu_seconds > 7


def test_without_a_checkout_nothing_runs(cs: ChangeSet) -> None:
    bare = ChangeSet(cs.files, "diff file x.diff")
    runner = NoSandbox()
    out = InterpreterRoute(FakeBackend([]), runner).run(item_of(cs), bare)
    assert runner.runs == 0 and "checkout" in out.not_reviewed[0].reason


# ---------------------------------------------------------------------------------------------
# targets and imports (pure)


def test_targets_new_definitions_first_methods_through_their_class() -> None:
    src = (
        "import os\n"  # 1
        "\n"
        "class Stack:\n"  # 3
        "    size = 0\n"  # 4
        "    def __init__(self):\n"  # 5
        "        self.items = []\n"  # 6
        "    def push(self, x):\n"  # 7
        "        self.items.append(x)\n"  # 8
        "\n"
        "def old(x):\n"  # 10
        "    def inner():\n"  # 11
        "        return x\n"  # 12
        "    return inner()\n"  # 13
        "\n"
        "@staticmethod\n"  # 15
        "def new(y):\n"  # 16
        "    return y\n"  # 17
    )
    got = targets(src, {1, 4, 6, 8, 12, 15, 16, 17})
    assert [(t.qualname, t.import_name, t.line, t.new) for t in got] == [
        ("new", "new", 15, True),
        ("Stack", "Stack", 4, False),  # a class attribute and __init__
        ("Stack.push", "Stack", 8, False),
        ("old", "old", 12, False),  # the nested function counts for `old`
    ]
    push = next(t for t in got if t.qualname == "Stack.push")
    assert "class Stack:" in push.code and "def __init__" in push.code and "def push" in push.code


def test_module_names_and_import_roots(tmp_path: Path) -> None:
    for rel in ("pkg/__init__.py", "src/lib/__init__.py", "src/lib/sub/__init__.py"):
        write(tmp_path, rel, "")

    def exists(rel: str) -> bool:
        return (tmp_path / rel).is_file()

    assert module_of("pkg/calc.py", exists) == ("", "pkg.calc")
    assert module_of("src/lib/sub/m.py", exists) == ("src", "lib.sub.m")
    assert module_of("scripts/tool.py", exists) == ("scripts", "tool")
    assert module_of("top.py", exists) == ("", "top")
    assert module_of("pkg/__init__.py", exists) == ("", "pkg")
    assert module_of("my-dir/x-y.py", exists) is None


def _one_change(root: Path, path: str, old: str, new: str) -> tuple[ChangeSet, WorkItem]:
    git(root, "init", "-q")
    for rel in PurePosixPath(path).parents:
        if rel.parts and rel.parts[0] == "src" and len(rel.parts) > 1:
            write(root, f"{rel}/__init__.py", "")
    write(root, path, old)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    write(root, path, new)
    git(root, "commit", "-qam", "change")
    changeset = GitSource(root, "HEAD~1..HEAD").load()
    f = changeset.file(path)
    assert f is not None and changeset.workdir
    return changeset, WorkItem("t", f.path, f, f.hunks, 10, 1.0, at_head=True)


@pytest.mark.parametrize(
    ("path", "old", "new", "test", "expect"),
    [  # a package under src/: our import lines put src on sys.path
        (
            "src/lib/text.py",
            "def shout(s):\n    return s\n",
            "def shout(s):\n    return s.upper() + '!'\n",
            "def test_shout():\n    assert shout('hi') == 'HI!'\n",
            "rule interpreter/suggested-test",
        ),
        # a dependency missing in the sandbox is not the model's error: no retry, not reviewed
        (
            "app.py",
            "def f():\n    return 1\n",
            "import not_installed_dep\n\n\ndef f():\n    return 2\n",
            "def test_f():\n    assert f() == 2\n",
            "skip does not import in the sandbox: ModuleNotFoundError: No module named 'not_installed_dep'",
        ),
    ],
)
def test_layouts_and_imports(
    tmp_path: Path, sandboxed: None, path: str, old: str, new: str, test: str, expect: str
) -> None:
    changeset, item = _one_change(tmp_path, path, old, new)
    script = Script(test)
    out = InterpreterRoute(FakeBackend(script), BubblewrapSandbox(sandbox_policy(30)), timeout=30).run(
        item, changeset
    )
    kind, _, want = expect.partition(" ")
    assert len(script.messages) == 1
    if kind == "rule":
        assert [x.rule for x in out.findings] == [want] and not out.not_reviewed, out
    else:
        assert out.findings == () and want in out.not_reviewed[0].reason, out


def test_compose_builds_the_route_with_the_configured_timeout_unless_forbidden() -> None:
    from reviewbot import compose
    from reviewbot.config import load

    settings = load({"backend": "none"}, {}, None)
    routes = compose.other_routes(settings, FakeBackend([]))
    route = routes["interpreter"]
    assert isinstance(route, InterpreterRoute) and route.timeout == settings.interpreter.timeout
    assert isinstance(route.runner, BubblewrapSandbox)  # no sandbox.allow_unsandboxed: the default sandbox
    forbidden = load({"backend": "none", "routes.forbid": ("interpreter",)}, {}, None)
    assert "interpreter" not in compose.other_routes(forbidden, FakeBackend([]))


def _driver(report: dict | None, *, timed_out: bool = False, limit: str | None = None) -> SandboxResult:
    out = "" if report is None else f"\n{MARK}{json.dumps({'cases': [], 'tests': 1, **report})}\n"
    return SandboxResult(0, out, "boom" if report is None else "", timed_out, limit, 1.0)


@pytest.mark.parametrize(
    ("result", "kind", "detail"),
    [
        (_driver({"exit": -24}), "killed", "the sandbox's cpu limit"),
        (_driver({"exit": -9}), "killed", "SIGKILL"),
        (_driver(None, timed_out=True, limit="wall"), "timed_out", "within 9 s"),
        (_driver(None, limit="memory"), "killed", "memory limit"),
        (_driver(None), "model_error", "ended without a report: boom"),
        (_driver({"error": "pytest is not installed"}), "not_run", "pytest is not installed"),
        (_driver({"exit": 0}), "passed", "1 test(s) passed"),
        (_driver({"exit": 5, "tests": 0}), "model_error", "collected no test"),
    ],
)
def test_classify_the_drivers_report(result: SandboxResult, kind: str, detail: str) -> None:
    got = classify(result, 9.0, "/repo")
    assert got.kind == kind and detail in got.detail, got
