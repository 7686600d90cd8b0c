"""The walkthrough's time on every real diff, without a model: the walk itself (ast and the diff's
lines, on a ChangeSet already parsed), its Markdown rendering, and `reviewbot describe` end to end
(the diff file read and parsed too), each the median of --repeat runs in this process.

    .venv/bin/python bench/walkthrough.py [--data ../shared/data/diffs/real] [--repeat 5]

(from a worktree other than the venv's own checkout: PYTHONPATH=. so that its reviewbot is timed)

Prints one row per diff: files, symbols named, how many files were walked from whole texts (ast) and
from the diff's lines, and the three times in milliseconds.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

from reviewbot.model import Skipped
from reviewbot.plan import skip_reason
from reviewbot.platforms.cli import main as cli
from reviewbot.reporters import markdown
from reviewbot.reporters.walkthrough import render_markdown
from reviewbot.sources.diff_file import DiffFileSource
from reviewbot.walkthrough import walk

ROOT = Path(__file__).resolve().parents[1]


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "diffs" / "real")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(
        f"{'diff':<36} {'files':>5} {'named':>6} {'ast':>4} {'diff':>4} {'walk ms':>8} {'md ms':>6} "
        f"{'describe ms':>11}"
    )
    for path in sorted(args.data.glob("*.diff*")):
        cs = DiffFileSource(str(path)).load()
        skipped = [Skipped(f.path, r) for f in cs.files if (r := skip_reason(f))]
        w = walk(cs, skipped)
        walk_ms = _median_ms(lambda cs=cs, skipped=skipped: walk(cs, skipped), args.repeat)
        md_ms = _median_ms(
            lambda w=w: render_markdown(w, code=markdown.code_span, escape=markdown.escape), args.repeat
        )

        def describe(p: Path = path) -> None:
            assert cli(["describe", "--diff", str(p), "--no-progress"], stdout=io.StringIO()) == 0

        describe_ms = _median_ms(describe, max(1, args.repeat // 2))
        ast = sum(1 for f in w.files if "(ast)" in f.basis)
        lines = sum(1 for f in w.files if f.basis.startswith("the diff's lines"))
        print(
            f"{path.name:<36} {len(cs.files):>5} {len(w.symbols):>6} {ast:>4} {lines:>4} "
            f"{walk_ms:>8.1f} {md_ms:>6.1f} {describe_ms:>11.1f}"
        )
    print(
        f"medians of {args.repeat} runs (describe: {max(1, args.repeat // 2)}); no model is loaded by any of "
        "them"
    )


if __name__ == "__main__":
    main()
