"""The replay of learning on review-bugs: does what a team's feedback taught the review make it
quieter on clean changes without losing the bugs?

For each project with at least 10 bug/clean pairs, the pairs (sorted by name) are shuffled with
``random.Random(seed)``; the first half is the project's history, the rest its test half. Every
case is reviewed once with the embedded model, as ``reviewbot review --format json --diff
CASE/change.diff`` does it (the reviews are kept in a cache file, so a run can be stopped and
resumed). Then, per project:

- the history's comments get feedback made from the truth: a comment on a truth line of a bug case
  is a thumbs-up from a writer, and its code is then fixed (a fix signal); any other comment is a
  thumbs-down from a writer;
- what that feedback teaches (``reviewbot.learning``) is applied to the test half's findings, as the
  review applies it: findings that resemble what the team rejected are held back, and the judge's
  threshold moves within its bounds (a finding whose confidence falls under the moved threshold is
  not kept, as the route would not have flagged its hunk).

The test half is scored with and without what was learned, with the scorer of ``reviewbot eval``.
Two more figures show what this data allows: the oracle bound (per project, the threshold within
the judge's bound chosen on the test half itself, the combination that quiets the most clean cases
with at most 0.05 x the bug cases' catches lost: an upper bound for any threshold learning, not a
result) and the history's verdicts by change fact kind (what a kind lesson could learn from).

    .venv/bin/python bench/learning_replay.py review [--backend openvino|local] [--minutes M] [--cache FILE]
    .venv/bin/python bench/learning_replay.py replay [--backend openvino|local] [--cache FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot import evaluation  # noqa: E402
from reviewbot.diff.parse import parse_diff  # noqa: E402
from reviewbot.evaluation.cases import Case  # noqa: E402
from reviewbot.evaluation.truth import counts, hits, removal_points  # noqa: E402
from reviewbot.learning import Signal, Subject, hold_back, subject_of  # noqa: E402
from reviewbot.learning.apply import prepare  # noqa: E402
from reviewbot.learning.judge import MAX_UP  # noqa: E402
from reviewbot.learning.lessons import KIND_SHARE, MIN_KIND  # noqa: E402
from reviewbot.learning.lessons import MIN_PRS as KIND_PRS  # noqa: E402
from reviewbot.model import Finding, Location, Severity, Side  # noqa: E402
from reviewbot.routes.review import confidence_of  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "review-bugs"
CACHE = "/tmp/reviewbot-learning-replay-{backend}.jsonl"  # one cache per backend: never mixed
MIN_PAIRS = 10
MIN_DROP = 0.05  # the likelihood judge's default minimum drop (ReviewRoute.min_drop)
RECALL_LOSS = 0.05  # the goal: recall down at most this much
TODAY = date(2026, 12, 6)
WHEN = datetime(2026, 12, 1, tzinfo=UTC)  # every history signal: recent, so none has expired


def project_of(pair: str) -> str:
    return pair.rsplit("-", 1)[0]


def split(cases: list[Case], seed: int) -> dict[str, tuple[list[str], list[str]]]:
    """Per project with at least MIN_PAIRS complete pairs: (history pairs, test pairs)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for c in cases:
        kinds[c.pair].add(c.kind)
    by_project: dict[str, list[str]] = defaultdict(list)
    for pair in sorted(p for p, k in kinds.items() if k == {"bug", "clean"}):
        by_project[project_of(pair)].append(pair)
    out = {}
    for project, pairs in sorted(by_project.items()):
        if len(pairs) < MIN_PAIRS:
            continue
        shuffled = list(pairs)
        random.Random(seed).shuffle(shuffled)
        half = len(shuffled) // 2
        out[project] = (shuffled[:half], shuffled[half:])
    return out


def review_order(halves: dict[str, tuple[list[str], list[str]]]) -> list[str]:
    """Pairs in an order that keeps a partial run useful: whole projects, the smallest first, and
    in each a history pair then a test pair, so that a run stopped early has finished projects
    and a balanced last one."""
    order: list[str] = []
    for history, test in sorted(halves.values(), key=lambda ht: len(ht[0]) + len(ht[1])):
        for i in range(max(len(history), len(test))):
            order += [both[i] for both in (history, test) if i < len(both)]
    return order


def finding_json(f) -> dict:
    loc = f.location
    return {
        "path": loc.path,
        "side": str(loc.side),
        "line": loc.line,
        "start_line": loc.start_line,
        "severity": str(f.severity),
        "rule": f.rule,
        "route": f.route,
        "category": f.category,
        "message": f.message,
        "confidence": f.confidence,
        "source": f.source,
        "said": f.said,
        "fact": f.fact,
    }


