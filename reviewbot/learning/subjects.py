"""What a finding is about, in the terms learning compares: rule, change fact kind, path, message,
the commented line's code and the judge's confidence."""

from __future__ import annotations

from collections.abc import Iterable

from ..facts import facts_at, facts_for_hunk
from ..model import FileDiff, Finding, Hunk, Line
from ..routes.review_comment import LAYOUT
from .signals import Subject


def line_of(files: Iterable[FileDiff], finding: Finding) -> tuple[Hunk, Line] | None:
    """The hunk and the diff line a finding stands on, if the diff shows it."""
    loc = finding.location
    for fd in files:
        if loc.path not in (fd.new_path, fd.old_path):
            continue
        for h in fd.hunks:
            for ln in h.lines:
                if ln.side is loc.side and ln.number == loc.line:
                    return h, ln
    return None


def fact_kind(hunk: Hunk, line: Line, path: str) -> str:
    """The kind of the change fact about ``line`` (one that changes code before a layout one)."""
    facts = facts_at(facts_for_hunk(hunk, path), line)
    code = [f for f in facts if f.kind not in LAYOUT]
    return (code or facts)[0].kind if facts else ""


def subject_of(finding: Finding, files: Iterable[FileDiff]) -> Subject:
    found = line_of(files, finding)
    path = finding.location.path
    kind, code = (fact_kind(found[0], found[1], path), found[1].text.strip()) if found else ("", "")
    return Subject(finding.rule, kind, path, finding.message, code, finding.confidence)
