"""pipeline's model loop: concurrency (order, progress) and degradation, with fakes through the Protocols."""

from __future__ import annotations

import random
import threading
import time

from reviewbot.backends.fake import FakeBackend
from reviewbot.diff.parse import parse_diff
from reviewbot.errors import ModelUnavailable
from reviewbot.model import ChangeSet, Finding, Location, Severity, Side, Skipped, WorkItem
from reviewbot.pipeline import Parts
from reviewbot.pipeline import run as pipeline_run
from reviewbot.pipeline.items import stamp
from reviewbot.ports import RouteOutcome
from reviewbot.router import RouteDecision


def diff(n: int) -> str:
    return "".join(
        f"diff --git a/f{i}.py b/f{i}.py\n--- a/f{i}.py\n+++ b/f{i}.py\n"
        f"@@ -1,2 +1,2 @@\n x = 0\n-y = {i}\n+y = {i + 1}\n"
        for i in range(n)
    )


class Source:
    def __init__(self, text: str) -> None:
        self.text = text

    def load(self) -> ChangeSet:
        return ChangeSet(parse_diff(self.text), "fake")


class SlowRoute:
    """One finding per item after a random pause; counts how many items run at once."""

    name = "review"

    def __init__(self, fail: dict[str, ModelUnavailable] | None = None, seed: int = 0) -> None:
        self.fail = fail or {}
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.started: list[str] = []

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.started.append(item.path)
            pause = self.rng.uniform(0.0, 0.05)
        try:
            time.sleep(pause)
            if item.path in self.fail:
                raise self.fail[item.path]
            f = Finding(
                Location(item.path, Side.RIGHT, 2),
                Severity.WARNING,  # a model error would be graded down, with a note
                f"finding in {item.path}",
                "review/bug",
                "review",
            )
            return RouteOutcome((f,), (), 3, 2, pause)
        finally:
            with self.lock:
                self.now -= 1


def run(route: SlowRoute, n: int, concurrency: int, **kw):
    progress: list[tuple[int, int, str]] = []
    parts = Parts(
        backend=FakeBackend(),
        route=route,
        concurrency=concurrency,
        progress=lambda *a: progress.append(a),
        **kw,
    )
    return pipeline_run(Source(diff(n)).load(), parts), progress


def test_parallel_items_keep_the_plan_order_and_progress_counts_every_item() -> None:
    seq, p_seq = run(SlowRoute(seed=1), 12, 1)
    route = SlowRoute(seed=2)
    par, p_par = run(route, 12, 6)
    assert route.peak > 1  # items really ran at once
    assert par.findings == seq.findings and par.skipped == seq.skipped
    assert par.stats.reviewed_items == seq.stats.reviewed_items == 12
    assert (par.stats.prompt_tokens, par.stats.generated_tokens) == (
        seq.stats.prompt_tokens,
        seq.stats.generated_tokens,
    )
    for prog in (p_seq, p_par):
        assert [d for d, _, _ in prog] == list(range(13)) and prog[-1] == (12, 12, "done")
        assert sorted(label for _, _, label in prog[:-1]) == sorted(f"f{i}.py" for i in range(12))


def test_a_model_that_loads_in_process_loads_before_the_first_items_progress_line() -> None:
    events: list[str] = []

    class Loading(FakeBackend):
        def load(self) -> None:
            events.append("load")

    parts = Parts(
        backend=Loading(), route=SlowRoute(), progress=lambda done, total, label: events.append(label)
    )
    pipeline_run(Source(diff(2)).load(), parts)
    assert events == ["load", "f0.py", "f1.py", "done"]


def test_a_down_server_stops_the_rest_and_keeps_what_was_reviewed() -> None:
    down = ModelUnavailable(
        "openai backend: POST http://gpu:8000/v1/chat/completions failed after 4 attempts: ConnectError",
        seconds=3.5,
    )
    route = SlowRoute(fail={"f2.py": down})
    res, _ = run(route, 6, 1)
    assert [f.location.path for f in res.findings] == ["f0.py", "f1.py"]
    assert route.started == ["f0.py", "f1.py", "f2.py"]  # nothing sent after the failure
    reasons = {s.path: s.reason for s in res.skipped}
    assert reasons["f2.py"].startswith("model call failed after") and "ConnectError" in reasons["f2.py"]
    assert all(
        reasons[f"f{i}.py"] == "not sent to the model: the model server is unavailable" for i in (3, 4, 5)
    )
    (note,) = res.notes
    assert (
        "http://gpu:8000" in note and "after trying for 3.5 s" in note and "3 work item(s) not sent" in note
    )
    assert res.stats.reviewed_items == 2


def test_answers_that_fail_only_cost_their_item_until_three_in_a_row() -> None:
    bad = ModelUnavailable("malformed JSON body (12 bytes)", down=False)
    res, _ = run(SlowRoute(fail={"f1.py": bad, "f3.py": bad, "f4.py": bad, "f5.py": bad}), 8, 1)
    assert [f.location.path for f in res.findings] == ["f0.py", "f2.py"]
    reasons = {s.path: s.reason for s in res.skipped}
    assert "items in a row" in reasons["f6.py"] and "items in a row" in reasons["f7.py"]
    assert res.stats.reviewed_items == 2


def test_route_skips_are_kept_and_the_item_does_not_count_as_reviewed() -> None:
    class Half(SlowRoute):
        def run(self, item, changeset):
            return RouteOutcome((), (Skipped(item.path + ":2", "model output invalid twice (x)", "route"),))

    res, _ = run(Half(), 3, 3)
    assert [s.path for s in res.skipped] == ["f0.py:2", "f1.py:2", "f2.py:2"]
    assert res.stats.reviewed_items == 0 and res.notes == ()


def test_stamp_records_route_and_probability_on_each_finding() -> None:
    f = Finding(Location("a.py", Side.RIGHT, 3), Severity.WARNING, "off by one here", "review/bug", "review")
    d = RouteDecision("review", 0.6, {"review": 0.6, "tools": 0.4}, second="tools")
    assert [x.route_probability for x in stamp([f], "review", d)] == [0.6]
    assert [(x.route, x.route_probability) for x in stamp([f], "tools", d)] == [("tools", 0.4)]
