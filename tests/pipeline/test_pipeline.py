"""pipeline.run with a fake source's ChangeSet, the fake backend, fake routes and a fake linter (no
subprocess, no model)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

import pytest
from support.samples import CALC

from reviewbot.backends.fake import FakeBackend
from reviewbot.diff.parse import parse_diff
from reviewbot.model import ChangeSet, Finding, LineKind, Location, Mark, Severity, Side, Skipped, WorkItem
from reviewbot.pipeline import Parts, PlanLimits, run
from reviewbot.plan import plan
from reviewbot.ports import RouteOutcome, Scored, TestsOutcome
from reviewbot.routes.review import ReviewRoute
from reviewbot.tokens import estimate_tokens

# files the plan skips, each for its own reason
SKIPPED = """\
diff --git a/poetry.lock b/poetry.lock
--- a/poetry.lock
+++ b/poetry.lock
@@ -1 +1 @@
-version = 1
+version = 2
diff --git a/vendor/lib.py b/vendor/lib.py
--- a/vendor/lib.py
+++ b/vendor/lib.py
@@ -1 +1 @@
-x = 1
+x = 2
diff --git a/logo.png b/logo.png
index 1111111..2222222 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-y = 1
"""

DOCS = """\
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1,2 +1,2 @@
 # Title
