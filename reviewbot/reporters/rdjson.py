"""reviewdog's Diagnostic Format (``--format rdjson``): one ``DiagnosticResult`` that
``reviewdog -f=rdjson`` reads (schema: reviewdog's ``proto/rdf/jsonschema/DiagnosticResult.json``).

- One diagnostic per anchored finding. Positions are lines of the new file, so a LEFT-side finding
  (on removed lines) names its file with no range, and its message gives the old lines.
- A suggestion on the RIGHT side replaces the finding's whole lines (a range of lines, no columns).
- Unanchored findings and skipped files are not diagnostics: reviewdog would place them on lines
  they do not belong to (the JSON and SARIF formats list them).
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..model import Finding, Result, Severity, Side
from .sarif_rules import help_uri

_SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


def _diagnostic(f: Finding) -> dict[str, Any]:
    loc = f.location
    lines = {"start": {"line": loc.first}, "end": {"line": loc.line}}
    message = f.message or f.rule
    location: dict[str, Any] = {"path": loc.path}
    if loc.side is Side.RIGHT:
        location["range"] = lines
    else:
        message += f" (removed lines {loc.first}-{loc.line} of the old file)"
    code: dict[str, Any] = {"value": f.rule}
    if (url := help_uri(f)) is not None:
        code["url"] = url
    d: dict[str, Any] = {
        "message": message,
        "location": location,
        "severity": _SEVERITY[f.severity],
        "source": {"name": f.source},
        "code": code,
    }
    if f.suggestion is not None and loc.side is Side.RIGHT:
        d["suggestions"] = [{"range": lines, "text": f.suggestion}]
    return d


def render(result: Result) -> dict[str, Any]:
    return {
        "source": {"name": "reviewbot"},
        "diagnostics": [_diagnostic(f) for f in result.findings],
    }


class RdjsonReporter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def report(self, result: Result) -> None:
        self.out.write(json.dumps(render(result), indent=2, ensure_ascii=False) + "\n")
