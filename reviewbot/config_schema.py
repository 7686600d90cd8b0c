"""A JSON Schema of `.reviewbot.yml`, generated from the one definition of the file keys
(`config.FILE_KEYS`, their validators and `Settings`' defaults), for editors to complete and check
the file. `python -m reviewbot.config_schema > docs/config.schema.json` writes the published copy;
a test keeps it current."""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from . import config
from .model import ROUTE_NAMES

_TRUSTED_ONLY = "Ignored in a repository's own file: set it with a flag, the environment or --config."


def _type(check: Any) -> dict[str, Any]:
    """The JSON Schema of the values one validator accepts."""
    made_by = check.__qualname__.split(".")[0]
    given = inspect.getclosurevars(check).nonlocals
    if made_by == "one_of":
        return {"enum": list(given["options"])}
    if made_by in ("integer", "number"):
        kind = "integer" if made_by == "integer" else "number"
        return {"type": kind, "minimum": given["lo"], "maximum": given["hi"]}
    if made_by == "drawn_from":
        return {"type": "array", "items": {"enum": list(given["names"])}}
    simple: dict[str, dict[str, Any]] = {
        "boolean": {"type": "boolean"},
        "url": {"type": "string", "pattern": "^https?://"},
        "nonempty": {"type": "string", "minLength": 1, "pattern": r"\S"},
        "device": {"type": "string", "pattern": r"^(auto|cpu|cuda|cuda:\d+)$"},
        "path": {"type": "string", "minLength": 1},
        "globs": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "rule_codes": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]+[0-9]*$"}},
        "rule_globs": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z0-9-]+/[A-Za-z0-9_*?.-]+$"},
        },
        "pins": {"type": "object", "additionalProperties": {"enum": list(ROUTE_NAMES)}},
    }
    if made_by not in simple:
        raise ValueError(f"no JSON Schema for the validator {check.__qualname__}")
    return dict(simple[made_by])


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(config.Settings):
        value = f.default
        if value is MISSING or value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, Path):
            continue  # depends on the machine
        out[f.name] = value
    return out


def schema() -> dict[str, Any]:
    defaults = _defaults()
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    for key, (name, check) in config.FILE_KEYS.items():
        prop = _type(check)
        if name in defaults and name != "route_pins":  # pins: a mapping in the file, pairs in Settings
            prop["default"] = defaults[name]
        if key in config.TRUSTED_ONLY:
            prop["description"] = _TRUSTED_ONLY
        top[key] = prop
        section, dot, leaf = key.partition(".")
        if dot:
            sections.setdefault(section, {})[leaf] = prop
    for section, props in sections.items():
        top[section] = {"type": "object", "properties": props, "additionalProperties": False}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "reviewbot configuration (.reviewbot.yml)",
        "description": "Keys may be nested under their section or written with a dot: plan.item_tokens. "
        "docs/configuration.md describes each key.",
        "type": "object",
        "properties": dict(sorted(top.items())),
        "additionalProperties": False,
    }


def dumps() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def documented_keys(markdown: str) -> set[str]:
    """The keys of docs/configuration.md's table of file keys."""
    part = markdown.split("### Keys", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([a-z_.]+)` \|", part, flags=re.M))


if __name__ == "__main__":
    print(dumps(), end="")