-old words
+new words
"""

MESSAGE = "The count `len(items) - 1` is off by one: it drops the last item."


class FakeSource:
    def __init__(self, text: str, *, with_head: bool = False, workdir: str | None = None) -> None:
        self.text = text
        self.with_head = with_head
        self.workdir = workdir  # a checkout at head on disk (the routes that run programs need one)
        self.loads = 0

    def load(self) -> ChangeSet:
        self.loads += 1
        read_head = (lambda path: None) if self.with_head or self.workdir else None
        return ChangeSet(parse_diff(self.text), "fake source", read_head=read_head, workdir=self.workdir)


class FakeRoute:
    """Returns the findings and skips it was given for every item, and records the items.

    With skips and no findings it declines the item, as the search and repo_qa routes do."""

    name = "fake"

    def __init__(self, findings: Sequence[Finding] = (), skips: Sequence[Skipped] = ()) -> None:
        self.findings = tuple(findings)
        self.skips = tuple(skips)
        self.items: list[WorkItem] = []

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        self.items.append(item)
        declined = "; ".join(sk.reason for sk in self.skips) if self.skips and not self.findings else None
        return RouteOutcome(self.findings, self.skips, 10, 5, 0.5, declined=declined)


class FakeLinter:
    name = "fake-lint"

    def __init__(self, findings: Sequence[Finding] = ()) -> None:
        self.findings = tuple(findings)
        self.calls: list[tuple[ChangeSet, tuple[str, ...]]] = []

    def lint(self, changeset: ChangeSet, paths: Sequence[str]):
        self.calls.append((changeset, tuple(paths)))
        return self.findings, (Skipped("pkg/other.py", "fake-lint: could not read", stage="lint"),)


def finding(
    line: int,
    *,
    path: str = "pkg/calc.py",
    side: Side = Side.RIGHT,
    message: str = MESSAGE,
    rule: str = "review/bug",
    source: str = "model",
    route: str = "review",
) -> Finding:
    return Finding(Location(path, side, line), Severity.ERROR, message, rule, route, source=source)


def scores(messages, text: str) -> Scored:
    """Old text (holds the removed line) at -1.0 per token, new text at -1.5: a drop of 0.5."""
    lines = text.splitlines(keepends=True)
    offs = [sum(len(x) for x in lines[:i]) for i in range(len(lines))]
    lp = -1.0 if "n = len(items)\n" in text else -1.5
    return Scored(tuple(lp for _ in lines), tuple(offs))


def answer(row: int) -> str:
    c = {
        "row": row,
        "severity": "error",
        "category": "bug",
        "code": "",
        "suggestion": None,
    }
    return json.dumps({"findings": [c]})


def test_model_findings_are_anchored_on_the_diff() -> None:
    backend = FakeBackend(scores=scores)  # no scripted answer: the default route writes nothing
    source = FakeSource(CALC + SKIPPED)
    progress: list[tuple[int, int, str]] = []
    parts = Parts(backend=backend, route=ReviewRoute(backend), progress=lambda *a: progress.append(a))
    result = run(source.load(), parts)
    assert source.loads == 1
    (a,) = result.anchored
    assert a.finding.location == Location("pkg/calc.py", Side.RIGHT, 24)
    assert a.hunk == 0 and a.in_added is True
    # the likelihood strategy posts the change fact alone, and asks the model for no sentence
    assert a.finding.message == "The code `len(items)` became `len(items) - 1`."
    assert a.finding.said is None
    assert a.finding.source == "model"
    assert result.findings == (a.finding,)
    assert result.unanchored == ()
    assert result.stats.backend == "fake" and result.stats.model == "fake"
    assert result.stats.work_items == 1 and result.stats.reviewed_items == 1 and result.stats.files == 5
    assert result.stats.prompt_tokens > 0 and result.stats.generated_tokens == 0
    assert progress == [(0, 1, "pkg/calc.py"), (1, 1, "done")]
    assert not any("backend none" in n for n in result.notes)


def test_a_finding_placed_outside_the_diff_is_unanchored_with_a_reason() -> None:
    route = FakeRoute(
        [
            finding(24),
            finding(999, message="Something far away is wrong here."),
            finding(3, path="not/in/diff.py", message="A file the diff does not touch."),
            finding(24, side=Side.LEFT, message="Line 24 of the old file is not in the diff."),
        ]
    )
    result = run(FakeSource(CALC).load(), Parts(backend=FakeBackend(), route=route))
    assert [a.finding.location.line for a in result.anchored] == [24]
    reasons = {
        u.finding.location.path + ":" + str(u.finding.location.line): u.reason for u in result.unanchored
    }
    assert reasons == {
        "pkg/calc.py:999": "line 999 outside any hunk",
        "not/in/diff.py:3": "file not in the diff",
        "pkg/calc.py:24": "line 24 (LEFT) is not a removed line of the diff",
    }
    assert all(u.reason for u in result.unanchored)


def test_every_finding_is_marked_whether_anchored_or_not() -> None:
    route = FakeRoute([finding(24), finding(999, message="Far away."), finding(3, path="not/in/diff.py")])
    result = run(FakeSource(CALC).load(), Parts(backend=FakeBackend(), route=route))
    assert [a.mark for a in result.anchored] == [Mark.ADDED]
    assert [u.mark for u in result.unanchored] == [Mark.FILE, Mark.OUTSIDE]


def test_route_skips_are_reported_and_not_counted_as_reviewed() -> None:
    skip = Skipped("pkg/calc.py:22", "model output invalid twice (x)", stage="route")
    result = run(FakeSource(CALC).load(), Parts(backend=FakeBackend(), route=FakeRoute(skips=[skip])))
    assert skip in result.skipped
    assert result.stats.work_items == 1 and result.stats.reviewed_items == 0
    assert (result.stats.prompt_tokens, result.stats.generated_tokens, result.stats.model_seconds) == (
        10,
        5,
        0.5,
    )


def test_backend_none_lists_every_planned_item_as_not_sent_to_a_model() -> None:
    text = CALC + SKIPPED + DOCS
    cs = FakeSource(text).load()
    # a small item size so that the file is cut into several items, each of which must be listed
    limits = PlanLimits(item_tokens=30)
    expected = plan(cs, count=estimate_tokens, item_tokens=30, budget_tokens=limits.budget_tokens)
    assert len(expected.items) >= 2
    result = run(FakeSource(text).load(), Parts(backend=None, route=None, limits=limits))
    model_skips = [s for s in result.skipped if s.stage == "model"]
    assert [s.path for s in model_skips] == [w.id for w in expected.items]
    assert all(s.reason == "not sent to a model (backend none)" for s in model_skips)
    assert "no model was used (backend none): linters and the plan only" in result.notes
    assert result.anchored == () and result.unanchored == ()
    assert result.stats.backend == "none" and result.stats.model is None
    assert result.stats.work_items == len(expected.items) and result.stats.reviewed_items == 0


def test_a_route_without_a_backend_or_a_backend_without_a_route_reviews_nothing() -> None:
    route = FakeRoute([finding(24)])
    result = run(FakeSource(CALC).load(), Parts(backend=FakeBackend(), route=None))
    assert [s.stage for s in result.skipped] == ["model"] and result.anchored == ()
    result = run(FakeSource(CALC).load(), Parts(backend=None, route=route))
    assert route.items == [] and [s.stage for s in result.skipped] == ["model"]


def test_files_skipped_by_the_plan_appear_in_the_result() -> None:
    result = run(FakeSource(CALC + SKIPPED).load(), Parts(backend=FakeBackend(), route=FakeRoute()))
    plan_skips = {s.path: s.reason for s in result.skipped if s.stage == "plan"}
    assert plan_skips == {
        "poetry.lock": "lock file",
        "vendor/lib.py": "vendored tree (vendor/)",
        "logo.png": "binary file",
        "old.py": "file deleted",
    }


def test_over_budget_items_are_skipped_by_the_plan_and_not_sent() -> None:
    route = FakeRoute()
    big = CALC + DOCS.replace("README.md", "a.py") + DOCS.replace("README.md", "b.py")
    full = plan(FakeSource(big).load(), count=estimate_tokens, item_tokens=1200, budget_tokens=10**6)
    limits = PlanLimits(budget_tokens=full.items[0].tokens)  # room for the riskiest item only
    result = run(FakeSource(big).load(), Parts(backend=FakeBackend(), route=route, limits=limits))
    sent = {w.id for w in route.items}
    over = [s for s in result.skipped if "over the review's token budget" in s.reason]
    assert over and not sent & {s.path for s in over}
    assert sent == {full.items[0].id} and len(over) == 2


def test_lint_findings_come_first_and_model_duplicates_are_dropped() -> None:
    lint = finding(24, rule="fake/E1", source="fake-lint", route="lint", message=MESSAGE.upper() + "!")
    outside = finding(
        22, rule="fake/E2", source="fake-lint", route="lint", message="Context line, not added."
    )
    linter = FakeLinter([lint, outside])
    model_dup = finding(24)
    model_other = Finding(
        Location("pkg/calc.py", Side.LEFT, 14),
        Severity.WARNING,
        "The removed count was right.",
        "review/bug",
        "review",
    )
    route = FakeRoute([model_dup, model_other])
    parts = Parts(backend=FakeBackend(), route=route, linters=[linter])
    result = run(FakeSource(CALC + SKIPPED, with_head=True).load(), parts)
    ((_, paths),) = linter.calls
    assert paths == ("pkg/calc.py",)  # reviewable Python files only (not vendor/, not the lock file)
    assert [(f.source, f.location.side, f.location.line) for f in result.findings] == [
        ("fake-lint", Side.RIGHT, 24),
        ("model", Side.LEFT, 14),
    ]
    assert result.findings[0].rule == "fake/E1"
    assert "fake-lint: 1 finding(s) outside the changed lines (added mode) not shown" in result.notes
    assert Skipped("pkg/other.py", "fake-lint: could not read", stage="lint") in result.skipped
    assert not any("not run" in n for n in result.notes)


def test_bare_diff_does_not_run_linters_and_says_so() -> None:
    linter = FakeLinter([finding(24, source="fake-lint", rule="fake/E1")])
    result = run(FakeSource(CALC).load(), Parts(backend=None, route=None, linters=[linter]))
    assert linter.calls == []
    assert result.findings == ()
    assert (
        "linters (fake-lint) not run: a bare diff has no files at head; review a git range for them"
        in result.notes
    )


def test_linters_are_not_run_without_python_files() -> None:
    linter = FakeLinter([finding(2, path="README.md")])
    result = run(FakeSource(DOCS, with_head=True).load(), Parts(backend=None, route=None, linters=[linter]))
    assert linter.calls == [] and result.findings == ()
    assert not any("not run" in n for n in result.notes)


class FakeTests:
    """The change's tests (ports.ChangeTests): a failing test's finding and a note, calls recorded."""

    name = "fake-tests"

    def __init__(self, findings: Sequence[Finding] = ()) -> None:
        self.findings = tuple(findings)
        self.calls: list[ChangeSet] = []

    def run(self, changeset: ChangeSet) -> TestsOutcome:
        self.calls.append(changeset)
        return TestsOutcome(self.findings, ("the change's tests: 1 file(s) run",))


def test_the_changes_tests_run_beside_the_linters_and_their_failures_are_kept() -> None:
    failing = finding(24, source="pytest", rule="pytest/failed", route="tests", message="test t::x fails")
    outside = finding(3, source="pytest", rule="pytest/failed", route="tests", message="test t::y fails")
    tests = FakeTests([failing, outside])
    cs = FakeSource(CALC, with_head=True).load()
    result = run(cs, Parts(backend=None, route=None, tests=tests, lint_mode="added"))
    assert tests.calls == [cs]
    assert [f.message for f in result.findings] == ["test t::x fails"]
    assert [u.finding.message for u in result.unanchored] == [
        "test t::y fails"
    ]  # kept, not filtered by lint_mode
    assert "the change's tests: 1 file(s) run" in result.notes


def test_the_changes_tests_need_python_files() -> None:
    tests = FakeTests()
    run(FakeSource(DOCS, with_head=True).load(), Parts(backend=None, route=None, tests=tests))
    assert tests.calls == []


def test_an_empty_change_says_so() -> None:
    result = run(ChangeSet((), "nothing"), Parts(backend=None, route=None))
    assert result.notes == ("the change is empty: nothing to review",)
    assert result.skipped == () and result.stats.files == 0 and result.stats.work_items == 0


def test_the_fake_scores_match_the_route_contract() -> None:
    # guard for the helper above: the old text of CALC's hunk holds the removed line, the new does not
    (f,) = parse_diff(CALC)
    old = "".join(ln.text + "\n" for ln in f.hunks[0].lines if ln.kind is not LineKind.ADDED)
    new = "".join(ln.text + "\n" for ln in f.hunks[0].lines if ln.kind is not LineKind.REMOVED)
    assert scores([], old).mean == -1.0 and scores([], new).mean == -1.5


def test_the_router_picks_each_items_route_and_its_probability_is_on_every_finding() -> None:
    from reviewbot.router import Router

    # two routes exist: the model's first-token choice picks `tools` for the item
    backend = FakeBackend(texts=[answer(4)], scores=scores, choices=[{"review": 0.3, "tools": 0.7}])
    review_route = ReviewRoute(backend)
    tools = FakeRoute(
        [finding(24, message="A linter run through the tools route.", rule="ruff/F401", route="x")]
    )
    router = Router(backend, available=("review", "tools"), calibrate=False)
    result = run(
        FakeSource(CALC, workdir="/nonexistent").load(),
        Parts(
            backend,
            review_route,
            router=router,
            other_routes={"tools": tools},
        ),
    )
    (a,) = result.anchored
    assert (a.finding.route, a.finding.route_probability) == ("tools", 0.7)
    assert len(tools.items) == 1 and [c for c, _ in backend.calls] == ["choose"]  # review never ran

    # a margin larger than the gap sends the item to the runner-up too
    backend = FakeBackend(texts=[answer(4)], scores=scores, choices=[{"review": 0.45, "tools": 0.55}])
    tools = FakeRoute([finding(24, message="A linter run through the tools route.", rule="ruff/F401")])
    router = Router(backend, available=("review", "tools"), second_route_margin=0.2, calibrate=False)
    result = run(
        FakeSource(CALC, workdir="/nonexistent").load(),
        Parts(
            backend,
            ReviewRoute(backend),
            router=router,
            other_routes={"tools": tools},
        ),
    )
    got = sorted((f.route, f.route_probability) for f in result.findings)
    assert got == [("review", 0.45), ("tools", 0.55)]


def test_with_review_the_only_route_routing_costs_no_model_call() -> None:
    from reviewbot.router import Router

    backend = FakeBackend(texts=[answer(4)], scores=scores)
    result = run(
        FakeSource(CALC).load(),
        Parts(backend, ReviewRoute(backend), router=Router(backend, available=("review",))),
    )
    (f,) = result.findings
    assert (f.route, f.route_probability) == ("review", 1.0)
    assert "choose" not in [c for c, _ in backend.calls]


def test_a_route_that_cannot_take_the_item_falls_back_to_review_and_says_so() -> None:
    from reviewbot.router import Router

    backend = FakeBackend(texts=[answer(4)], scores=scores, choices=[{"review": 0.4, "search": 0.6}])
    search = FakeRoute(skips=[Skipped("calc.py", "search: no external API use on the added lines", "route")])
    router = Router(backend, available=("review", "search"))
    result = run(
        FakeSource(CALC).load(),
        Parts(backend, ReviewRoute(backend), router=router, other_routes={"search": search}),
    )
    assert [(r.route, r.fallback, r.second) for r in result.routes] == [
        ("search", False, False),
        ("review", True, False),
    ]
    assert result.skipped == () and result.stats.reviewed_items == 1  # reviewed after all
    assert any("the search route could not take it" in n for n in result.notes)
    assert [f.route for f in result.findings] == ["review"]

    # a pinned route is the user's choice: not replaced
    backend = FakeBackend(texts=[answer(4)], scores=scores)
    router = Router(backend, available=("review", "search"), pins=[("*.py", "search")])
    result = run(
        FakeSource(CALC).load(),
        Parts(backend, ReviewRoute(backend), router=router, other_routes={"search": search}),
    )
    assert [r.route for r in result.routes] == ["search"] and len(result.skipped) == 1


class RouteThatSignals(FakeRoute):
    """A route that says when the model side has started, and can fail."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.started = threading.Event()
        self.fail = fail

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        self.started.set()
        if self.fail:
            raise RuntimeError("the model side failed")
        return RouteOutcome((), (), 10, 5, 0.5, notes=("the route's note",))


