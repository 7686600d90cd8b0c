"""`--format rdjson`: reviewdog's Diagnostic Format, validated against reviewdog's own schema
(tests/data/reviewdog-rdjson.schema.json, see docs/output.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from support.samples import empty, finding, sample, with_findings

from reviewbot import compose
from reviewbot.model import Severity, Side
from reviewbot.reporters.rdjson import render

SCHEMA = json.loads((Path(__file__).parents[1] / "data/reviewdog-rdjson.schema.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)


def _strict(schema: dict) -> dict:
    """The schema with `additionalProperties: false` everywhere, so a misspelt key fails too."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("additionalProperties") is True and "properties" in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


STRICT = jsonschema.Draft4Validator(_strict(SCHEMA))


@pytest.mark.parametrize(
    "result",
    [
        sample(),
        empty(),
        with_findings([finding(side=Side.LEFT, suggestion="x")]),
        with_findings([finding(start=9, suggestion="y = 1\n", severity=Severity.ERROR)]),
    ],
    ids=["sample", "empty", "left", "suggestion"],
)
def test_validates_against_reviewdogs_schema(result) -> None:
    doc = render(result)
    for validator in (VALIDATOR, STRICT):
        errors = sorted(validator.iter_errors(doc), key=str)
        assert not errors, errors[0]
    assert len(doc["diagnostics"]) == len(result.findings)


def test_fields() -> None:
    doc = render(with_findings([finding(start=9, suggestion="y = 1\n", severity=Severity.ERROR)]))
    (d,) = doc["diagnostics"]
    assert doc["source"] == {"name": "reviewbot"}
    assert d["location"] == {"path": "src/app.py", "range": {"start": {"line": 9}, "end": {"line": 11}}}
    assert d["severity"] == "ERROR" and d["code"] == {"value": "model/bug"}
    assert d["suggestions"] == [{"range": d["location"]["range"], "text": "y = 1\n"}]
    (left,) = render(with_findings([finding(side=Side.LEFT, suggestion="x")]))["diagnostics"]
    assert "range" not in left["location"] and "suggestions" not in left
    assert "old file" in left["message"]


def test_the_format_flag_reaches_it() -> None:
    out = io.StringIO()
    compose.reporter("rdjson", out, color=False).report(sample())
    assert not sorted(VALIDATOR.iter_errors(json.loads(out.getvalue())), key=str)
