"""Routing evaluation: how often the router picks the labelled route, and what routing costs.

Every item of bench/data/routing.jsonl (see bench/data/ROUTING.md) goes through `Router.route`
with all five routes offered (so every label can be scored, whatever is implemented today);
question items are routed with their text as the PR-comment question and no diff.

Reported: accuracy (Wilson 95% interval), calibrated (the default) and raw from the same forward
passes, per-route precision and recall, the confusion matrix
(rows = label, columns = chosen), the second-route rate and "label among the routes run" at the
given margin, and routing overhead = route seconds / (route seconds + the chosen route's own
seconds) per item. The chosen route is run only with --run-routes and only where it is
implemented (today: review); other items have the route time alone and no overhead figure.

    .venv/bin/python bench/routing.py --backend openvino [--limit N] [--margin 0.1] [--run-routes]
        [--out FILE]
    .venv/bin/python bench/routing.py --backend fake          # smoke: the "always the first label" baseline
    .venv/bin/python bench/routing.py --dry-run [--limit 2]   # print prompts and the set's composition only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot import compose, config
from reviewbot.backends.fake import FakeBackend
from reviewbot.diff.parse import parse_diff
from reviewbot.evaluation import wilson
from reviewbot.model import ChangeSet, FileDiff, FileStatus, WorkItem
from reviewbot.router import ROUTES, Router

DATA = ROOT / "bench" / "data" / "routing.jsonl"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def work_item(row: dict) -> tuple[WorkItem, str | None]:
    """The WorkItem the router sees for a row, and the question when the row is one."""
    path = row["path"]
    if row["kind"] == "question":
        f = FileDiff(path, path, FileStatus.MODIFIED)
        return WorkItem(row["id"], path, f, (), 0, 0.0, at_head=True), row["text"]
    f = parse_diff(f"--- a/{path}\n+++ b/{path}\n{row['text']}", name=row["id"])[0]
    # at_head: as in a git review of a clean checkout, where every route can run
    return WorkItem(row["id"], path, f, f.hunks, 0, 0.0, at_head=True), None


def confusion_table(pairs: list[tuple[str, str]]) -> str:
    counts = Counter(pairs)
    width = max(len(r) for r in ROUTES) + 2
    head = "label \\ chosen".ljust(width + 4) + "".join(r.rjust(width) for r in ROUTES) + "total".rjust(8)
    lines = [head]
    for t in ROUTES:
        row = [counts[(t, p)] for p in ROUTES]
        lines.append(t.ljust(width + 4) + "".join(str(n).rjust(width) for n in row) + str(sum(row)).rjust(8))
    return "\n".join(lines)


def _pct(k: int, n: int) -> str:
    if not n:
        return "   n/a"
    lo, hi = wilson(k, n)
    return f"{k / n:6.1%} ({k}/{n}, 95% CI {lo:.1%}-{hi:.1%})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--backend", choices=("openvino", "local", "openai", "fake"), default="openvino")
    ap.add_argument("--limit", type=int, help="the first N items of each label (for quick runs)")
    ap.add_argument("--margin", type=float, default=0.1, help="routes.second_margin to evaluate")
    ap.add_argument("--run-routes", action="store_true", help="also run the chosen route where implemented")
    ap.add_argument("--max-chars", type=int, default=1500)
    ap.add_argument("--calibrate", action="store_true", help="contextual calibration (routes.calibrate)")
    ap.add_argument(
        "--dry-run", action="store_true", help="print the set's composition and prompts; no model"
    )
    ap.add_argument("--out", type=Path, help="write per-item results as JSON lines here")
    args = ap.parse_args()

    rows = load(args.data)
    if args.limit:
        seen: Counter = Counter()
        rows = [r for r in rows if (seen.update([r["label"]]) or seen[r["label"]] <= args.limit)]
    print(
        f"{len(rows)} items from {args.data}: "
        + ", ".join(f"{k} {v}" for k, v in Counter(r["label"] for r in rows).items())
    )

    if args.dry_run:
        router = Router(FakeBackend(), available=ROUTES, max_chars=args.max_chars)
        for r in rows[:: max(1, len(rows) // 3)][:3]:
            item, q = work_item(r)
            print(f"\n--- {r['id']} (label {r['label']})")
            for m in router.messages(item, q):
                print(f"[{m['role']}]\n{m['content']}")
        return

    if args.backend == "fake":
        backend = FakeBackend()  # always the first candidate: the "always review" baseline
        route_impl = None
    else:
        settings = config.load({"backend": args.backend}, os.environ, None)
        backend = compose.backend(settings)
        assert backend is not None
        route_impl = compose.route(settings, backend) if args.run_routes else None
    router = Router(
        backend,
        available=ROUTES,
        second_route_margin=args.margin,
        max_chars=args.max_chars,
        calibrate=args.calibrate,
    )

    results = []
    t_all = time.perf_counter()
    log = args.out.open("w") if args.out else None
    for i, r in enumerate(rows, 1):
        item, question = work_item(r)
        t0 = time.perf_counter()
        d = router.route(item, question)
        route_wall = time.perf_counter() - t0
        run_s = None
        if route_impl is not None and d.route == route_impl.name and item.hunks:
            out = route_impl.run(item, ChangeSet((item.file,), r["id"]))
            run_s = out.seconds
        res = {
            "id": r["id"],
            "label": r["label"],
            "chosen": d.route,
            "p": round(d.probability, 4),
            "probabilities": {k: round(v, 4) for k, v in d.probabilities.items()},
            "second": d.second,
            "route_s": round(route_wall, 4),
            "run_s": None if run_s is None else round(run_s, 4),
            "prompt_tokens": d.prompt_tokens,
            "raw_chosen": max(d.raw, key=d.raw.__getitem__) if d.raw else d.route,
        }
        results.append(res)
        if log:
            log.write(json.dumps(res) + "\n")
            log.flush()
        if i % 25 == 0:
            print(f"[{i}/{len(rows)}] {time.perf_counter() - t_all:.0f}s", flush=True)
    if log:
        log.close()

    n = len(results)
    right = sum(x["label"] == x["chosen"] for x in results)
    print(f"\nbackend {backend.name} ({getattr(backend, 'model_id', None)}), {n} items, margin {args.margin}")
    print(f"accuracy: {_pct(right, n)}" + (" (calibrated)" if args.calibrate else ""))
    if args.calibrate:
        raw_right = sum(x["label"] == x["raw_chosen"] for x in results)
        print(f"accuracy without calibration, same forward passes: {_pct(raw_right, n)}")
        print("confusion matrix without calibration:")
        print(confusion_table([(x["label"], x["raw_chosen"]) for x in results]))
    majority = Counter(x["label"] for x in results).most_common(1)[0]
    print(f"baseline 'always {majority[0]}': {_pct(majority[1], n)}")
    print("\nconfusion matrix:")
    print(confusion_table([(x["label"], x["chosen"]) for x in results]))
    print("\nper route:          recall                              precision")
    for lb in ROUTES:
        tp = sum(x["label"] == lb and x["chosen"] == lb for x in results)
        print(
            f"  {lb:12s} {_pct(tp, sum(x['label'] == lb for x in results)):36s} "
            f"{_pct(tp, sum(x['chosen'] == lb for x in results))}"
        )
    seconds = sum(x["second"] is not None for x in results)
    among = sum(x["label"] in (x["chosen"], x["second"]) for x in results)
    print(f"\nsecond route (p(best) - p(runner-up) < {args.margin}): {_pct(seconds, n)} of items")
    print(f"label among the routes run: {_pct(among, n)}")
    right_p = [x["p"] for x in results if x["label"] == x["chosen"]]
    wrong_p = [x["p"] for x in results if x["label"] != x["chosen"]]
    if right_p and wrong_p:
        print(
            f"mean p(chosen): {statistics.mean(right_p):.3f} when right, {statistics.mean(wrong_p):.3f} when "
            "wrong"
        )
    route_s = [x["route_s"] for x in results]
    print(
        f"\nroute time: median {statistics.median(route_s):.3f}s, mean {statistics.mean(route_s):.3f}s, "
        f"max {max(route_s):.3f}s; prompt tokens median "
        f"{statistics.median(x['prompt_tokens'] for x in results):.0f}"
    )
    with_run = [x for x in results if x["run_s"] is not None]
    if with_run:
        ratios = [
            x["route_s"] / (x["route_s"] + x["run_s"]) for x in with_run if x["route_s"] + x["run_s"] > 0
        ]
        tot_route = sum(x["route_s"] for x in with_run)
        tot_all = tot_route + sum(x["run_s"] for x in with_run)
        print(
            f"routing overhead (route / (route + route run)) over {len(with_run)} items run: "
            f"median {statistics.median(ratios):.1%}, in total {tot_route / tot_all:.1%}"
        )
    else:
        print("routing overhead: no route run (use --run-routes with a model backend)")


if __name__ == "__main__":
    main()
