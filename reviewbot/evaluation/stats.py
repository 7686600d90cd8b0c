"""The scores: Wilson and Newcombe intervals, the scorer, and the two baselines through it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from reviewbot.model import Finding, Location, Severity, Side

from .cases import Case
from .truth import added_lines, counts, hits, removal_points

Z95 = 1.959964
DETECTION_METHOD = "Newcombe hybrid score (method 10), from the two Wilson intervals, as if independent"


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
