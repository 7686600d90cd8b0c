"""The scores as a fixed-width table (the terminal) and as a JSON-ready dict (`--format json`)."""

from __future__ import annotations

from .cases import SAMPLING
from .stats import DETECTION_METHOD, Proportion, Scores
from .truth import NEAR

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