def review(args: argparse.Namespace) -> None:
    from reviewbot import compose, config, pipeline
    from reviewbot.errors import InputError
    from reviewbot.sources.diff_file import DiffFileSource

    cases = evaluation.load_cases(args.data)
    by_id = {c.id: c for c in cases}
    halves = split(cases, args.seed)
    done = set()
    if args.cache.exists():
        done = {json.loads(x)["id"] for x in args.cache.read_text().splitlines() if x.strip()}
    todo = [by_id[f"{pair}-{kind}"] for pair in review_order(halves) for kind in ("bug", "clean")]
    todo = [c for c in todo if c.id not in done]
    print(f"{len(done)} cases reviewed already in {args.cache}; {len(todo)} to go", flush=True)
    settings = config.load({"backend": args.backend}, os.environ, None)
    model = compose.backend(settings)
    print(f"backend: {settings.backend}", flush=True)
    route = compose.route(settings, model)
    parts = pipeline.Parts(model, route, limits=compose.limits(settings))
    t_all = time.perf_counter()
    with args.cache.open("a") as log:
        for i, case in enumerate(todo, 1):
            if args.minutes and time.perf_counter() - t_all > args.minutes * 60:
                print(f"stopped after {args.minutes} minutes", flush=True)
                break
            t = time.perf_counter()
            entry: dict = {"id": case.id}
            try:
                res = pipeline.run(DiffFileSource(str(case.diff_path)).load(), parts)
                entry["findings"] = [finding_json(f) for f in res.findings]
            except InputError as exc:
                entry["rejected"] = str(exc)
            entry["seconds"] = round(time.perf_counter() - t, 2)
            log.write(json.dumps(entry) + "\n")
            log.flush()
            if i % 10 == 0:
                print(f"[{i}/{len(todo)}] {time.perf_counter() - t_all:.0f}s", flush=True)


def finding_of(d: dict) -> Finding:
    loc = Location(d["path"], Side(d["side"]), d["line"], d["start_line"])
    return Finding(
        loc,
        Severity(d["severity"]),
        d["message"],
        d["rule"],
        d["route"],
        d["category"],
        confidence=d["confidence"],
        source=d["source"],
        said=d["said"],
        fact=d["fact"],
    )


def subject_by_files(finding: Finding, files) -> Subject:
    return subject_of(finding, files)


def truth_hit(case: Case):
    """Whether a finding catches a truth line of ``case``, by ``reviewbot eval``'s rule."""
    rmap = removal_points(case.diff_text()) if any(t.side == "old" for t in case.truth) else {}
    return lambda f: any(hits(f.location, t, rmap) for t in case.truth)


def feedback(case: Case, findings: list[Finding], files, pr: int) -> list[Signal]:
    """The team's verdicts made from the truth: a comment on a truth line of a bug case is a
    thumbs-up from a writer and its code is then fixed; any other comment is a thumbs-down."""
    on_truth = truth_hit(case)
    out = []
    for f in findings:
        if f.source != "model" or not counts(f):
            continue
        subject = subject_of(f, files)
        if on_truth(f):
            out.append(Signal("up", "maintainer", True, pr, WHEN, subject))
            out.append(Signal("fixed", "maintainer", True, pr, WHEN, subject))
        else:
            out.append(Signal("down", "maintainer", True, pr, WHEN, subject))
    return out


def outcomes(rows: list[tuple[Case, list[Finding]]], base: float) -> list[tuple[float, int, int]]:
    """(threshold, clean cases no longer flagged, bug cases no longer caught) of one project's test
    half, for every threshold within the bound that changes what is kept: a model finding is kept
    when its confidence is at least the threshold, whatever else learning does."""
    confs = {f.confidence for _, fs in rows for f in fs if f.source == "model" and f.confidence is not None}
    cap = round(base + MAX_UP, 4)
    out = []
    for t in sorted({base, cap} | {c for c in confs if base < c <= cap}):
        cut = lost = 0
        for case, fs in rows:
            kept = [f for f in fs if f.source != "model" or f.confidence is None or f.confidence >= t]
            if case.kind == "clean":
                cut += any(counts(f) for f in fs) and not any(counts(f) for f in kept)
            else:
                lost += caught(case, fs) and not caught(case, kept)
        out.append((t, cut, lost))
    return out


