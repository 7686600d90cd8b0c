"""Two whole reviews, as a user runs them, timed per backend: the README's first command's review
(`scripts/example`: the bundled example repository, `review --git HEAD~1..HEAD` with its linters,
its tests in the sandbox and the model) and `review --diff` of requests v2.25.1..v2.32.3 (the
diff in `../shared/data/diffs/real/`, as "Every real diff through the embedded model" runs it).

Each review is a fresh `reviewbot` process running this checkout's code (PYTHONPATH), with the
model already converted in the cache: "warm" as a second run of the README's command is. One
untimed review of examples/sample.diff per backend first (it converts where the cache has no copy,
and fills the OS's file cache), then the timed runs, the backends alternating. Printed per run:
wall seconds, the model's seconds and tokens from the JSON report, findings, the process's CPU
seconds (its threads and the processes it waited for: the steadier figure where other work loads
the machine) and its peak RSS (wait4); then where the time went, per phase (`phases`): the review
process times its own steps (this script's `--child` mode wraps them), each phase's wall seconds
and CPU seconds: for the main thread's phases the process's (all its threads: the model's too)
while it ran, for the linters and the change's tests, which run in a thread beside the model (their
wall overlaps the model's phases), that thread's own. The CPU of the linters' processes is in the
process's total; that of the sandboxed pytest processes is in neither (they are not this
process's waited-for children).

    python bench/review_speed.py                          # openvino (the default backend), both reviews
    python bench/review_speed.py --backends openvino,local --rounds 2
    python bench/review_speed.py --only readme            # or: --only requests
    python bench/review_speed.py --rounds 5 --against ../wt-base   # this code against an older checkout
    python bench/review_speed.py --against ../wt-old --against-backend local   # against torch as it was
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = ROOT.parent / "shared" / "data" / "diffs" / "real" / "requests-v2.25.1..v2.32.3.diff"
PHASES = (  # (label, module, attribute): the review's steps, in the order they start
    ("imports", "", ""),
    ("change and settings", "reviewbot.platforms.commands", "load_change"),
    ("change and settings", "reviewbot.platforms.commands", "settings_for"),
    ("parts", "reviewbot.platforms.commands", "review_parts"),
    ("plan (tokenizer)", "reviewbot.pipeline", "plan"),
    ("linters", "reviewbot.runners.linters", "Ruff.lint"),
    ("linters", "reviewbot.runners.linters", "Bandit.lint"),
    ("change's tests (sandbox)", "reviewbot.runners.change_tests", "SandboxedChangeTests.run"),
    ("model load", "reviewbot.backends.openvino_backend", "OpenVINOBackend._load"),
    ("model load", "reviewbot.backends.local", "LocalBackend.load"),
    ("routing", "reviewbot.router", "Router.route"),
    ("judging (scores)", "reviewbot.routes.review", "judge_hunk"),
    ("comment (generation)", "reviewbot.routes.review", "ReviewRoute._explain"),
    ("report", "reviewbot.platforms.commands", "write_output"),
)


def child(phases_out: str, argv: list[str]) -> int:
    """`--child`: one review (the CLI's `main(argv)`), its phases timed; written as JSON."""
    import functools
    import importlib
    import threading

    t0, c0 = time.perf_counter(), time.process_time()
    from reviewbot.platforms.cli import main as cli_main

    rows: list[dict] = [
        {"phase": "imports", "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "start": 0.0}
    ]
    lock = threading.Lock()

    def timed(label: str, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            # the main thread's phases: the process's CPU (the model's threads too); a phase in
            # another thread (the linters', the tests'): that thread's own
            cpu = (
                time.process_time
                if threading.current_thread() is threading.main_thread()
                else time.thread_time
            )
            w, c = time.perf_counter(), cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                row = {"phase": label, "wall": time.perf_counter() - w, "cpu": cpu() - c}
                row["start"] = w - t0
                with lock:
                    rows.append(row)

        return wrapper

    for label, module, attr in PHASES[1:]:
        try:
            owner = importlib.import_module(module)
        except ImportError:
            continue  # a backend this venv lacks
        *path, name = attr.split(".")
        try:
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, name, timed(label, getattr(owner, name)))
        except AttributeError:
            continue  # a checkout (`--against`) whose code has no such step
    code = cli_main(argv)
    rows.append({"phase": "total", "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0})
    Path(phases_out).write_text(json.dumps(rows))
    return code


def split(rows: list[dict]) -> str:
    """The phases of one run, summed per label, in the order they started."""
    sums: dict[str, list[float]] = {}
    for r in sorted(rows, key=lambda r: r.get("start", 1e9)):
        s = sums.setdefault(r["phase"], [0.0, 0.0])
        s[0] += r["wall"]
        s[1] += r["cpu"]
    return "; ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in sums.items())


def example_repo(where: Path) -> Path:
    """The repository `scripts/example` reviews: the base tree committed, the change on top."""
    repo = where / "inventory"
    shutil.copytree(ROOT / "examples" / "inventory" / "base", repo)
    ident = ["-c", "user.name=example", "-c", "user.email=example@invalid", "-c", "commit.gpgsign=false"]

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *ident, *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "inventory: the weekly stock report, with tests")
    git("apply", str(ROOT / "examples" / "inventory" / "change.diff"))
    git("commit", "-qam", "report: the change")
    return repo


def run(args: list[str], backend: str, cwd: Path, code: Path = ROOT) -> dict:
    """One review in a fresh process running the reviewbot of checkout ``code``: wall seconds,
    peak RSS, and the JSON report's figures."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")])),
    }
    env.pop("REVIEWBOT_BACKEND", None)
    phases = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    phases.close()
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        phases.name,
        "review",
        *args,
        "--format",
        "json",
        "--fail-on",
        "never",
        "--no-progress",
    ]
    cmd += ["--backend", backend]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"review_speed: {backend} exited {proc.returncode}: {errors.strip()[-400:]}")
    doc = json.loads(text)
    stats = doc["stats"]
    rows = json.loads(Path(phases.name).read_text())
    os.unlink(phases.name)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,  # its threads and the processes it waited for
        "model": stats["model_seconds"],
        "prompt": stats["prompt_tokens"],
        "generated": stats["generated_tokens"],
        "findings": len(doc["findings"]),
        "rss_mib": usage.ru_maxrss / 1024,
        "backend": stats["backend"],
        "phases": split(rows),
    }


def commit_of(code: Path) -> str:
    """The short commit of a checkout, or its folder's name where git cannot say."""
    done = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else code.name


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(child(sys.argv[2], sys.argv[3:]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="openvino", help="comma-separated, alternated (default: openvino)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of the README review per backend")
    ap.add_argument("--requests-rounds", type=int, default=1, help="timed runs of the requests review")
    ap.add_argument("--only", choices=("readme", "requests"), help="one of the two reviews only")
    ap.add_argument(
        "--against",
        type=Path,
        help="another checkout of reviewbot (a git worktree of an older commit): its code runs "
        "alternately with this one's, on each backend, and the ratio is printed",
    )
    ap.add_argument(
        "--against-backend",
        help="with --against: the other checkout runs on this backend only (for example `local`: "
        "the torch path as it was at that commit, against this code's --backends)",
    )
    args = ap.parse_args()
    codes = [ROOT]
    if args.against is not None:
        if not (args.against / "reviewbot" / "__init__.py").is_file():
            raise SystemExit(f"review_speed: {args.against} is not a reviewbot checkout")
        codes = [args.against.resolve(), ROOT]  # the other one first: the ratio is this one's over it
    # (label, backend, code): alternated in this order
    names = [x.strip() for x in args.backends.split(",") if x.strip()]
    backends = [(f"{b}@{commit_of(c)}" if args.against else b, b, c) for b in names for c in codes]
    if args.against is not None and args.against_backend:
        old = codes[0]
        backends = [
            (f"{args.against_backend}@{commit_of(old)}", args.against_backend, old),
            *((f"{b}@{commit_of(ROOT)}", b, ROOT) for b in names),
        ]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    print(f"python {platform.python_version()}; alternating: {', '.join(v[0] for v in backends)}")
    with tempfile.TemporaryDirectory(prefix="review-speed-") as tmp:
        reviews = []
        if args.only in (None, "readme"):
            repo = example_repo(Path(tmp))
            reviews.append(
                (
                    "README review (scripts/example)",
                    ["--repo", str(repo), "--git", "HEAD~1..HEAD"],
                    args.rounds,
                )
            )
        if args.only in (None, "requests"):
            if not REQUESTS.is_file():
                raise SystemExit(f"review_speed: {REQUESTS} is missing (../shared/data beside the checkout)")
            reviews.append(("requests-v2.25.1..v2.32.3", ["--diff", str(REQUESTS)], args.requests_rounds))
        print("\nwarm-up, untimed: `review --diff examples/sample.diff` once per backend")
        for b, backend, code in backends:
            w = run(["--diff", str(ROOT / "examples" / "sample.diff")], backend, Path(tmp), code)
            print(f"  {b}: {w['wall']:.1f} s wall, {w['cpu']:.1f} s CPU")
        for title, review_args, rounds in reviews:
            print(f"\n== {title}: {rounds} timed run(s) per backend, alternating")
            got: dict[str, list[dict]] = {b: [] for b, _, _ in backends}
            for r in range(rounds):
                for b, backend, code in backends:
                    f = run(review_args, backend, Path(tmp), code)
                    got[b].append(f)
                    print(
                        f"  round {r + 1} {b}: {f['wall']:.2f} s wall, {f['cpu']:.2f} s CPU, "
                        f"{f['model']:.2f} s in the model, "
                        f"{f['prompt']} prompt + {f['generated']} generated tokens, "
                        f"{f['findings']} findings, "
                        f"peak RSS {f['rss_mib']:.0f} MiB, load {os.getloadavg()[0]:.1f}"
                    )
                    print(f"    phases (wall/CPU s): {f['phases']}")
            labels = [b for b, _, _ in backends]
            medians = {b: statistics.median(f["wall"] for f in got[b]) for b in labels}
            for b in labels:
                cpu = statistics.median(f["cpu"] for f in got[b])
                print(f"  median {b}: {medians[b]:.2f} s wall, {cpu:.2f} s CPU")
            for b in labels[1:]:
                print(f"  {b} / {labels[0]}: {medians[b] / medians[labels[0]]:.2f}x the wall time")
    print(
        f"\nload average at the end {os.getloadavg()[0]:.1f} (other work on this machine skews every figure)"
    )


if __name__ == "__main__":
    main()
