"""A JSON Schema of `.reviewbot.yml`, generated from the settings' models (`settings.py`: their
types, limits and defaults) and the keys a file may set (`config.file_keys`), for editors to complete
and check the file. `python -m reviewbot.config_schema > docs/config.schema.json` writes the
published copy; a test keeps it current. Deprecated keys (`config.DEPRECATED`) are not in it: the
loader still reads them, and an editor shows them as keys to rename."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import config

_TRUSTED_ONLY = "Ignored in a repository's own file: set it with a flag, the environment or --config."


def _resolved(node: Any, defs: dict[str, Any]) -> Any:
    """`node` with its $refs replaced by their definitions, without titles, and `X | None` as X
    (a file that names a key gives it a value)."""
    if isinstance(node, list):
        return [_resolved(x, defs) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _resolved(defs[node["$ref"].rsplit("/", 1)[1]], defs)
    options = [x for x in node.get("anyOf", ()) if x != {"type": "null"}]
    if len(options) == 1 and len(node["anyOf"]) == 2:
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return _resolved({**options[0], **rest}, defs)
    return {k: _resolved(v, defs) for k, v in node.items() if k != "title"}


def _default(info: Any) -> Any:
    value = info.default
    if value is None or isinstance(value, Path):  # none, or depends on the machine
        return None
    if isinstance(value, tuple):
        return dict(value) if value and isinstance(value[0], tuple) else list(value)
    return value


def schema() -> dict[str, Any]:
    from .settings import Settings, leaves

    full = Settings.model_json_schema()
    defs = full.get("$defs", {})
    fields = leaves()
    top: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key in config.file_keys():
        node: Any = full
        for part in key.split("."):
            node = _resolved(node, defs)["properties"][part]
        prop = {k: v for k, v in _resolved(node, defs).items() if k != "default"}
        if (default := _default(fields[key])) is not None:
            prop["default"] = default
        if key in config.TRUSTED_ONLY:
            prop["description"] = _TRUSTED_ONLY
        top[key] = prop
        *heads, leaf = key.split(".")
        where = sections
        for head in heads:
            where = where.setdefault(head, {})
        if heads:
            where[leaf] = prop
    for section, props in sections.items():
        top[section] = _section(props, top)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "reviewbot configuration (.reviewbot.yml)",
        "description": "Keys may be nested under their section or written with a dot: plan.item_tokens. "
        "docs/configuration.md describes each key.",
        "type": "object",
        "properties": dict(sorted(top.items())),
        "additionalProperties": False,
    }


def _section(props: dict[str, Any], leaves: dict[str, Any]) -> dict[str, Any]:
    """A section as the file nests it; one inside another (hosts.github) is a section too."""
    inner = {
        k: v if any(v is leaf for leaf in leaves.values()) else _section(v, leaves) for k, v in props.items()
    }
    return {"type": "object", "properties": inner, "additionalProperties": False}


def dumps() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def documented_keys(markdown: str) -> set[str]:
    """The keys of docs/configuration.md's table of file keys."""
    part = markdown.split("### Keys", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([a-z_.]+)` \|", part, flags=re.M))


if __name__ == "__main__":
    print(dumps(), end="")
