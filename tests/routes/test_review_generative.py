"""The generative review strategy: the model reads the whole item, new code included,
and writes findings with a confidence each; rows, validation and placement are shared with the
likelihood strategy. End to end through the OpenAI-compatible stand-in with scripted answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli_json import review_diff
from support.openai_standin import StandIn, minimal_instance

from reviewbot.backends.fake import FakeBackend
from reviewbot.diff.parse import parse_diff
from reviewbot.model import ChangeSet, Side, WorkItem
from reviewbot.routes.review import ReviewRoute, model_billions, pick_strategy
from reviewbot.routes.review_generative import enclosing_code, item_rows

NEW_FILE = """\
diff --git a/pkg/stats.py b/pkg/stats.py
new file mode 100644
--- /dev/null
+++ b/pkg/stats.py
@@ -0,0 +1,6 @@
+def mean(values):
+    total = 0
+    for v in values:
+        total += v
+    return total / (len(values) - 1)
+
"""

TWO_HUNKS = """\
diff --git a/pkg/calc.py b/pkg/calc.py
--- a/pkg/calc.py
+++ b/pkg/calc.py
@@ -1,3 +1,3 @@
 def first(items):
-    return items[0]
+    return items[1]
 
@@ -10,3 +10,4 @@ def last(items):
     n = len(items)
+    n = n + 1
     return items[n - 1]
 