class TestsThatWaitForTheModel(FakeTests):
    """The change's tests, which finish only once the model side has started (or 10 s have passed)."""

    def __init__(self, route: RouteThatSignals) -> None:
        super().__init__()
        self.route = route
        self.saw_the_model_start = False

    def run(self, changeset: ChangeSet) -> TestsOutcome:
        self.saw_the_model_start = self.route.started.wait(10)
        return super().run(changeset)


def test_the_changes_tests_run_while_the_model_reviews_and_their_notes_come_first() -> None:
    route = RouteThatSignals()
    tests = TestsThatWaitForTheModel(route)
    cs = FakeSource(CALC, with_head=True).load()
    result = run(cs, Parts(backend=FakeBackend(), route=route, tests=tests, linters=[FakeLinter()]))
    assert tests.saw_the_model_start  # run one after the other, the tests would have waited 10 s alone
    notes = list(result.notes)
    assert notes.index("the change's tests: 1 file(s) run") < notes.index("the route's note")


def test_a_failing_model_side_waits_for_the_changes_tests() -> None:
    route = RouteThatSignals(fail=True)
    tests = TestsThatWaitForTheModel(route)
    with pytest.raises(RuntimeError, match="the model side failed"):
        run(FakeSource(CALC, with_head=True).load(), Parts(backend=FakeBackend(), route=route, tests=tests))
    assert tests.calls and tests.saw_the_model_start  # finished before run() returned
