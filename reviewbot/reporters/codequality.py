"""The Code Climate JSON that GitLab reads from ``artifacts:reports:codequality``.

GitLab's documented format: a JSON array of issues, each with ``description``, ``check_name``,
``fingerprint`` (unique per issue), ``severity`` (``info``, ``minor``, ``major``, ``critical``,
``blocker``) and ``location`` with ``path`` and ``lines.begin``.

- Anchored findings on new lines give ``lines.begin``/``lines.end`` in the new file.
- A finding on removed lines has no line in the new file: it is placed on line 1 of its file and
  its description says which old lines it is about.
- Unanchored findings (the anchor stage could not place them) are left out: the summary lists them.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..merge import fingerprint
from ..model import Result, Severity, Side

__all__ = ["CodeQualityReporter", "render"]

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(result: Result) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for a in result.anchored:
        f = a.finding
        loc = f.location
        fp = fingerprint(f)
        if fp in seen:
            continue
        seen.add(fp)
        description = " ".join(f.message.split())
        lines: dict[str, int] = {"begin": loc.first}
        if loc.side is Side.LEFT:
            old = f"{loc.first}-{loc.line}" if loc.first != loc.line else str(loc.line)
            description = f"(removed lines {old}) {description}"
            lines = {"begin": 1}
        elif loc.line != loc.first:
            lines["end"] = loc.line
        out.append(
            {
                "description": description,
                "check_name": f.rule,
                "fingerprint": fp,
                "severity": SEVERITY[f.severity],
                "location": {"path": loc.path, "lines": lines},
            }
        )
    return out


class CodeQualityReporter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def report(self, result: Result) -> None:
        self.out.write(json.dumps(render(result), indent=2, ensure_ascii=False) + "\n")
