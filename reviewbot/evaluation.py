"""Score review findings against the review-bugs cases, exactly as shared/data/README.md says.

Pure: no model, no CLI, standard library plus :mod:`reviewbot.model`.  The flow is

    load_cases(dir, limit=, seed=) -> [Case]
    (run the bot on each case's change.diff elsewhere) -> [(Case, findings, error)]
    score(case_results) -> Scores          # also score(baseline_results(cases, ...)) for the baselines
    format_report(bot, none, every, ...) -> str   /   to_json(...) -> dict

Scoring rule (README, "Scoring (use exactly this, so numbers compare)"):

* A finding is ``(path, side, line)``; a range counts by any line in it.  Only findings of severity
  warning or above count; info findings are ignored everywhere (catching, flagging, precision).
* A bug case is *caught* when a counted finding's path equals a truth line's path and one of its
  lines is within 3 of that truth line.  For ``new``-side truth the finding must be on the new side
  (``Side.RIGHT``).  For ``old``-side truth: an old-side finding (``Side.LEFT``) within 3 of the old
  line, or a new-side finding within 3 of the new-file line where the code was removed (see
  :func:`removal_points`).
* A clean case is *flagged* when it gets any counted finding.
* recall = caught bug cases / bug cases; clean flag rate = flagged clean cases / clean cases;
  detection = recall - clean flag rate (Youden's J), the headline.  Precision = hitting counted
  findings / counted findings on bug cases (a finding *hits* when it satisfies the catch rule for
  some truth line of its case); findings per clean case = counted findings on clean cases / clean
  cases.
* Every proportion carries its count and a Wilson 95% score interval; detection carries Newcombe's
  hybrid score interval for a difference of two independent proportions (method 10), built from
  the two Wilson intervals.  (The bug and clean cases are twins, so the two proportions are in
  truth paired; the independent interval is what we print, and it is named in the report.)
* A case whose pipeline run errored counts as having no findings, and is listed.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from reviewbot.errors import InputError, UsageError
from reviewbot.model import Finding, Location, Severity, Side

Z95 = 1.959964
NEAR = 3  # a finding within this many lines of a truth line catches it
DETECTION_METHOD = "Newcombe hybrid score (method 10), from the two Wilson intervals, as if independent"
SAMPLING = "random.Random(seed).shuffle of the bug/clean pairs sorted by name, first N taken"

CaseKind = Literal["bug", "clean"]
RemovalMap = Mapping[tuple[str, int], int]


# --------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True, slots=True)
class TruthLine:
    path: str
    side: Literal["new", "old"]
    line: int


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    kind: CaseKind
    path: Path  # the case folder
    diff_path: Path  # path / "change.diff"
    truth: tuple[TruthLine, ...]  # empty for clean cases

    @property
    def pair(self) -> str:
        """The name shared with the twin: ``pandas-12`` for ``pandas-12-bug`` and ``pandas-12-clean``."""
        return _pair_key(self.id)

    def diff_text(self) -> str:
        return self.diff_path.read_text(encoding="utf-8", errors="replace")


def _pair_key(case_id: str) -> str:
    for suffix in ("-bug", "-clean"):
        if case_id.endswith(suffix):
            return case_id[: -len(suffix)]
    return case_id


def _read_case(folder: Path) -> Case:
    truth_path = folder / "truth.json"
    where = str(truth_path)
    try:
        data = json.loads(truth_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {where}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed {where}: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise InputError(f"malformed {where}: expected a JSON object")
    kind = data.get("kind")
    if kind not in ("bug", "clean"):
        raise InputError(f'malformed {where}: \'kind\' must be "bug" or "clean", got {kind!r}')
    case_id = data.get("id", folder.name)
    if not isinstance(case_id, str) or not case_id:
        raise InputError(f"malformed {where}: 'id' must be a non-empty string")
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list):
        raise InputError(f"malformed {where}: 'lines' must be a list")
    truth: list[TruthLine] = []
    for i, item in enumerate(raw_lines):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and item.get("side") in ("new", "old")
            and isinstance(item.get("line"), int)
            and not isinstance(item.get("line"), bool)
            and item["line"] > 0
        ):
            raise InputError(
                f"malformed {where}: lines[{i}] must be {{path: str, side: new|old, line: int > 0}}"
            )
        truth.append(TruthLine(item["path"], item["side"], item["line"]))
    if kind == "bug" and not truth:
        raise InputError(f"malformed {where}: a bug case needs at least one truth line")
    return Case(id=case_id, kind=kind, path=folder, diff_path=folder / "change.diff", truth=tuple(truth))


def load_cases(cases_dir: Path, *, limit: int | None = None, seed: int = 0) -> list[Case]:
    """Read every subfolder of ``cases_dir`` holding ``change.diff`` and ``truth.json``.

    Without ``limit`` every case is returned.  With ``limit=N``, N *pairs* are drawn: a pair is a
    ``<project>-<n>-bug`` case and its ``<project>-<n>-clean`` twin, which always travel together,
    so ``limit=40`` gives 40 bug + 40 clean cases (the README's yardsticks are on "40+40 public
    pairs (seed 0)").  The draw: the pair names of the complete pairs, sorted as plain strings, are
    shuffled with ``random.Random(seed).shuffle`` and the first N taken.  So with one seed a
    smaller limit is always a subset of a larger one.  Cases without a twin are left out of a
    limited draw; when N is at least the number of complete pairs, all of them are taken.  (On the
    public review-bugs folder, limit 40 seed 0 gives "every added line" a detection of -0.150, the
    README's yardstick figure; the README does not say how it drew its sample.)

    The result is ordered by pair name, bug before clean, whatever the draw order: the same
    folder, limit and seed always give the same list.
    """
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise InputError(f"cases folder not found: {cases_dir}")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    folders = sorted(
        p
        for p in cases_dir.iterdir()
        if p.is_dir() and (p / "change.diff").is_file() and (p / "truth.json").is_file()
    )
    if not folders:
        raise InputError(f"no cases (folders with change.diff and truth.json) in {cases_dir}")
    cases = [_read_case(f) for f in folders]
    by_pair: dict[str, dict[str, Case]] = {}
    for c in cases:
        by_pair.setdefault(c.pair, {})[c.kind] = c
    order = {"bug": 0, "clean": 1}
    if limit is None:
        return sorted(cases, key=lambda c: (c.pair, order[c.kind], c.id))
    complete = sorted(k for k, v in by_pair.items() if "bug" in v and "clean" in v)
    if not complete:
        raise InputError(f"no bug/clean pairs in {cases_dir} to draw --limit {limit} from")
    shuffled = list(complete)
    random.Random(seed).shuffle(shuffled)
    chosen = shuffled[:limit]
    out: list[Case] = []
    for key in sorted(chosen):
        out.extend((by_pair[key]["bug"], by_pair[key]["clean"]))
    return out


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


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for p1 - p2, two independent proportions."""
    if n1 <= 0 or n2 <= 0:
        return (-1.0, 1.0)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (max(-1.0, lo), min(1.0, hi))


@dataclass(frozen=True, slots=True)
class Proportion:
    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)


@dataclass(frozen=True, slots=True)
class Scores:
    recall: Proportion  # caught bug cases / bug cases
    clean_flag_rate: Proportion  # flagged clean cases / clean cases
    precision: Proportion  # hitting counted findings / counted findings on bug cases
    clean_findings: int  # counted findings on clean cases
    errored: tuple[tuple[str, str], ...] = ()  # (case id, error) of runs that failed

    @property
    def n_bug(self) -> int:
        return self.recall.n

    @property
    def n_clean(self) -> int:
        return self.clean_flag_rate.n

    @property
    def detection(self) -> float | None:
        if not self.n_bug or not self.n_clean:
            return None
        # exact difference, then one rounding: 32/40 - 38/40 is -0.15, not -0.1499999999999999
        return float(Fraction(self.recall.k, self.n_bug) - Fraction(self.clean_flag_rate.k, self.n_clean))

    @property
    def detection_interval(self) -> tuple[float, float]:
        return newcombe(self.recall.k, self.recall.n, self.clean_flag_rate.k, self.clean_flag_rate.n)

    @property
    def findings_per_clean(self) -> float | None:
        return self.clean_findings / self.n_clean if self.n_clean else None


CaseResult = tuple[Case, Sequence[Finding], "str | None"]


def score(case_results: Iterable[CaseResult]) -> Scores:
    """Score ``(case, findings, error)`` triples; an errored case counts as having no findings."""
    n_bug = n_clean = caught_n = flagged = hit_findings = bug_findings = clean_findings = 0
    errored: list[tuple[str, str]] = []
    for case, findings, error in case_results:
        if error is not None:
            errored.append((case.id, error))
            findings = ()
        counted = [f for f in findings if counts(f)]
        if case.kind == "clean":
            n_clean += 1
            flagged += bool(counted)
            clean_findings += len(counted)
            continue
        n_bug += 1
        rmap = removal_points(case.diff_text()) if any(t.side == "old" for t in case.truth) else {}
        hitting = [f for f in counted if any(hits(f.location, t, rmap) for t in case.truth)]
        caught_n += bool(hitting)
        hit_findings += len(hitting)
        bug_findings += len(counted)
    return Scores(
        recall=Proportion(caught_n, n_bug),
        clean_flag_rate=Proportion(flagged, n_clean),
        precision=Proportion(hit_findings, bug_findings),
        clean_findings=clean_findings,
        errored=tuple(errored),
    )


# --------------------------------------------------------------------------------------- baselines


def every_added_line_findings(diff_text: str) -> tuple[Finding, ...]:
    """The baseline reviewer: a warning on every added line of every file (none without any)."""
    return tuple(
        Finding(
            location=Location(path, Side.RIGHT, line),
            severity=Severity.WARNING,
            message="baseline: every added line",
            rule="baseline/every-added-line",
            route="baseline",
            source="baseline",
        )
        for path, line in added_lines(diff_text)
    )


def baseline_results(cases: Iterable[Case]) -> tuple[list[CaseResult], list[CaseResult]]:
    """``(no findings, every added line)`` case results for the same cases, from the diffs alone."""
    none: list[CaseResult] = []
    every: list[CaseResult] = []
    for c in cases:
        none.append((c, (), None))
        every.append((c, every_added_line_findings(c.diff_text()), None))
    return none, every


def baselines(cases: Sequence[Case]) -> tuple[Scores, Scores]:
    """Scores of "no findings" and "a finding on every added line", through the same scorer."""
    none, every = baseline_results(cases)
    return score(none), score(every)


# ------------------------------------------------------------------------------------------ report

COLUMNS = ("bot", "no findings", "every added line")
ROWS = ("detection", "recall", "clean flag rate", "precision", "findings/clean case")


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _prop_cell(p: Proportion) -> str:
    lo, hi = p.interval
    return f"{_num(p.value)} ({p.k}/{p.n}) [{lo:.2f}, {hi:.2f}]"


def _cells(s: Scores) -> list[str]:
    lo, hi = s.detection_interval
    det = (
        f"{_num(s.detection)} ({s.recall.k}/{s.n_bug}-{s.clean_flag_rate.k}/{s.n_clean}) [{lo:.2f}, {hi:.2f}]"
    )
    fpc = f"{_num(s.findings_per_clean)} ({s.clean_findings}/{s.n_clean})"
    return [det, _prop_cell(s.recall), _prop_cell(s.clean_flag_rate), _prop_cell(s.precision), fpc]


def format_report(
    scores_bot: Scores,
    scores_none: Scores,
    scores_every: Scores,
    *,
    seed: int,
    limit: int | None,
    n_cases: int,
    seconds: float,
) -> str:
    """A fixed-width table: metrics down, bot and the two baselines across."""
    drawn = f"{limit} pairs drawn by {SAMPLING}, seed {seed}" if limit is not None else "all cases"
    lines = [
        f"review-bugs: {n_cases} cases ({scores_bot.n_bug} bug + {scores_bot.n_clean} clean); {drawn}",
        f"bot run time {seconds:.1f} s ({seconds / n_cases:.1f} s per case)" if n_cases else "no cases",
        "cells: value (count) [Wilson 95% interval]; detection = recall - clean flag rate,",
        f"  interval: {DETECTION_METHOD}",
        "",
    ]
    table = [["metric", *COLUMNS]]
    cols = [_cells(scores_bot), _cells(scores_none), _cells(scores_every)]
    for i, name in enumerate(ROWS):
        table.append([name, *(c[i] for c in cols)])
    widths = [max(len(r[j]) for r in table) for j in range(len(table[0]))]
    for r_i, row in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if r_i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    if scores_bot.errored:
        lines.append(f"errored cases ({len(scores_bot.errored)}, scored as no findings):")
        lines.extend(f"  {cid}: {err}" for cid, err in scores_bot.errored)
    else:
        lines.append("errored cases: none")
    return "\n".join(lines) + "\n"


def _scores_json(s: Scores) -> dict:
    def prop(p: Proportion) -> dict:
        lo, hi = p.interval
        return {"value": p.value, "k": p.k, "n": p.n, "wilson95": [lo, hi]}

    lo, hi = s.detection_interval
    return {
        "detection": {"value": s.detection, "interval95": [lo, hi], "method": DETECTION_METHOD},
        "recall": prop(s.recall),
        "clean_flag_rate": prop(s.clean_flag_rate),
        "precision": prop(s.precision),
        "findings_per_clean_case": {
            "value": s.findings_per_clean,
            "findings": s.clean_findings,
            "clean_cases": s.n_clean,
        },
        "errored": [{"id": cid, "error": err} for cid, err in s.errored],
    }


def to_json(
    scores_bot: Scores,
    scores_none: Scores,
    scores_every: Scores,
    *,
    seed: int,
    limit: int | None,
    n_cases: int,
    seconds: float,
) -> dict:
    """The report's numbers as a JSON-ready dict (for ``--format json``)."""
    return {
        "cases": {"total": n_cases, "bug": scores_bot.n_bug, "clean": scores_bot.n_clean},
        "seed": seed,
        "limit": limit,
        "sampling": SAMPLING if limit is not None else "all cases",
        "seconds": seconds,
        "near": NEAR,
        "bot": _scores_json(scores_bot),
        "baselines": {
            "no_findings": _scores_json(scores_none),
            "every_added_line": _scores_json(scores_every),
        },
    }
