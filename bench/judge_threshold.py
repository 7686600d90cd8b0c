"""The judge's threshold (`review.min_drop`, 0.05 nats per token) re-checked on a backend: the
likelihood drop of every hunk of every case of a public review-bugs sample, case-level.

For each case of `load_cases(--data, limit=--pairs, seed=--seed)` (default: the seed-7 sample of
40 pairs the threshold was chosen on; never the held-out one), each file's hunks are judged as the
review route judges them (`routes.review.judge_hunk`: the mean log-probability per token of the
old version minus the new one's, under the same prompt), and the case's largest drop is kept. For
each threshold it prints the bug cases flagged (any hunk at or above it), the clean cases
flagged, and Youden's J (their difference), per backend, the backends alternating per case.

    python bench/judge_threshold.py                                   # openvino, seed 7, 40 pairs
    python bench/judge_threshold.py --backends openvino,local         # both, alternating
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from reviewbot import compose, config, evaluation
from reviewbot.routes.review import judge_hunk
from reviewbot.sources.diff_file import DiffFileSource

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2)


def case_drop(backend, diff: Path) -> float | None:
    """The largest drop over the case's hunks (None when no hunk has both versions)."""
    drops = []
    for f in DiffFileSource(str(diff)).load().files:
        for h in f.hunks:
            v = judge_hunk(backend, f.path, h)
            if v.drop is not None:
                drops.append(v.drop)
    return max(drops) if drops else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="openvino", help="comma-separated, alternated per case")
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7, help="the sample the threshold was chosen on (default 7)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    args = ap.parse_args()
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start; "
        f"sample: {args.data.name}, {args.pairs} pairs, seed {args.seed}"
    )
    backends = {}
    for name in names:
        b = compose.backend(config.load({"backend": name}, os.environ, None))
        b.load()
        backends[name] = b
    cases = evaluation.load_cases(args.data, limit=args.pairs, seed=args.seed)
    drops: dict[str, list[tuple[str, float | None]]] = {n: [] for n in names}
    seconds = dict.fromkeys(names, 0.0)
    for i, case in enumerate(cases):
        order = names if i % 2 == 0 else names[::-1]
        for n in order:
            t = time.perf_counter()
            drops[n].append((case.kind, case_drop(backends[n], case.diff_path)))
            seconds[n] += time.perf_counter() - t
    for n in names:
        bug = [d for k, d in drops[n] if k == "bug"]
        clean = [d for k, d in drops[n] if k == "clean"]
        print(
            f"\n{n}: {len(bug)} bug and {len(clean)} clean cases, "
            f"{seconds[n]:.1f} s of scoring (wall; other work may load the machine)"
        )
        print(f"  {'min_drop':>8}  {'bug flagged':>11}  {'clean flagged':>13}  {'J':>6}")
        for th in THRESHOLDS:
            b = sum(d is not None and d >= th for d in bug)
            c = sum(d is not None and d >= th for d in clean)
            j = b / len(bug) - c / len(clean)
            mark = "  <- review.min_drop" if th == 0.05 else ""
            print(f"  {th:8.3f}  {b:>5}/{len(bug):<5}  {c:>6}/{len(clean):<6}  {j:6.3f}{mark}")
    if len(names) > 1:
        a, b = names[0], names[1]
        diffs = [
            abs(x - y)
            for (_, x), (_, y) in zip(drops[a], drops[b], strict=True)
            if x is not None and y is not None
        ]
        print(
            f"\ncase drop |{a} - {b}|: mean {sum(diffs) / len(diffs):.4f}, "
            f"max {max(diffs):.4f} nats per token"
        )


if __name__ == "__main__":
    main()
