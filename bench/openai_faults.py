"""The openai backend through the whole review, against the vLLM-like stand-in server (no GPU here).

1. Concurrency: a review of N changed files (one work item each) while every chat completion takes
   `--latency` seconds at the server, at model.concurrency 1, 4 and 8: wall time, the most requests
   the server saw at once, and whether the findings equal the sequential run's.
2. Faults: the same review (4 items) with the server down (a closed port), slow (every answer
   later than model.timeout), in a 429 storm, and answering truncated bodies; model.timeout 1 s,
   model.retries 1: wall time, items reviewed / not reviewed, and the first words of the note.

    python bench/openai_faults.py [--files 8] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.cli_json import review_git_openai  # noqa: E402
from support.openai_standin import StandIn, minimal_instance  # noqa: E402

GIT = ["git", "-c", "user.name=b", "-c", "user.email=b@example.invalid", "-c", "init.defaultBranch=main"]
OLD = "def total(items):\n    result = 0\n    result = sum(items)\n    return result\n"
NEW = (
    "def total(items):\n    result = 0\n"
    "    result = accumulate_every_item_with_a_helper_nobody_defined(items)\n    return result\n"
)


def answer(schema):
    if "findings" not in schema.get("properties", {}):
        return minimal_instance(schema)
    return {
        "findings": [
            {
                "row": 3,
                "severity": "error",
                "category": "bug",
                "code": "accumulate",
                "message": "The helper called here is not defined anywhere.",
                "suggestion": None,
            }
        ]
    }


def make_repo(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    run = lambda *a: subprocess.run([*GIT, *a], cwd=root, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    for i in range(n):
        (root / f"m{i}.py").write_text(OLD)
    run("add", "-A")
    run("commit", "-qm", "base")
    for i in range(n):
        (root / f"m{i}.py").write_text(NEW)
    run("commit", "-qam", "change")
    return root


def review(repo: Path, url: str, **cfg) -> tuple[float, dict]:
    code, doc, err, took = review_git_openai(repo, url, **cfg)
    if code != 0:
        raise SystemExit(f"review exited {code}: {err.strip()}")
    return took, doc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.3)
    args = ap.parse_args()
    os.environ["GIT_CONFIG_GLOBAL"] = "/dev/null"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "big", args.files)
        print(
            f"\n1. concurrency: {args.files} work items, stand-in latency {args.latency} s per chat "
            "completion"
        )
        print("| model.concurrency | wall s | peak requests at the server | findings same as sequential |")
        print("|---|---|---|---|")
        base = None
        for n in (1, 4, 8):
            with StandIn(json_answer=answer, latency=args.latency) as s:
                took, doc = review(repo, s.url, concurrency=n, timeout=30)
                peak = s.max_in_flight
            same = (
                "(reference)" if base is None else str(doc["findings"] == base and doc["not_reviewed"] == [])
            )
            base = doc["findings"] if base is None else base
            print(f"| {n} | {took:.2f} | {peak} | {same} |")

        small = make_repo(Path(tmp) / "small", 4)
        print("\n2. faults: 4 work items, model.timeout 1 s, model.retries 1, model.concurrency 1")
        print("| fault | wall s | reviewed | not reviewed | note (start) |")
        print("|---|---|---|---|---|")
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            port = sk.getsockname()[1]
        cases = [
            ("server down (closed port)", None, None),
            ("slow (5 s per answer)", "slow", None),
            ("429 storm", "429", {"retry_after": 0}),
            ("truncated bodies", "truncated", {}),
        ]
        for label, kind, params in cases:
            if kind is None:
                took, doc = review(small, f"http://127.0.0.1:{port}/v1", concurrency=1, timeout=1, retries=1)
            else:
                with StandIn(json_answer=answer, latency=5.0 if kind == "slow" else 0.0) as s:
                    if kind != "slow":
                        s.fail(kind, times=1000, **params)
                    took, doc = review(small, s.url, concurrency=1, timeout=1, retries=1)
            st = doc["stats"]
            missed = len({x["path"] for x in doc["not_reviewed"] if x["stage"] == "model"})
            note = next((n for n in doc["notes"] if n.startswith("model degraded")), "")
            short = note.split(": openai backend: ")[-1][:90].replace("|", "/")
            print(
                f"| {label} | {took:.2f} | {st['reviewed_items']}/{st['work_items']} | {missed} | {short} |"
            )


if __name__ == "__main__":
    main()
