"""The same review pipeline through the `openai` backend, against the vLLM-like stand-in server."""

from __future__ import annotations

from pathlib import Path

from support.cli_json import review_diff
from support.openai_standin import StandIn, minimal_instance

DIFF = """\
diff --git a/app/total.py b/app/total.py
--- a/app/total.py
+++ b/app/total.py
@@ -1,5 +1,5 @@
 def total(items):
     result = 0
-    result = sum(items)
+    result = accumulate_every_single_item_of_the_sequence_with_a_helper_nobody_defined(items)
     return result
 
"""


def answer(schema):
    if "findings" not in schema.get("properties", {}):  # the backend's own structured-output probe
        return minimal_instance(schema)
    return {
        "findings": [
            {
                "row": 3,
                "severity": "error",
                "category": "bug",
                "message": "The helper called here is not defined anywhere.",
                "code": "result = sum(items)",
                "suggestion": None,
            }
        ]
    }


def test_review_through_an_openai_compatible_server(tmp_path: Path) -> None:
    with StandIn(json_answer=answer) as server:
        code, doc, err = review_diff(
            tmp_path,
            DIFF,
            "--backend",
            "openai",
            "--base-url",
            server.url,
            "--fail-on",
            "never",
            "--strategy",
            "likelihood",
        )
        assert code == 0, err
        assert doc["not_reviewed"] == [], doc["not_reviewed"]
        paths = server.paths()
    assert "review strategy: likelihood (review.strategy)" in doc["notes"]
    assert doc["stats"]["backend"] == "openai" and doc["stats"]["model"] == "standin-model"
    # the judge scored both versions (prompt logprobs) and the comment was generated under the schema
    assert any(p.endswith("/chat/completions") for p in paths)
    (f,) = doc["findings"]
    # the model named the removed row (R3); the comment lands on its replacement, the new line 3
    assert (f["path"], f["side"], f["line"], f["route"]) == ("app/total.py", "RIGHT", 3, "review")
    # the comment opens with what the change did; the model's sentence names no token the change
    # adds or removes, so it is left out (not grounded)
    assert f["message"].startswith("Another function is called: `sum(items)` became"), f["message"]
    assert "The helper" not in f["message"]


def test_server_down_degrades_instead_of_exiting_5(tmp_path: Path) -> None:
    """A server that stays down no longer ends the review: the items are listed as not reviewed
    and a note says what happened (tests/backends/test_openai_degraded.py covers each fault)."""
    code, doc, err = review_diff(
        tmp_path, DIFF, "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-model", "m"
    )
    assert code == 0, err
    assert [s["stage"] for s in doc["not_reviewed"]] == ["model"]
    assert "ConnectError" in doc["not_reviewed"][0]["reason"]
    assert any(n.startswith("model degraded: openai backend (m)") for n in doc["notes"])


def test_wrong_model_name_is_a_one_line_model_error_not_a_silent_review(tmp_path: Path) -> None:
    with StandIn() as server:
        code, _, err = review_diff(
            tmp_path, DIFF, "--backend", "openai", "--base-url", server.url, "--api-model", "no-such-model"
        )
    assert code == 5
    assert err.count("\n") == 1 and "HTTP 404" in err and "does not exist" in err
