"""Where the truth lines are and whether a finding catches one.

The diff is walked here on purpose, independently of `reviewbot.diff`: the scorer must not share
the code it scores, so a parser bug cannot make a wrong finding look right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reviewbot.model import Finding, Location, Severity, Side

from .cases import TruthLine

NEAR = 3  # a finding within this many lines of a truth line catches it
RemovalMap = Mapping[tuple[str, int], int]


# ---------------------------------------------------------------------------------------- diff walk

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _strip_prefix(name: str) -> str | None:
    name = name.split("\t", 1)[0].rstrip("\r")
    if name == "/dev/null":
        return None
    if name.startswith('"') and name.endswith('"') and len(name) >= 2:
        name = name[1:-1]
    if name[:2] in ("a/", "b/"):
        name = name[2:]
    return name


@dataclass(frozen=True, slots=True)
class _DiffLine:
    old_path: str | None
    new_path: str | None
    kind: str  # "+", "-", " "
    old_no: int | None
    new_no: int | None
    at_new: int  # for removed lines: the new-file line where the removal sits


def _walk(diff_text: str) -> Iterable[_DiffLine]:
    """Yield every hunk line of a plain (git) unified diff with its old and new numbers.

    Hunk bodies are read by their header counts, so a removed line that starts with ``--`` is
    never taken for a file header.  ``\\ No newline at end of file`` markers are skipped.
    """
    old_path: str | None = None
    new_path: str | None = None
    old_left = new_left = 0
    old_no = new_no = 0
    # split on "\n" only: str.splitlines would also split at form feeds inside source lines
    for raw in diff_text.split("\n"):
        raw = raw.removesuffix("\r")
        if old_left > 0 or new_left > 0:
            if raw.startswith("\\"):
                continue
            tag = raw[:1] or " "  # an empty line in a hunk is a context line that lost its space
            if tag == "+":
                yield _DiffLine(old_path, new_path, "+", None, new_no, new_no)
                new_no += 1
                new_left -= 1
                continue
            if tag == "-":
                yield _DiffLine(old_path, new_path, "-", old_no, None, new_no)
                old_no += 1
                old_left -= 1
                continue
            if tag == " ":
                yield _DiffLine(old_path, new_path, " ", old_no, new_no, new_no)
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
                continue
            old_left = new_left = 0  # a hunk shorter than its header says: read this line as a header
        if raw.startswith("diff --git "):
            old_path = new_path = None
        elif raw.startswith("--- "):
            old_path = _strip_prefix(raw[4:])
        elif raw.startswith("+++ "):
            new_path = _strip_prefix(raw[4:])
        elif raw.startswith("@@"):
            m = _HUNK.match(raw)
            if m is None:
                continue
            o_start, o_len = int(m.group(1)), int(m.group(2) or "1")
            n_start, n_len = int(m.group(3)), int(m.group(4) or "1")
            # With a length of 0 the start names the line *before* the (empty) range.
            old_no = o_start if o_len else o_start + 1
            new_no = n_start if n_len else n_start + 1
            old_left, new_left = o_len, n_len


def removal_points(diff_text: str) -> dict[tuple[str, int], int]:
    """Map ``(path, old_line)`` of every removed line to the new-file line where it was removed.

    That is the new number of the first line after the removed block in its hunk (an added line
    replacing it, or the following context line); at the end of a hunk, the line after the hunk.
    The key uses the old path, and the new path too when the file was renamed.
    """
    out: dict[tuple[str, int], int] = {}
    for dl in _walk(diff_text):
        if dl.kind != "-" or dl.old_no is None:
            continue
        for p in {dl.old_path, dl.new_path}:
            if p is not None:
                out[(p, dl.old_no)] = dl.at_new
    return out


def added_lines(diff_text: str) -> list[tuple[str, int]]:
    """``(path, new_line)`` of every added line, in diff order."""
    return [
        (dl.new_path, dl.new_no)
        for dl in _walk(diff_text)
        if dl.kind == "+" and dl.new_path is not None and dl.new_no is not None
    ]


# ------------------------------------------------------------------------------------------ catching


def counts(finding: Finding) -> bool:
    """Only findings that claim a defect count: severity warning or above."""
    return finding.severity.rank >= Severity.WARNING.rank


def _near(loc: Location, target: int) -> bool:
    lo, hi = sorted((loc.first, loc.line))
    gap = 0 if lo <= target <= hi else min(abs(lo - target), abs(hi - target))
    return gap <= NEAR


def hits(loc: Location, truth: TruthLine, removal_map: RemovalMap) -> bool:
    """Whether one finding location satisfies the catch rule for one truth line."""
    if loc.path != truth.path:
        return False
    if truth.side == "new":
        return loc.side is Side.RIGHT and _near(loc, truth.line)
    if loc.side is Side.LEFT:
        return _near(loc, truth.line)
    at = removal_map.get((truth.path, truth.line))
    return at is not None and _near(loc, at)


def _locations(findings: Iterable[Finding | Location]) -> list[Location]:
    """Counted locations: Findings are filtered by severity, bare Locations are taken as counted."""
    out: list[Location] = []
    for f in findings:
        if isinstance(f, Location):
            out.append(f)
        elif counts(f):
            out.append(f.location)
    return out


def caught(
    finding_locs: Iterable[Finding | Location], truth: Sequence[TruthLine], removed_to_new_map: RemovalMap
) -> bool:
    """Whether a bug case is caught.  Findings below warning are ignored; bare Locations count."""
    locs = _locations(finding_locs)
    return any(hits(loc, t, removed_to_new_map) for loc in locs for t in truth)


# ------------------------------------------------------------------------------------- statistics
