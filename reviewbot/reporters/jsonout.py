"""The JSON report: reviewbot's own data contract, documented field by field in docs/output.md.

The shape is fixed by ``result.schema.json`` (JSON Schema 2020-12, next to this module); bump
``VERSION`` on any change that is not a pure addition.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..merge import fingerprint
from ..model import Anchored, Finding, Result, RouteRun, Skipped, Stats, Unanchored

VERSION = "1"


def finding_dict(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "path": loc.path,
        "side": loc.side.value,
        "line": loc.line,
        "start_line": loc.start_line if loc.start_line is not None and loc.start_line != loc.line else None,
        "end_line": loc.line,
        "severity": f.severity.value,
        "category": f.category,
        "route": f.route,
        "route_probability": f.route_probability,
        "confidence": f.confidence,
        "rule": f.rule,
        "message": f.message,
        "suggestion": f.suggestion,
        "source": f.source,
        "fingerprint": fingerprint(f),
    }


def _anchored(a: Anchored) -> dict[str, Any]:
    return {**finding_dict(a.finding), "hunk": a.hunk, "in_added": a.in_added}


def _unanchored(u: Unanchored) -> dict[str, Any]:
    return {"finding": finding_dict(u.finding), "reason": u.reason}


def _skipped(s: Skipped) -> dict[str, Any]:
    return {"path": s.path, "reason": s.reason, "stage": s.stage}


def _route(r: RouteRun) -> dict[str, Any]:
    return {
        "item": r.item,
        "route": r.route,
        "probability": r.probability,
        "pinned": r.pinned,
        "second": r.second,
        "fallback": r.fallback,
        "findings": r.findings,
        "not_reviewed": r.not_reviewed,
        "seconds": r.seconds,
    }


def _stats(s: Stats) -> dict[str, Any]:
    return {
        "files": s.files,
        "work_items": s.work_items,
        "reviewed_items": s.reviewed_items,
        "prompt_tokens": s.prompt_tokens,
        "generated_tokens": s.generated_tokens,
        "model_seconds": s.model_seconds,
        "total_seconds": s.total_seconds,
        "backend": s.backend,
        "model": s.model,
    }


def render(result: Result) -> dict[str, Any]:
    cs = result.changeset
    return {
        "version": VERSION,
        "source": {"description": cs.description, "base": cs.base, "head": cs.head},
        "findings": [_anchored(a) for a in result.anchored],
        "unanchored": [_unanchored(u) for u in result.unanchored],
        "not_reviewed": [_skipped(s) for s in result.skipped],
        "notes": list(result.notes),
        "routes": [_route(r) for r in result.routes],
        "stats": _stats(result.stats),
    }


class JsonReporter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def report(self, result: Result) -> None:
        self.out.write(json.dumps(render(result), indent=2, ensure_ascii=False) + "\n")