def caught(case: Case, findings: list[Finding]) -> bool:
    on_truth = truth_hit(case)
    return any(counts(f) and on_truth(f) for f in findings)


def oracle(by_project: dict[str, list[tuple[Case, list[Finding]]]], base: float, budget: int):
    """The most clean cases per-project thresholds can quiet with at most ``budget`` bug catches
    lost in all, each threshold chosen on the test half itself (every combination, by a knapsack
    over the lost catches): (clean cut, catches lost, {project: threshold})."""
    best: dict[int, tuple[int, dict[str, float]]] = {0: (0, {})}  # catches lost -> (clean cut, choice)
    for project, rows in by_project.items():
        step: dict[int, tuple[int, dict[str, float]]] = {}
        for lost0, (cut0, chosen) in best.items():
            for t, cut, lost in outcomes(rows, base):
                n = lost0 + lost
                if n <= budget and (n not in step or cut0 + cut > step[n][0]):
                    step[n] = (cut0 + cut, {**chosen, project: t})
        best = step
    lost, (cut, chosen) = max(best.items(), key=lambda kv: (kv[1][0], -kv[0]))
    return cut, lost, chosen


def kind_table(signals: dict[str, list[Signal]]) -> list[str]:
    """The history's verdicts per change fact kind, all projects together: what a kind lesson
    could learn from."""
    up: dict[str, int] = defaultdict(int)
    down: dict[str, int] = defaultdict(int)
    most: dict[str, int] = defaultdict(int)  # the most thumbs-downs of the kind in one project
    for project_signals in signals.values():
        here: dict[str, int] = defaultdict(int)
        for s in project_signals:
            kind = s.subject.fact_kind or "(no fact)"
            up[kind] += s.kind == "up"
            down[kind] += s.kind == "down"
            here[kind] += s.kind == "down"
        for kind, n in here.items():
            most[kind] = max(most[kind], n)
    lines = [
        f"  {'change fact kind':<22} {'thumbs-up':>9} {'thumbs-down':>11}  most thumbs-down in one project"
    ]
    for kind in sorted(up.keys() | down.keys(), key=lambda k: (-(up[k] + down[k]), k)):
        lines.append(f"  {kind:<22} {up[kind]:>9} {down[kind]:>11}  {most[kind]}")
    return lines


def scores_line(name: str, s) -> str:
    det_lo, det_hi = s.detection_interval
    r_lo, r_hi = s.recall.interval
    c_lo, c_hi = s.clean_flag_rate.interval
    return (
        f"{name:<24} detection {s.detection:+.3f} [{det_lo:+.2f}, {det_hi:+.2f}]  "
        f"recall {s.recall.value:.3f} ({s.recall.k}/{s.recall.n}) [{r_lo:.2f}, {r_hi:.2f}]  "
        f"clean flag rate {s.clean_flag_rate.value:.3f} ({s.clean_flag_rate.k}/{s.clean_flag_rate.n}) "
        f"[{c_lo:.2f}, {c_hi:.2f}]  findings/clean {s.findings_per_clean:.3f}"
    )


def why_held(reason: str) -> str:
    if reason.startswith("resembles"):
        return "resembles comments the team rejected"
    if reason.startswith("under this repository's judge threshold"):
        return "under the moved judge threshold"
    return "a kind writers rejected"


VARIANTS = {
    "all that was learned": lambda x: x,
    "resemblance and kinds only": lambda x: replace(x, judge_floor=None),
    "judge threshold only": lambda x: replace(x, lessons=()),
}


