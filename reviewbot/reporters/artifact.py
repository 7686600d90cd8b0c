"""Read a JSON report (``jsonout``) back, as untrusted input: the artifact a fork's job hands the
trusted job that posts its findings.

Only the fields a finding needs are read, each type- and size-checked; fingerprints, anchors,
markers and bodies are NOT taken from it: the publisher recomputes all of them, and ``reanchor``
places every finding afresh on the diff the publisher fetched itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..diff import DiffIndex, anchor_all
from ..errors import InputError
from ..model import Finding, Location, Result, Severity, Side

__all__ = ["MAX_ARTIFACT_BYTES", "MAX_ARTIFACT_FINDINGS", "reanchor", "untrusted_findings"]

MAX_ARTIFACT_BYTES = 5 * 1024 * 1024
MAX_ARTIFACT_FINDINGS = 2000


def untrusted_findings(data: bytes) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    """Findings from a fork job's artifact (reviewbot's JSON report), treated as untrusted input.

    Only the fields a finding needs are read, each type- and size-checked; fingerprints, anchors,
    markers and bodies are NOT taken from it: the publisher recomputes all of them and re-anchors
    every finding on the diff it fetches itself. Returns the report's ``source`` and the findings.
    """
    if len(data) > MAX_ARTIFACT_BYTES:
        raise InputError(f"findings artifact larger than the {MAX_ARTIFACT_BYTES // (1024 * 1024)} MB limit")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"findings artifact is not JSON: {exc}"[:200]) from exc
    if not isinstance(doc, dict) or doc.get("version") != "1":
        raise InputError("findings artifact is not a reviewbot JSON report (version 1)")
    found, unplaced = doc.get("findings") or [], doc.get("unanchored") or []
    if not isinstance(found, list) or not isinstance(unplaced, list):  # found by bench/fuzz.py --atheris
        raise InputError("findings artifact: 'findings' and 'unanchored' must be lists")
    raw = list(found) + [u.get("finding") for u in unplaced if isinstance(u, dict)]
    if len(raw) > MAX_ARTIFACT_FINDINGS:
        raise InputError(
            f"findings artifact holds {len(raw)} findings, over the {MAX_ARTIFACT_FINDINGS} limit"
        )
    out: list[Finding] = []
    for i, r in enumerate(raw):
        try:
            side = Side(r["side"])
            line = r["line"]
            start = r.get("start_line")
            ok = (
                isinstance(r["path"], str)
                and 0 < len(r["path"]) <= 4096
                and "\0" not in r["path"]
                and isinstance(line, int)
                and not isinstance(line, bool)
                and 0 < line < 10_000_000
                and (
                    start is None
                    or (isinstance(start, int) and not isinstance(start, bool) and 0 < start <= line)
                )
                and isinstance(r["message"], str)
                and isinstance(r["rule"], str)
                and len(r["rule"]) <= 200
                and (r.get("suggestion") is None or isinstance(r["suggestion"], str))
            )
            if not ok:
                raise ValueError("bad field")
            f = Finding(
                location=Location(r["path"], side, line, start),
                severity=Severity(r["severity"]),
                message=r["message"][:10_000],
                rule=r["rule"],
                route=str(r.get("route") or "review")[:40],
                category=str(r.get("category") or "bug")[:40],
                suggestion=r.get("suggestion"),
                source=str(r.get("source") or "model")[:40],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"findings artifact: finding {i} is malformed ({exc})") from exc
        out.append(f)
    source = doc.get("source") if isinstance(doc.get("source"), dict) else {}
    return source, tuple(out)


def reanchor(findings: Iterable[Finding], result: Result) -> Result:
    """``result`` with ``findings`` placed afresh on its change's diff (for untrusted findings)."""
    anchored, unanchored = anchor_all(findings, DiffIndex(result.changeset.files))
    return replace(result, anchored=anchored, unanchored=unanchored)
