"""The two repositories of tests/routes/test_routed_review.py reviewed by the real embedded model.

The model picks the route itself here, so the test does not dictate the choice: it checks that
whatever route was chosen for each item was executed and reported consistently:
- every item has a route run, with the router's probability, from the routes a git checkout allows;
- `tools`: each tool call is named in the notes; a pytest call that saw a failure gives a
  `pytest/failed` finding, on a changed line of calc.py; no tool failure is lost;
- `interpreter`: a finding of rule `interpreter/...` carrying the test's real outcome, or the item
  listed as not reviewed with the reason;
- `review`: its findings carry route `review`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("xgrammar")

from support.sandbox import require_sandbox  # noqa: E402
from test_routed_review import broken_test_repo, untested_function_repo  # noqa: E402

from reviewbot.platforms.cli import main  # noqa: E402

pytestmark = pytest.mark.model

OUTCOMES = ("passes against", "fails against", "errors against", "in the sandbox", "was ")


def review(repo: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    out, err = io.StringIO(), io.StringIO()
    flags = ["--format", "json", "--no-progress", "--fail-on", "never", "--backend", "local"]
    code = main(["review", "--git", "main..feature", "--repo", str(repo), *flags], out, err)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def check_consistent(doc: dict, changed: str) -> list[str]:
    """The checks of the module docstring; returns the routes run."""
    runs = doc["routes"]
    assert runs and all(r["item"] == changed for r in runs), runs
    assert all(r["route"] in ("review", "tools", "interpreter") for r in runs), runs
    assert all(r["probability"] is not None and 0 < r["probability"] <= 1 for r in runs), runs
    findings = doc["findings"]
    for r in runs:
        mine = [f for f in findings if f["route"] == r["route"]]
        assert len(mine) >= r["findings"] - 2, (r, findings)  # anchoring and de-duplication may drop a few
        if r["route"] == "tools":
            called = [n for n in doc["notes"] if n.startswith(f"{changed}: tools route called ")]
            skipped = [s for s in doc["not_reviewed"] if s["stage"] == "route"]
            assert called or skipped or r["findings"] == 0, doc
            for note in called:
                if note.startswith(f"{changed}: tools route called pytest") and " failed" in note:
                    assert any(f["rule"] == "pytest/failed" for f in findings), (note, findings)
        if r["route"] == "interpreter":
            mine = [f for f in findings if f["rule"].startswith("interpreter/")]
            skipped = [s for s in doc["not_reviewed"] if s["stage"] == "route"]
            assert mine or skipped, doc
            for f in mine:
                assert any(word in f["message"] for word in OUTCOMES), f
    return [r["route"] for r in runs]


def test_the_model_routes_a_test_breaking_change_and_its_choice_is_carried_out(tmp_path, monkeypatch):
    require_sandbox()
    doc = review(broken_test_repo(tmp_path / "repo"), monkeypatch)
    routes = check_consistent(doc, "calc.py")
    print("routes chosen:", routes, [r["probability"] for r in doc["routes"]])


def test_the_model_routes_an_untested_function_and_its_choice_is_carried_out(tmp_path, monkeypatch):
    require_sandbox()
    doc = review(untested_function_repo(tmp_path / "repo"), monkeypatch)
    routes = check_consistent(doc, "text.py")
    print("routes chosen:", routes, [r["probability"] for r in doc["routes"]])
