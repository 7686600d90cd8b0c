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

from .cases import SAMPLING, Case, CaseKind, TruthLine, load_cases
from .report import COLUMNS, ROWS, format_report, to_json
from .stats import (
    DETECTION_METHOD,
    Z95,
    CaseResult,
    Proportion,
    Scores,
    baseline_results,
    baselines,
    every_added_line_findings,
    newcombe,
    score,
    wilson,
)
from .truth import NEAR, RemovalMap, added_lines, caught, counts, hits, removal_points

__all__ = [
    "COLUMNS",
    "Case",
    "CaseKind",
    "CaseResult",
    "DETECTION_METHOD",
    "NEAR",
    "Proportion",
    "ROWS",
    "RemovalMap",
    "SAMPLING",
    "Scores",
    "TruthLine",
    "Z95",
    "added_lines",
    "baseline_results",
    "baselines",
    "caught",
    "counts",
    "every_added_line_findings",
    "format_report",
    "hits",
    "load_cases",
    "newcombe",
    "removal_points",
    "score",
    "to_json",
    "wilson",
]