def replay(args: argparse.Namespace) -> None:
    cases = evaluation.load_cases(args.data)
    by_id = {c.id: c for c in cases}
    halves = split(cases, args.seed)
    reviews = {}
    for row in args.cache.read_text().splitlines():
        d = json.loads(row)
        reviews[d["id"]] = None if "rejected" in d else [finding_of(x) for x in d["findings"]]
    pr_of = {c.id: n for n, c in enumerate(cases, 1)}  # each case is its own pull request
    base = confidence_of(MIN_DROP)
    before, after = [], {name: [] for name in VARIANTS}
    held_reasons: dict[str, int] = defaultdict(int)
    history_signals: dict[str, list[Signal]] = {}
    test_rows: dict[str, list[tuple[Case, list[Finding]]]] = defaultdict(list)
    print(
        f"review-bugs replay: seed {args.seed}; projects with at least {MIN_PAIRS} pairs; "
        f"a case counts when it and its twin were reviewed (cache {args.cache})"
    )
    for project, (history, test) in halves.items():

        def done(pairs):
            return [p for p in pairs if f"{p}-bug" in reviews and f"{p}-clean" in reviews]

        history, test = done(history), done(test)
        if not history or not test:
            continue
        signals: list[Signal] = []
        for pair in history:
            for kind in ("bug", "clean"):
                case = by_id[f"{pair}-{kind}"]
                files = parse_diff(case.diff_text())
                signals += feedback(case, reviews[case.id] or [], files, pr_of[case.id])
        history_signals[project] = signals
        learned = prepare(signals, None, this_pr=None, today=TODAY, base_floor=base)  # as the review does
        holds = sum(x.action == "hold" for x in learned.lessons)
        kinds = sum(not x.by_resemblance for x in learned.lessons)
        floor = (
            "as set" if learned.judge_floor is None else f"{learned.judge_floor:.3f} ({learned.judge_reason})"
        )
        print(
            f"{project}: history {len(history)} pairs, {len(signals)} signals "
            f"({sum(s.rejects for s in signals)} rejecting); test {len(test)} pairs; "
            f"learned {len(learned.lessons)} lessons ({holds} hold, {kinds} by kind), judge threshold {floor}"
        )
        for pair in test:
            for kind in ("bug", "clean"):
                case = by_id[f"{pair}-{kind}"]
                findings = reviews[case.id]
                error = "rejected" if findings is None else None
                before.append((case, findings or [], error))
                test_rows[project].append((case, findings or []))
                files = parse_diff(case.diff_text())
                for name, variant in VARIANTS.items():
                    kept, held = hold_back(
                        findings or [], variant(learned), partial(subject_by_files, files=files)
                    )
                    after[name].append((case, kept, error))
                    if name == "all that was learned":
                        for h in held:
                            held_reasons[f"{case.kind} case: {why_held(h.reason)}"] += 1
    if not before:
        raise SystemExit(
            f"no project has both halves reviewed yet in {args.cache}: run the review step first"
        )
    s0 = evaluation.score(before)
    print(
        f"\ntest halves: {s0.n_bug} bug + {s0.n_clean} clean cases; intervals: Wilson 95%, detection Newcombe"
    )
    print(scores_line("without learning", s0))
    for name, rows in after.items():
        print(scores_line(name, evaluation.score(rows)))
    s1 = evaluation.score(after["all that was learned"])
    if s0.clean_flag_rate.k:
        cut = 1 - s1.clean_flag_rate.k / s0.clean_flag_rate.k
        print(
            f"\nclean flag rate cut by {cut:.0%} (goal: at least a third); "
            f"recall change {s1.recall.value - s0.recall.value:+.3f} (goal: down at most 0.05)"
        )
    print("held back, by case kind and reason:")
    for reason, n in sorted(held_reasons.items(), key=lambda t: -t[1]):
        print(f"  {n:4d}  {reason}")
    budget = int(RECALL_LOSS * s0.n_bug)
    cut, lost, chosen = oracle(test_rows, base, budget)
    print(
        f"\nan oracle choosing each project's threshold on the test half itself: "
        f"clean {s0.clean_flag_rate.k - cut}/{s0.n_clean}, recall {s0.recall.k - lost}/{s0.n_bug}"
    )
    print(
        f"  (the most clean cases any per-project thresholds within the bound (at most {MAX_UP} over "
        f"{base:.3f}) quiet with at most {budget} bug catches lost, every combination tried; thresholds: "
        + ", ".join(f"{p} {t:.3f}" for p, t in chosen.items())
        + ")"
    )
    print(
        "  it is an upper bound for any threshold learning, not a result: it looks at the very "
        "cases it is scored on, which no history can."
    )
    print(
        f"\nthe history's verdicts by change fact kind, all projects together (a kind lesson needs "
        f"{MIN_KIND} thumbs-down in one project, on {KIND_PRS} pull requests, and {KIND_SHARE:.0%} "
        "of the kind's verdicts there):"
    )
    for line in kind_table(history_signals):
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("review", "replay"))
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", choices=("openvino", "local"), default="openvino", help="default: openvino")
    ap.add_argument("--cache", type=Path, help=f"default: {CACHE}")
    ap.add_argument("--minutes", type=float, help="review: stop starting new cases after M minutes")
    args = ap.parse_args()
    if args.cache is None:
        args.cache = Path(CACHE.format(backend=args.backend))
    if args.step == "review":
        review(args)
    else:
        replay(args)


if __name__ == "__main__":
    main()
