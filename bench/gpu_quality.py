"""The review-quality run for a GPU machine: `reviewbot eval` on the public review-bugs
set and on review-bugs-newcode (seed 0, 40 pairs each), with a capable model on the local backend
(`--model-dir`, on CUDA), for each review strategy. `bench/gpu.py --quality DIR` runs it.

The weights are never downloaded: DIR must hold a transformers checkpoint already (docs/deploy-gpu.md
names the model, Qwen/Qwen2.5-Coder-7B-Instruct, and how to fetch it once onto the runner). Without
CUDA or without the checkpoint it says so and measures nothing (exit 2).

Each eval runs as its own `reviewbot eval ... --format json` process; the figures printed are its
detection (recall minus clean flag rate, Newcombe's interval), recall, clean flag rate and time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = ("review-bugs", "review-bugs-newcode")
STRATEGIES = ("generative", "likelihood")


def missing_checkpoint(model_dir: Path) -> str | None:
    if not (model_dir / "config.json").is_file():
        return f"no transformers checkpoint at {model_dir} (config.json missing); nothing is downloaded"
    return None


def eval_command(data: Path, model_dir: Path, device: str, strategy: str, limit: int) -> list[str]:
    return [
        str(Path(sys.executable).parent / "reviewbot"),
        "eval",
        str(data),
        "--limit",
        str(limit),
        "--seed",
        "0",
        "--backend",
        "local",
        "--model-dir",
        str(model_dir),
        "--device",
        device,
        "--strategy",
        strategy,
        "--format",
        "json",
        "--no-progress",
    ]


def run(model_dir: Path, device: str, *, data: Path = DATA, limit: int = 40, out: Path | None = None) -> int:
    why = missing_checkpoint(model_dir)
    if why:
        print(f"bench/gpu.py --quality: {why}. Nothing was measured.", file=sys.stderr)
        return 2
    report: dict = {"model_dir": str(model_dir), "device": device, "limit": limit, "seed": 0, "runs": []}
    print(f"review quality with {model_dir.name} on {device}: {limit} pairs (seed 0) per set")
    for name in SETS:
        for strategy in STRATEGIES:
            cmd = eval_command(data / name, model_dir, device, strategy, limit)
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            if p.returncode != 0:
                tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
                print(f"  {name:20} {strategy:10} failed (exit {p.returncode}): {tail}")
                report["runs"].append({"set": name, "strategy": strategy, "error": tail})
                continue
            bot = json.loads(p.stdout)["bot"]
            report["runs"].append(
                {"set": name, "strategy": strategy, "seconds": round(seconds, 1), "bot": bot}
            )
            d, r, c = bot["detection"], bot["recall"], bot["clean_flag_rate"]
            print(
                f"  {name:20} {strategy:10} detection {d['value']:+.3f} [{d['interval95'][0]:+.2f}, "
                f"{d['interval95'][1]:+.2f}]  recall {r['k']}/{r['n']}  clean flagged {c['k']}/{c['n']}  "
                f"{seconds:.0f} s"
            )
    if out:
        out.write_text(json.dumps(report, indent=2))
        print(f"written: {out}")
    return 0
