"""A longer fuzz run of the issue-14 targets (tests/support/fuzz_targets.py): random and mutated
inputs for N seconds per target; prints inputs tried, seconds and crashes (exit 1 on a crash).

    .venv/bin/python bench/fuzz.py [--seconds 60] [--seed 0]
    .venv/bin/python bench/fuzz.py --atheris TARGET [--seconds 60 | --runs N]

``--atheris``: one target under atheris (libFuzzer, coverage-guided over reviewbot's code, the
seeds as its corpus); it prints libFuzzer's lines and exits non-zero on a crash. The bounded runs in
CI are tests/test_fuzz.py (hypothesis, and each target under atheris for a few thousand inputs).
Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TARGETS = {  # name -> (target, seeds attribute, takes text)
    "diff": ("diff", "SEEDS_DIFF", False),
    "anchor": ("anchor", "SEEDS_ANCHOR", False),
    "config": ("config", "SEEDS_CONFIG", True),
    "artifact": ("artifact", "SEEDS_ARTIFACT", False),
    "markdown": ("escape", "SEEDS_MARKDOWN", True),
}


def fuzz_atheris(name: str, seconds: float, runs: int | None) -> None:
    """Run one target under atheris; libFuzzer exits the process (non-zero on a crash)."""
    import tempfile

    import atheris

    with atheris.instrument_imports(include=["reviewbot"]):
        from support import fuzz_targets as targets
    fn_name, seeds_name, as_text = TARGETS[name]
    fn = getattr(targets, fn_name)

    def one(data: bytes) -> None:
        fn(data.decode("utf-8", "replace") if as_text else data)

    corpus = tempfile.mkdtemp(prefix=f"reviewbot-fuzz-{name}-")
    for i, seed in enumerate(getattr(targets, seeds_name)):
        Path(corpus, f"seed{i}").write_bytes(seed.encode() if isinstance(seed, str) else seed)
    limit = [f"-runs={runs}"] if runs is not None else [f"-max_total_time={int(seconds)}"]
    # libFuzzer's memory limit (2 GB) is on the process's peak resident size, which Linux carries
    # over fork and exec from the parent: under a big parent (a test run with a model loaded) the
    # limit counts from the peak this process started with
    import resource

    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    rss = f"-rss_limit_mb={inherited_mb + 2048}"
    argv = [
        sys.argv[0],
        "-max_len=2048",
        "-seed=1",
        "-print_final_stats=1",
        rss,
        "-malloc_limit_mb=2048",
        *limit,
        corpus,
    ]
    atheris.Setup(argv, one)
    atheris.Fuzz()


_TOKENS = [
    b"\n",
    b"\r\n",
    b"@@ -",
    b" +",
    b",",
    b" @@",
    b"--- a/",
    b"+++ b/",
    b"diff --git ",
    b"\x00",
    b"\x1b[",
    b"\xff",
    b"[",
    b"](",
    b"|",
    b"```",
    b"- ",
    b"@",
    b"<!--",
    b"&",
    b": ",
    b"*",
    b"{",
    b"}",
]


def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            del data[pos : pos + rng.randint(1, 8)]
        elif op == 1:
            data[pos:pos] = rng.choice(_TOKENS)
        elif op == 2:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            data[pos:pos] = data[: rng.randint(0, 64)]
    return bytes(data)


def run(name, target, seeds, as_text, seconds, rng):
    n = crashes = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if rng.random() < 0.2:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 512)))
        else:
            raw = mutate(rng, rng.choice(seeds))
        arg = raw.decode("utf-8", "replace") if as_text else raw
        try:
            target(arg)
        except Exception:  # a crash: anything but the documented error, or a broken invariant
            crashes += 1
            if crashes <= 3:
                print(f"{name}: crash on {arg[:200]!r}", file=sys.stderr)
                traceback.print_exc()
        n += 1
    dt = time.perf_counter() - t0
    print(f"{name:9} {n:8d} inputs  {dt:6.1f} s  {n / dt:8.0f}/s  {crashes} crashes")
    return crashes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--atheris", choices=sorted(TARGETS), help="one target under atheris instead")
    ap.add_argument("--runs", type=int, default=None, help="with --atheris: stop after N inputs")
    args = ap.parse_args()
    if args.atheris:
        fuzz_atheris(args.atheris, args.seconds, args.runs)
    from support import fuzz_targets as t  # after --atheris: atheris must import it instrumented

    rng = random.Random(args.seed)
    enc = lambda xs: [x.encode() for x in xs]  # noqa: E731
    crashes = run("diff", t.diff, t.SEEDS_DIFF, False, args.seconds, rng)
    crashes += run("anchor", t.anchor, t.SEEDS_ANCHOR, False, args.seconds, rng)
    crashes += run("config", t.config, enc(t.SEEDS_CONFIG), True, args.seconds, rng)
    crashes += run("artifact", t.artifact, t.SEEDS_ARTIFACT, False, args.seconds, rng)
    crashes += run("markdown", t.escape, enc(t.SEEDS_MARKDOWN), True, args.seconds, rng)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
