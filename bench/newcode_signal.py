"""A signal for new code under the embedded model: is a line far less
likely than the rest of its own hunk a sign of a bug?

For every hunk of a review-bugs-newcode case (each hunk is a pure insertion) the hunk's text is
scored once under the model, with the same prompt as the review route's judge, and each line's
mean token log-probability is kept. The rule tried: in a hunk of at least MIN_LINES lines, flag
the least likely non-blank line when its mean lies at least ``tau`` nats/token below the mean of
the hunk's other lines; at most ``--per-case`` flags per case, the largest gaps first. Scored as
`reviewbot eval` scores (a catch is a flag within the truth lines' reach on a bug case; a clean
case flagged at all is a false alarm), with Newcombe's interval on the detection.

``tau`` is chosen on a tuning draw of pairs that are NOT in the seed-0/40 eval sample; the
figures that count are those on the seed-0/40 sample with that ``tau``, printed last.

    .venv/bin/python bench/newcode_signal.py --tune 80 --cache /tmp/newcode_scores.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from reviewbot import compose, config, evaluation, prompts
from reviewbot.diff.parse import parse_diff
from reviewbot.evaluation.stats import newcombe, wilson
from reviewbot.evaluation.truth import caught
from reviewbot.model import LineKind, Location, Side
from reviewbot.routes.review import _line_means, _section, _version

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "review-bugs-newcode"
MIN_LINES = 3


def score_case(backend, case) -> list[dict]:
    """Per hunk: the path, and each line's (new line number, text, mean log-prob)."""
    out = []
    for fd in parse_diff(case.diff_text()):
        for h in fd.hunks:
            text, spans = _version(h, LineKind.ADDED)
            if not text.strip():
                continue
            ask = [
                {"role": "user", "content": prompts.render("score_user", path=fd.path, section=_section(h))}
            ]
            s = backend.score(ask, text)
            if s is None or not s.logprobs:
                continue
            means = _line_means(s, spans)
            out.append(
                {
                    "path": fd.path,
                    "lines": [(sp[0].number, sp[0].text, means.get(i)) for i, sp in enumerate(spans)],
                }
            )
    return out


def flags(hunks: list[dict], tau: float, per_case: int) -> list[tuple[float, Location]]:
    got = []
    for h in hunks:
        lines = [(n, t, m) for n, t, m in h["lines"] if m is not None and t.strip()]
        if len(lines) < MIN_LINES:
            continue
        n, _, low = min(lines, key=lambda x: x[2])
        rest = statistics.fmean(m for k, _, m in lines if k != n)
        gap = rest - low
        if gap >= tau:
            got.append((gap, Location(h["path"], Side.RIGHT, n)))
    return sorted(got, key=lambda g: -g[0])[:per_case]


def evaluate(cases, scored, tau: float, per_case: int) -> dict:
    bug = [c for c in cases if c.kind == "bug"]
    clean = [c for c in cases if c.kind == "clean"]
    k1 = sum(caught([loc for _, loc in flags(scored[c.id], tau, per_case)], c.truth, {}) for c in bug)
    k2 = sum(bool(flags(scored[c.id], tau, per_case)) for c in clean)
    lo, hi = newcombe(k1, len(bug), k2, len(clean))
    return {
        "tau": tau,
        "recall": (k1, len(bug)),
        "clean_flag": (k2, len(clean)),
        "detection": k1 / len(bug) - k2 / len(clean),
        "interval": (lo, hi),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--tune", type=int, default=80, help="pairs in the tuning draw (not in seed-0/40)")
    ap.add_argument("--tune-seed", type=int, default=2)
    ap.add_argument("--per-case", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/newcode_scores.jsonl"))
    args = ap.parse_args()
    evald = evaluation.load_cases(args.data, limit=40, seed=0)
    seen = {c.pair for c in evald}
    pool = [
        c for c in evaluation.load_cases(args.data, limit=None, seed=args.tune_seed) if c.pair not in seen
    ]
    pairs = sorted({c.pair for c in pool})
    import random

    random.Random(args.tune_seed).shuffle(pairs)
    keep = set(pairs[: args.tune])
    tune = [c for c in pool if c.pair in keep]
    scored: dict[str, list[dict]] = {}
    if args.cache.exists():
        for line in args.cache.read_text().splitlines():
            d = json.loads(line)
            scored[d["id"]] = d["hunks"]
    todo = [c for c in [*evald, *tune] if c.id not in scored]
    if todo:
        settings = config.load({"backend": "local"}, os.environ, None)
        backend = compose.backend(settings)
        t0 = time.perf_counter()
        with args.cache.open("a") as fh:
            for i, c in enumerate(todo, 1):
                scored[c.id] = score_case(backend, c)
                fh.write(json.dumps({"id": c.id, "hunks": scored[c.id]}) + "\n")
                fh.flush()
                print(f"[{i}/{len(todo)}] {c.id} {time.perf_counter() - t0:.0f}s", flush=True)
    print(
        f"model: the embedded model (local backend); hunks scored once each; "
        f"tuning draw: {len(tune) // 2} pairs (seed {args.tune_seed}) outside the seed-0/40 sample"
    )
    grid = [round(0.5 * i, 1) for i in range(1, 17)]
    results = [evaluate(tune, scored, t, args.per_case) for t in grid]
    for r in results:
        print(
            f"tune tau={r['tau']:>4}: detection {r['detection']:+.3f} [{r['interval'][0]:+.2f}, "
            f"{r['interval'][1]:+.2f}] recall {r['recall'][0]}/{r['recall'][1]} clean flagged "
            f"{r['clean_flag'][0]}/{r['clean_flag'][1]}"
        )
    best = max(results, key=lambda r: (r["detection"], r["tau"]))
    r = evaluate(evald, scored, best["tau"], args.per_case)
    rl, rh = wilson(*r["recall"])
    cl, ch = wilson(*r["clean_flag"])
    print(
        f"seed-0/40 with tau={best['tau']} (chosen on the tuning draw): detection {r['detection']:+.3f} "
        f"[{r['interval'][0]:+.2f}, {r['interval'][1]:+.2f}], recall {r['recall'][0]}/{r['recall'][1]} "
        f"[{rl:.2f}, {rh:.2f}], clean flag rate {r['clean_flag'][0]}/{r['clean_flag'][1]} [{cl:.2f}, "
        f"{ch:.2f}]"
    )


if __name__ == "__main__":
    main()
