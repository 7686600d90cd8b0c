from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from support.samples import empty, finding, sample, with_findings

from reviewbot.merge import fingerprint
from reviewbot.model import Side
from reviewbot.reporters.jsonout import JsonReporter, render

SCHEMA = json.loads((Path(__file__).parents[2] / "reviewbot/reporters/result.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "result",
    [
        sample(),
        empty(),
        with_findings([finding(suggestion="x = 1\n```\n", probability=None)]),
        with_findings([finding(message="ünïcode ✓ <b>", side=Side.LEFT)]),
    ],
    ids=["sample", "empty", "suggestion", "unicode-left"],
)
def test_output_validates(result) -> None:
    VALIDATOR.validate(render(result))


def test_reporter_writes_indented_json_and_newline() -> None:
    out = io.StringIO()
    JsonReporter(out).report(sample())
    text = out.getvalue()
    assert text.endswith("}\n") and text.startswith('{\n  "version": "1"')
    VALIDATOR.validate(json.loads(text))


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (
            0,
            {
                "line": 12,
                "start_line": 11,
                "end_line": 12,
                "side": "RIGHT",
                "severity": "error",
                "suggestion": "    return x + 1",
                "route_probability": 0.87,
                "source": "model",
                "hunk": 0,
                "in_added": True,
            },
        ),
        (
            1,
            {
                "line": 11,
                "start_line": None,
                "end_line": 11,
                "rule": "ruff/F841",
                "route": "lint",
                "route_probability": None,
                "suggestion": None,
                "source": "ruff",
            },
        ),
        (2, {"side": "LEFT", "severity": "info", "in_added": False}),
        (3, {"path": "docs/my file.py", "category": "bug"}),
    ],
)
def test_finding_fields(index, expected) -> None:
    got = render(sample())["findings"][index]
    assert {k: got[k] for k in expected} == expected
    assert got["fingerprint"] == fingerprint(sample().findings[index])


def test_single_line_range_has_null_start_line() -> None:
    got = render(with_findings([finding(line=7, start=7)]))["findings"][0]
    assert got["start_line"] is None and got["end_line"] == 7


def test_top_level_sections() -> None:
    doc = render(sample())
    assert doc["source"] == {"description": "git main..HEAD", "base": "abc123", "head": "def456"}
    assert doc["not_reviewed"] == [
        {"path": "assets/logo.png", "reason": "binary file", "stage": "plan"},
        {"path": "big.py", "reason": "over the token budget (12000 > 8000 tokens)", "stage": "plan"},
    ]
    assert doc["unanchored"][0]["reason"] == "outside any hunk"
    assert doc["unanchored"][0]["finding"]["line"] == 40
    assert doc["notes"] == ["model ran on the CPU; context limited to 4096 tokens"]
    assert doc["stats"]["model"] == "Qwen2.5-Coder-0.5B" and doc["stats"]["total_seconds"] == 4.25


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda d: d["findings"][0].pop("fingerprint"), "missing field"),
        (lambda d: d["findings"][0].update(side="BOTH"), "bad side"),
        (lambda d: d["findings"][0].update(extra=1), "unknown field"),
        (lambda d: d["unanchored"][0]["finding"].update(hunk=0), "anchor field on an unanchored finding"),
        (lambda d: d.update(version="2"), "wrong version"),
        (lambda d: d["not_reviewed"][0].pop("reason"), "skip without a reason"),
    ],
)
def test_schema_rejects(mutate, why) -> None:
    doc = render(sample())
    mutate(doc)
    assert not VALIDATOR.is_valid(doc), why
