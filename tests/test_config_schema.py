"""The published JSON Schema of `.reviewbot.yml` (docs/config.schema.json): current, the same keys as
docs/configuration.md's table, and in agreement with the config loader on good and bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from reviewbot import config
from reviewbot.config_schema import documented_keys, dumps, schema
from reviewbot.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs/configuration.md").read_text(encoding="utf-8")
VALIDATOR = jsonschema.Draft7Validator(schema())


def test_the_published_copy_is_current() -> None:
    published = (REPO / "docs/config.schema.json").read_text(encoding="utf-8")
    assert published == dumps(), "run: python -m reviewbot.config_schema > docs/config.schema.json"
    jsonschema.Draft7Validator.check_schema(json.loads(published))


def test_the_docs_table_has_the_schemas_keys() -> None:
    dotted = {k for k, v in schema()["properties"].items() if "." in k or v.get("type") != "object"}
    assert documented_keys(DOC) == dotted == set(config.FILE_KEYS)


def test_the_docs_example_is_valid() -> None:
    example = re.search(r"### Example\s+```yaml\n(.*?)```", DOC, flags=re.S)
    assert example
    assert not list(VALIDATOR.iter_errors(yaml.safe_load(example.group(1))))
    config.parse_text(example.group(1), "example")


def test_the_docs_defaults_match() -> None:
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| [^|]+ \| `([^`|]+)` \|", DOC, flags=re.M))
    for key, prop in schema()["properties"].items():
        if key in rows and "default" in prop and not isinstance(prop["default"], list):
            assert rows[key] == str(prop["default"]).lower().removesuffix(".0"), key


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("plan:\n  item_tokens: 800\n", True),
        ("plan.item_tokens: 800\n", True),
        ("routes:\n  pin: {'docs/*': review}\n", True),
        ("model.device: cuda:1\nlint.linters: [ruff]\n", True),
        ("plan:\n  item_token: 800\n", False),
        ("plan.item_tokens: 50\n", False),
        ("backend: gpt4\n", False),
        ("lint.linters: [pylint]\n", False),
        ("routes.calibrate: 'yes'\n", False),
        ("model.device: tpu\n", False),
    ],
)
def test_schema_and_loader_agree(text: str, ok: bool) -> None:
    schema_ok = not list(VALIDATOR.iter_errors(yaml.safe_load(text)))
    try:
        config.parse_text(text, "t")
        loader_ok = True
    except ConfigError:
        loader_ok = False
    assert schema_ok == loader_ok == ok
