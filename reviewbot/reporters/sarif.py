"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Choices (docs/output.md says why):

- Anchored findings on the RIGHT side become results with a region (``startLine``/``endLine`` in
  the new file) and, when there is a suggestion, a ``fixes`` entry replacing those lines.
- SARIF has no "old side of a diff": a LEFT finding (on removed lines) is still a result, but its
  physical location names only the file, with no region, and the old lines go in
  ``properties.side = "LEFT"``, ``properties.oldStartLine`` and ``properties.oldEndLine``.
- Unanchored findings are not results (the anchor stage could not place them, so a viewer would
  show them on the wrong line): they are tool execution notifications with their reason.
- Skipped files and the run's notes are notifications too ("not reviewed: reason"), so a SARIF
  consumer sees what was not reviewed.
- At most ``MAX_RESULTS`` (GitHub's per-run limit) results; the rest are counted in a notification.
"""

from __future__ import annotations

import json
from typing import Any, TextIO
from urllib.parse import quote

from .. import __version__
from ..merge import fingerprint
from ..model import Finding, Result, Severity, Side
from .sarif_rules import describe

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "reviewbot/v1"
MAX_RESULTS = 25_000

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(path: str) -> str:
    return quote(path, safe="/-._~")


def _artifact(path: str) -> dict[str, Any]:
    return {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}


def _rule_descriptor(f: Finding) -> dict[str, Any]:
    return {
        "id": f.rule,
        "name": f.rule.replace("/", "-"),
        "shortDescription": {"text": f"{f.category} finding reported by {f.source} ({f.rule})"},
        "defaultConfiguration": {"level": _LEVEL[f.severity]},
        **describe(f),  # help, helpUri, properties (tags, security-severity)
    }


def _properties(f: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {"route": f.route, "category": f.category, "source": f.source}
    if f.route_probability is not None:
        props["routeProbability"] = f.route_probability
    if f.confidence is not None:
        props["confidence"] = f.confidence
    return props


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    loc = f.location
    physical: dict[str, Any] = {"artifactLocation": _artifact(loc.path)}
    props = _properties(f)
    props["side"] = loc.side.value
    if loc.side is Side.RIGHT:
        physical["region"] = {"startLine": loc.first, "endLine": loc.line}
    else:
        props["oldStartLine"] = loc.first
        props["oldEndLine"] = loc.line
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": f.message or f.rule},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f)},
        "properties": props,
    }
    if f.suggestion is not None and loc.side is Side.RIGHT:
        out["fixes"] = [
            {
                "description": {"text": "Suggested replacement"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(loc.path),
                        "replacements": [
                            {
                                "deletedRegion": {"startLine": loc.first, "endLine": loc.line},
                                "insertedContent": {"text": f.suggestion},
                            }
                        ],
                    }
                ],
            }
        ]
    return out


def _notification(text: str, level: str, path: str | None = None, **props: Any) -> dict[str, Any]:
    n: dict[str, Any] = {"level": level, "message": {"text": text}}
    if path is not None:
        n["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(path)}}]
    if props:
        n["properties"] = props
    return n


def render(result: Result) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    findings = result.findings
    for f in findings[:MAX_RESULTS]:
        if f.rule not in index:
            index[f.rule] = len(rules)
            rules.append(_rule_descriptor(f))
        results.append(_result(f, index[f.rule]))

    notes: list[dict[str, Any]] = []
    if len(findings) > MAX_RESULTS:
        notes.append(
            _notification(
                f"{len(findings) - MAX_RESULTS} more findings not included (limit {MAX_RESULTS} per run)",
                "warning",
            )
        )
    for s in result.skipped:
        notes.append(_notification(f"not reviewed: {s.reason}", "warning", s.path, stage=s.stage))
    for u in result.unanchored:
        f = u.finding
        notes.append(
            _notification(
                f"finding not placed on the diff ({u.reason}): {f.rule}: {f.message}",
                _LEVEL[f.severity],
                f.location.path,
                **_properties(f),
                side=f.location.side.value,
                line=f.location.line,
                fingerprint=fingerprint(f),
            )
        )
    for note in result.notes:
        notes.append(_notification(note, "note"))

    cs = result.changeset
    run_props: dict[str, Any] = {"source": cs.description}
    if cs.base is not None:
        run_props["base"] = cs.base
    if cs.head is not None:
        run_props["head"] = cs.head
    stats = result.stats
    run_props["backend"] = stats.backend
    if stats.model is not None:
        run_props["model"] = stats.model

    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "reviewbot",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": run_props,
            }
        ],
    }


class SarifReporter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def report(self, result: Result) -> None:
        self.out.write(json.dumps(render(result), indent=2, ensure_ascii=False) + "\n")
