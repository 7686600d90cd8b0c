"""Every review-bugs case through the whole review with the embedded model, as `reviewbot review
--format json --diff CASE/change.diff` does it, in one process (the model loaded once).

For each case: the JSON report is rendered and validated against reviewbot's result schema and
the required finding fields are checked; any exception is a crash and is counted, not hidden.
At the end: how many reports were valid, the crashes, time per case, and the scores of the
review on the whole set (every pair, not a sample) beside the two baselines.

    .venv/bin/python bench/all_cases.py [--data ../shared/data/review-bugs] [--limit-pairs N] [--out FILE]
    .venv/bin/python bench/all_cases.py --held-out 100 --seed 1
        100 pairs drawn with seed 1 from the pairs NOT in `reviewbot eval --limit 40 --seed 0`'s
        sample: a held-out figure for a method whose choices were looked at on that sample.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import traceback
from pathlib import Path

import jsonschema

from reviewbot import compose, config, evaluation, pipeline
from reviewbot.errors import InputError
from reviewbot.evaluation.words import count_words, format_words
from reviewbot.reporters import jsonout
from reviewbot.routes.review_comment import instructions
from reviewbot.sources.diff_file import DiffFileSource

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = (
    "path",
    "side",
    "line",
    "start_line",
    "end_line",
    "severity",
    "route",
    "rule",
    "message",
    "suggestion",
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    ap.add_argument("--limit-pairs", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--held-out", type=int, metavar="N", help="N pairs not in the eval sample of seed 0, limit 40"
    )
    ap.add_argument("--out", type=Path, default=Path("/tmp/reviewbot-all-cases.jsonl"))
    ap.add_argument("--backend", choices=("openvino", "local"), help="default: the default backend's")
    ap.add_argument(
        "--from-case",
        type=int,
        default=0,
        metavar="I",
        help="start at the I-th case of the sample (split a run)",
    )
    args = ap.parse_args()
    schema = json.loads((ROOT / "reviewbot" / "reporters" / "result.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    settings = config.load({"backend": args.backend} if args.backend else {}, os.environ, None)
    model = compose.backend(settings)
    route = compose.route(settings, model)
    print(f"backend: {settings.backend}", flush=True)
    if args.held_out:
        seen = {c.pair for c in evaluation.load_cases(args.data, limit=40, seed=0)}
        pool = [c for c in evaluation.load_cases(args.data, limit=None, seed=args.seed) if c.pair not in seen]
        pairs = sorted({c.pair for c in pool})
        random.Random(args.seed).shuffle(pairs)
        keep = set(pairs[: args.held_out])
        cases = [c for c in pool if c.pair in keep]
        args.limit_pairs = args.held_out
        print(
            f"held-out sample: {len(keep)} pairs (random.Random({args.seed}).shuffle of the {len(pairs)} "
            "pairs "
            f"outside the seed-0/40 eval sample), {len(cases)} cases",
            flush=True,
        )
    else:
        cases = evaluation.load_cases(args.data, limit=args.limit_pairs, seed=args.seed)
    cases = cases[args.from_case :]
    rows, walls, valid, crashes, rejected = [], [], 0, [], []
    t_all = time.perf_counter()
    with args.out.open("w") as log:
        for i, case in enumerate(cases, 1):
            t = time.perf_counter()
            entry = {"id": case.id}
            try:
                res = pipeline.run(
                    DiffFileSource(str(case.diff_path)).load(),
                    pipeline.Parts(model, route, limits=compose.limits(settings)),
                )
                doc = json.loads(json.dumps(jsonout.render(res)))
                validator.validate(doc)
                assert all(all(k in f for k in REQUIRED) for f in doc["findings"]), "missing finding field"
                valid += 1
                rows.append((case, res.findings, None))
                entry["findings"] = len(doc["findings"])
                entry["comments"] = [
                    {
                        "path": f.location.path,
                        "side": str(f.location.side),
                        "line": f.location.line,
                        "message": f.message,
                        "said": f.said,
                    }
                    for f in res.findings
                    if f.source == "model"
                ]
            except InputError as exc:  # a one-line rejection is an allowed outcome
                rejected.append((case.id, str(exc)))
                rows.append((case, (), str(exc)))
                entry["rejected"] = str(exc)
            except Exception as exc:  # noqa: BLE001 - a crash is what this script counts
                crashes.append((case.id, "".join(traceback.format_exception_only(exc)).strip()))
                rows.append((case, (), "crash"))
                entry["crash"] = crashes[-1][1]
            walls.append(time.perf_counter() - t)
            entry["seconds"] = round(walls[-1], 2)
            log.write(json.dumps(entry) + "\n")
            log.flush()
            if i % 20 == 0:
                print(
                    f"[{i}/{len(cases)}] {time.perf_counter() - t_all:.0f}s, {valid} valid, {len(crashes)} "
                    "crashes",
                    flush=True,
                )
    total = time.perf_counter() - t_all
    print(
        f"\ncases: {len(cases)}; valid JSON reports: {valid}; one-line rejections: {len(rejected)}; crashes: "
        f"{len(crashes)}"
    )
    for cid, msg in crashes[:20]:
        print(f"  crash {cid}: {msg}")
    print(
        f"time: {total:.0f}s in total, median {statistics.median(walls):.1f}s per case, max {max(walls):.1f}s"
    )
    bot = evaluation.score(rows)
    none, every = evaluation.baselines(cases)
    print(
        evaluation.format_report(
            bot, none, every, seed=args.seed, limit=args.limit_pairs, n_cases=len(cases), seconds=total
        )
    )
    print(format_words(count_words(rows, instructions())))


if __name__ == "__main__":
    main()
