"""End-to-end CPU review over review-bugs cases with the embedded model.

Prints, per case and in summary: wall time, prompt and generated tokens, generation tokens/s
(generated tokens / seconds inside generate), and the process's peak RSS. The cases are the
first N/2 pairs of `reviewbot eval`'s sample (random.Random(seed) shuffle of the pairs), so the
figures are reproducible. The model is loaded once before the clock starts (warm start).

    .venv/bin/python bench/e2e.py [--cases 20] [--seed 0] [--data ../shared/data/review-bugs]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import time
from pathlib import Path

from reviewbot import compose, config, evaluation, pipeline
from reviewbot.sources.diff_file import DiffFileSource

ROOT = Path(__file__).resolve().parents[1]


class Timed:
    """A ModelBackend proxy that adds up the time and tokens of each verb."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.model_id = inner.name, inner.model_id
        self.gen_seconds = self.gen_tokens = self.score_seconds = 0.0

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def generate(self, messages, **kw):
        g = self.inner.generate(messages, **kw)
        self.gen_seconds += g.seconds
        self.gen_tokens += g.generated_tokens
        return g

    def choose(self, messages, labels):
        return self.inner.choose(messages, labels)

    def score(self, messages, continuation):
        t = time.perf_counter()
        s = self.inner.score(messages, continuation)
        self.score_seconds += time.perf_counter() - t
        return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    args = ap.parse_args()
    settings = config.load({"backend": "local"}, os.environ, None)
    inner = compose.backend(settings)
    t = time.perf_counter()
    inner.load()
    load_s = time.perf_counter() - t
    model = Timed(inner)
    route = compose.route(settings, model)
    cases = evaluation.load_cases(args.data, limit=max(1, args.cases // 2), seed=args.seed)[: args.cases]
    rows = []
    print(f"{'case':<28} {'wall s':>7} {'prompt':>7} {'gen':>5} {'gen tok/s':>9} {'findings':>8}")
    for case in cases:
        g0, gt0 = model.gen_seconds, model.gen_tokens
        t = time.perf_counter()
        res = pipeline.run(
            DiffFileSource(str(case.diff_path)).load(),
            pipeline.Parts(model, route, limits=compose.limits(settings)),
        )
        wall = time.perf_counter() - t
        gs, gt = model.gen_seconds - g0, model.gen_tokens - gt0
        rate = gt / gs if gs else float("nan")
        rows.append((wall, res.stats.prompt_tokens, gt, gs))
        print(
            f"{case.id:<28} {wall:7.2f} {res.stats.prompt_tokens:7d} {int(gt):5d} {rate:9.1f} "
            f"{len(res.anchored):8d}"
        )
    walls = [r[0] for r in rows]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total_gen, total_gen_s = sum(r[2] for r in rows), sum(r[3] for r in rows)
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print()
    print(
        f"machine: {platform.machine()}, {cpu} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print(f"model: {inner.model_id}, warm load {load_s:.1f}s (not in the per-case times)")
    print(f"cases: {len(rows)} (review-bugs, first {args.cases // 2} pairs of seed {args.seed})")
    print(
        f"wall per case: median {statistics.median(walls):.2f}s, p90 "
        f"{sorted(walls)[int(0.9 * (len(walls) - 1))]:.2f}s, max {max(walls):.2f}s"
    )
    print(
        f"prompt tokens per case: median {statistics.median(r[1] for r in rows):.0f}; generated tokens: "
        f"{int(total_gen)} in total"
    )
    print(
        f"generation: {total_gen / total_gen_s if total_gen_s else float('nan'):.1f} tokens/s; scoring "
        f"(prefill) {model.score_seconds:.1f}s in total"
    )
    print(f"peak RSS: {peak_mib:.0f} MiB (ru_maxrss of this process, model included)")


if __name__ == "__main__":
    main()