"""


def item_of(diff: str) -> tuple[WorkItem, ChangeSet]:
    (fd,) = parse_diff(diff)
    cs = ChangeSet((fd,), "test")
    return WorkItem("i1", fd.path, fd, fd.hunks, 50, 1.0), cs


def finding(
    row: int, code: str, confidence: float, message: str = "Divides by one less than the count."
) -> dict:
    return {
        "row": row,
        "severity": "error",
        "category": "bug",
        "message": message,
        "code": code,
        "suggestion": None,
        "confidence": confidence,
    }


YES = {"confirmed": True, "reason": "The rows show the change doing this."}
NO = {"confirmed": False, "reason": "The rows do not show this defect."}


def route(answers: list[dict], constrained: bool = True, **kw) -> tuple[ReviewRoute, FakeBackend]:
    backend = FakeBackend(texts=[json.dumps(a) for a in answers], constrained=constrained)
    return ReviewRoute(backend, strategy="generative", **kw), backend


def test_new_code_gets_findings_with_their_own_confidence() -> None:
    item, cs = item_of(NEW_FILE)
    r, backend = route(
        [
            {
                "findings": [
                    finding(5, "return total / (len(values) - 1)", 0.8),
                    finding(2, "total = 0", 0.3, "Starts the total at zero."),
                ]
            },
            YES,
        ]
    )
    out = r.run(item, cs)
    (f,) = out.findings  # the 0.3 one is left out, and said so
    assert (f.location.path, f.location.side, f.location.line, f.confidence, f.source) == (
        "pkg/stats.py",
        Side.RIGHT,
        5,
        0.8,
        "model",
    )
    assert out.not_reviewed == ()
    assert "review strategy: generative (review.strategy)" in out.notes
    assert any("under 0.5 confidence are left out" in n for n in out.notes)
    assert [kind for kind, _payload in backend.calls] == ["generate", "generate"]  # the finding, its check


def test_rows_run_across_hunks_and_a_wrong_row_is_corrected_by_its_quote() -> None:
    item, cs = item_of(TWO_HUNKS)
    rows, text = item_rows(item.hunks)
    assert [ln.text for ln in rows][:3] == ["def first(items):", "    return items[0]", "    return items[1]"]
    assert text.splitlines()[0] == "@@ new line 1" and "@@ new line 10 (in def last(items):)" in text
    assert "R6   n = len(items)" not in text and "R5   " in text  # numbered on, not restarted
    r, _ = route([{"findings": [finding(1, "n = n + 1", 0.9, "Counts one past the end of the list.")]}, YES])
    (f,) = r.run(item, cs).findings
    assert (f.location.side, f.location.line) == (Side.RIGHT, 11)  # the quoted code, not row 1


def test_an_empty_answer_is_no_finding_and_two_invalid_answers_are_said() -> None:
    item, cs = item_of(NEW_FILE)
    r, _ = route([{"findings": []}])
    out = r.run(item, cs)
    assert out.findings == () and out.not_reviewed == ()
    r, _ = route([{"findings": [finding(99, "x", 0.9)]}, {"nope": 1}], constrained=False)
    out = r.run(item, cs)
    (skip,) = out.not_reviewed
    assert out.findings == () and skip.reason.startswith("model output invalid twice")


def test_the_enclosing_function_at_head_is_shown_beside_the_rows() -> None:
    item, cs = item_of(TWO_HUNKS)
    head = (
        "def first(items):\n    return items[1]\n"
        + "\n" * 6
        + (
            "def last(items):\n    n = len(items)\n    n = n + 1\n    return items[n - 1]\n\n"
            "def other():\n    return 2\n"
        )
    )
    lines = head.splitlines()
    assert lines[8] == "def last(items):" and lines[10] == "    n = n + 1"
    cs = ChangeSet(cs.files, "test", read_head=lambda path: head if path == "pkg/calc.py" else None)
    code = enclosing_code(cs, item)
    assert code is not None and "lines 9-12 at head" in code and "def last(items):" in code
    assert "def other" not in code and "def first" not in code  # fully shown by the rows / untouched
    assert enclosing_code(ChangeSet(cs.files, "test"), item) is None  # a bare diff: nothing to read


@pytest.mark.parametrize(
    ("setting", "backend", "model", "picked"),
    [
        ("auto", "local", "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M", "likelihood"),
        ("auto", "openai", "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ", "generative"),
        ("auto", "local", "THUDM/codegeex4-all-9b", "generative"),
        ("auto", "openai", "standin-model", "generative"),
        ("auto", "openai", "qwen2.5-coder-1.5b", "likelihood"),
        ("auto", "fake", "fake", "likelihood"),
        ("generative", "local", "Qwen2.5-Coder-0.5B-Instruct", "generative"),
        ("likelihood", "openai", "Qwen/Qwen2.5-Coder-7B-Instruct", "likelihood"),
    ],
)
def test_auto_picks_by_the_model_size(setting, backend, model, picked) -> None:
    assert pick_strategy(setting, backend, model)[0] == picked


def test_model_size_from_its_name() -> None:
    assert model_billions("Qwen2.5-Coder-7B-Instruct") == 7.0 and model_billions("x-0.5b") == 0.5
    assert model_billions("gpt-4o") is None and model_billions("llama-3.1-8B-Instruct") == 8.0


def _answer(schema):
    props = schema.get("properties", {})
    if "confirmed" in props:  # the check pass
        return YES
    if "findings" not in props:  # the backend's own structured-output probe
        return minimal_instance(schema)
    assert "confidence" in schema["$defs"]["GenerativeComment"]["properties"]
    return {"findings": [finding(5, "return total / (len(values) - 1)", 0.85)]}


def test_generative_end_to_end_through_an_openai_compatible_server(tmp_path: Path) -> None:
    with StandIn(json_answer=_answer, model="Qwen2.5-Coder-7B-Instruct") as server:
        code, doc, err = review_diff(tmp_path, NEW_FILE, "--backend", "openai", "--base-url", server.url)
    assert code == 0, err  # a model's finding: a guess, it does not fail the run by default
    assert "review strategy: generative (auto: a 7B model)" in doc["notes"], doc["notes"]
    (f,) = doc["findings"]
    assert (f["path"], f["line"], f["severity"], f["confidence"]) == ("pkg/stats.py", 5, "warning", 0.85)
    assert doc["not_reviewed"] == []


def test_the_check_pass_drops_what_it_does_not_confirm_end_to_end(tmp_path: Path) -> None:
    """Two findings through an OpenAI-compatible server; the second, constrained pass re-reads each
    with its rows and the change facts: the one it rejects is not posted and is counted, the one it
    confirms is posted with its fact first."""
    server: StandIn

    def answer(schema):
        props = schema.get("properties", {})
        if "confirmed" in props:
            asked = server.requests[-1][3]["messages"][-1]["content"]
            assert "What the change did, computed exactly from the code:" in asked
            return NO if "Counts one past" in asked else YES
        if "findings" not in props:
            return minimal_instance(schema)
        first = server.requests[-1][3]["messages"][-1]["content"]
        assert (
            "- The slice bounds changed" not in first
            and "The return value `items[0]` became `items[1]`." in first
        )
        return {
            "findings": [
                finding(3, "return items[1]", 0.9, "Returns `items[1]`, the second item, not the first."),
                finding(6, "n = n + 1", 0.8, "Counts one past the end of the list."),
            ]
        }

    with StandIn(json_answer=answer, model="Qwen2.5-Coder-7B-Instruct") as server:
        code, doc, err = review_diff(tmp_path, TWO_HUNKS, "--backend", "openai", "--base-url", server.url)
        checks = [r for r in server.requests if "confirmed" in json.dumps(r[3])]
    assert code == 0, err
    (f,) = doc["findings"]
    assert (f["path"], f["side"], f["line"]) == ("pkg/calc.py", "RIGHT", 2)
    assert f["message"] == (
        "The return value `items[0]` became `items[1]`. Returns `items[1]`, the second item, not the first."
    )
    assert "review: the check pass left out 1 finding(s) it did not confirm on re-reading" in doc["notes"]
    assert len(checks) == 2
