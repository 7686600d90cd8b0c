"""The embedded model on OpenVINO (int8 weights, `--backend openvino`) against torch + transformers
(bfloat16, `--backend local`), on the review's own workload, alternating in one run.

What it does, in one process with both backends loaded:
1. Reviews the README's sample diff and the first N cases of `reviewbot eval`'s sample
   (review-bugs, seed 0) with each backend, alternating which goes first per case. A proxy
   around each backend records every call (the judge's `score`, the router's `choose`, the
   constrained comment's `generate`) with its seconds and result. The reviews run with
   `review.suggestions: true`, so that each flagged hunk's constrained comment is written (the
   default review places the comment on the judge's own line and writes nothing).
2. Prints, per verb, the seconds each backend spent and the ratio (torch / openvino), per case
   the wall times, and the agreement on the calls both made with the same input: the mean
   absolute difference of the judge's per-token log-probs (nats) and of its hunk means, the
   routing label agreement, identical constrained comments, whether each comment is valid
   against its schema, and the findings of each review.
3. Routing: bare-diff reviews offer the model one route only, so no routing call is made
   there; the router's own prompt (`Router.messages`, the four routes a checked-out change is
   offered) is asked for every file of the same cases, the backends alternating per file.
4. Start-to-ready and peak memory: a fresh subprocess per backend (alternating, `--starts`
   rounds) imports reviewbot, loads the model (cached conversion), answers one routing choice,
   scores about 1,200 tokens and writes a constrained answer; it prints its seconds to ready, its
   peak RSS and whether torch was imported.

    python bench/cpu_runtime.py [--cases 6] [--seed 0] [--starts 2] [--data ../shared/data/review-bugs]
    python bench/cpu_runtime.py --no-reviews        # start-to-ready, peak memory and routing only

One command prints every figure (the summary is repeated after each review, so a run cut short
still reports). Needs a venv with both backends' packages: `scripts/setup --dev` (the `embedded`
extra, OpenVINO, and the `local` extra, torch + transformers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jsonschema

from reviewbot import compose, config, evaluation, pipeline
from reviewbot.model import WorkItem
from reviewbot.router import Router
from reviewbot.sources.diff_file import DiffFileSource

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample.diff"


def _clocks() -> tuple[float, float]:
    """Wall seconds and this process's CPU seconds (all threads): on a machine that other work
    loads, the CPU seconds are the steadier measure of what a backend costs."""
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> tuple[float, float]:
    now = _clocks()
    return now[0] - t[0], now[1] - t[1]


class Recorder:
    """A ModelBackend proxy that records each call: verb, input key, seconds, result."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.model_id = inner.name, inner.model_id
        self.calls: list[tuple[str, str, tuple[float, float], object]] = []

    def _key(self, *parts) -> str:
        return json.dumps(parts, sort_keys=True, default=str)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def generate(self, messages, *, schema=None, max_tokens=256):
        t = _clocks()
        g = self.inner.generate(messages, schema=schema, max_tokens=max_tokens)
        self.calls.append(("generate", self._key(messages, schema, max_tokens), _since(t), (g, schema)))
        return g

    def choose(self, messages, labels):
        t = _clocks()
        c = self.inner.choose(messages, labels)
        self.calls.append(("choose", self._key(messages, labels), _since(t), c))
        return c

    def score(self, messages, continuation):
        t = _clocks()
        s = self.inner.score(messages, continuation)
        self.calls.append(("score", self._key(messages, continuation), _since(t), s))
        return s


def _backend(name: str):
    # review.suggestions: the route asks the model for the row and a fix of each flagged hunk, so
    # that the constrained comment is measured too (the default review writes nothing)
    settings = config.load({"backend": name, "review.suggestions": True}, os.environ, None)
    b = compose.backend(settings)
    t = time.perf_counter()
    b.load()
    return settings, b, time.perf_counter() - t


def _findings(res) -> list[str]:
    return sorted(
        f"{a.finding.location.path}:{a.finding.location.line} {a.finding.rule}" for a in res.anchored
    )


def _review(settings, rec: Recorder, diff: Path):
    route = compose.route(settings, rec)
    t = _clocks()
    res = pipeline.run(
        DiffFileSource(str(diff)).load(), pipeline.Parts(rec, route, limits=compose.limits(settings))
    )
    return res, _since(t)


def compare(torch_rec: Recorder, ov_rec: Recorder) -> None:
    def by_key(rec, verb):
        return {k: r for v, k, _, r in rec.calls if v == verb}

    # scoring
    ts, os_ = by_key(torch_rec, "score"), by_key(ov_rec, "score")
    common = [k for k in ts if k in os_ and ts[k] is not None and os_[k] is not None]
    tok_diffs, mean_diffs, same_offsets = [], [], 0
    for k in common:
        a, b = ts[k], os_[k]
        same_offsets += a.offsets == b.offsets
        if len(a.logprobs) == len(b.logprobs):
            tok_diffs += [abs(x - y) for x, y in zip(a.logprobs, b.logprobs)]
            mean_diffs.append(abs(a.mean - b.mean))
    if not tok_diffs:
        print("score: no calls in common")
    else:
        print(
            f"score: {len(common)} calls in common, {same_offsets} with the same tokens; "
            f"per-token log-prob |diff| mean {statistics.fmean(tok_diffs):.4f} nats "
            f"(p90 {sorted(tok_diffs)[int(0.9 * (len(tok_diffs) - 1))]:.4f}, {len(tok_diffs)} tokens); "
            f"hunk mean |diff| mean {statistics.fmean(mean_diffs):.4f}, max {max(mean_diffs):.4f}"
        )
    # routing
    tc, oc = by_key(torch_rec, "choose"), by_key(ov_rec, "choose")
    common = [k for k in tc if k in oc]
    if common:
        same = sum(tc[k].label == oc[k].label for k in common)
        pdiff = statistics.fmean(abs(tc[k].probability - oc[k].probabilities[tc[k].label]) for k in common)
        print(
            f"choose: {len(common)} calls in common, same label {same}/{len(common)}, "
            f"|p(torch's label)| diff mean {pdiff:.4f}"
        )
    # constrained comments
    tg, og = by_key(torch_rec, "generate"), by_key(ov_rec, "generate")
    common = [k for k in tg if k in og]
    same = sum(tg[k][0].text == og[k][0].text for k in common)
    valid = {"torch": 0, "openvino": 0}
    for name, recs in (("torch", tg), ("openvino", og)):
        for g, schema in recs.values():
            if schema is None:
                valid[name] += 1
                continue
            try:
                jsonschema.validate(json.loads(g.text), schema)
                valid[name] += 1
            except (ValueError, jsonschema.ValidationError):
                pass
    print(
        f"generate: {len(tg)} torch / {len(og)} openvino calls, {len(common)} with the same input, "
        f"{same} identical texts; valid against their schema: torch {valid['torch']}/{len(tg)}, "
        f"openvino {valid['openvino']}/{len(og)}"
    )


def verb_seconds(rec: Recorder) -> dict[str, tuple[int, float, float]]:
    """verb -> (calls, wall seconds, CPU seconds)"""
    out: dict[str, tuple[int, float, float]] = {}
    for verb, _, (wall, cpu), _ in rec.calls:
        n, w, c = out.get(verb, (0, 0.0, 0.0))
        out[verb] = (n + 1, w + wall, c + cpu)
    return out


CHILD = """
import resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import os
from reviewbot import compose, config
b = compose.backend(config.load({"backend": sys.argv[1]}, os.environ, None))
b.choose([{"role": "user", "content": "Is this a question?"}], ["yes", "no"])
ready, ready_cpu = time.perf_counter() - t0, time.process_time() - c0
code = open(sys.argv[2]).read()
b.score([{"role": "user", "content": "Show the code of this file."}], code)
schema = {"type": "object", "properties": {"bug": {"type": "boolean"}, "why": {"type": "string"}},
          "required": ["bug", "why"]}
b.generate([{"role": "user", "content": "Is there a bug in this code? Answer in JSON.\\n" + code}],
           schema=schema, max_tokens=24)
print(ready, ready_cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch" in sys.modules)
"""
# a file of about 1,200 tokens for the child's scoring pass
SCORED = ROOT / "reviewbot" / "routes" / "review.py"


def starts(rounds: int) -> None:
    """Fresh processes, alternating: start to ready (import, load of the cached model, one routing
    choice), then one scoring pass over about 1,200 tokens and a constrained answer of at most 24
    tokens; the peak RSS covers all of it."""
    res: dict[str, list[tuple[float, float, float, bool]]] = {"local": [], "openvino": []}
    for i in range(rounds):
        for name in ("local", "openvino") if i % 2 == 0 else ("openvino", "local"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, name, str(SCORED)], capture_output=True, text=True, check=True
            )
            ready, ready_cpu, rss, torch = out.stdout.split()
            res[name].append((float(ready), float(ready_cpu), float(rss), torch == "True"))
    for name, rows in res.items():
        print(
            f"{name:>8}: start to ready (import, load, first choice) median "
            f"{statistics.median(r[0] for r in rows):.2f}s wall, "
            f"{statistics.median(r[1] for r in rows):.2f}s CPU; "
            f"peak RSS with a scoring pass and a constrained answer {max(r[2] for r in rows):.0f} MiB; "
            f"torch imported: {rows[0][3]} ({len(rows)} runs)"
        )
    for i, what in ((0, "wall"), (1, "CPU")):
        lr = statistics.median(r[i] for r in res["local"]) / statistics.median(r[i] for r in res["openvino"])
        print(f"start-to-ready ratio torch/openvino ({what}): {lr:.2f}x")


def summary(t_rec: Recorder, o_rec: Recorder, walls: dict, same_findings: int, reviewed: int) -> None:
    """The figures so far (printed after each case, so a run cut short still reports)."""
    (tw, tc), (ow, oc) = walls["torch"], walls["openvino"]
    print(
        f"reviews with the same findings: {same_findings}/{reviewed}; total torch {tw:.1f}s wall "
        f"{tc:.1f}s CPU, openvino {ow:.1f}s wall {oc:.1f}s CPU; torch/openvino {tw / ow:.2f}x wall, "
        f"{tc / oc:.2f}x CPU\n"
    )
    tv, ov = verb_seconds(t_rec), verb_seconds(o_rec)
    for verb in ("score", "choose", "generate"):
        tn, tw, tc = tv.get(verb, (0, 0.0, 0.0))
        on, ow, oc = ov.get(verb, (0, 0.0, 0.0))
        wr = f"{tw / ow:.2f}x" if ow else "-"
        cr = f"{tc / oc:.2f}x" if oc else "-"
        print(
            f"{verb:>8}: torch {tn} calls {tw:.2f}s wall {tc:.2f}s CPU, openvino {on} calls {ow:.2f}s wall "
            f"{oc:.2f}s CPU; torch/openvino {wr} wall, {cr} CPU"
        )
    tokens = {
        name: sum(r[0].generated_tokens for v, _, _, r in rec.calls if v == "generate")
        for name, rec in (("torch", t_rec), ("openvino", o_rec))
    }
    print(
        f"generated tokens: torch {tokens['torch']}, openvino {tokens['openvino']} (the answers may differ)"
    )
    compare(t_rec, o_rec)


def routing(t_rec: Recorder, o_rec: Recorder, cases: list[Path]) -> None:
    """The router's choice for every file of the cases, both backends, alternating per file."""
    labels = ("review", "interpreter", "search", "tools")
    routers = {name: Router(rec, available=labels) for name, rec in (("torch", t_rec), ("openvino", o_rec))}
    n = 0
    for diff in cases:
        for f in DiffFileSource(str(diff)).load().files:
            if not f.hunks:
                continue
            item = WorkItem(id=f.path, path=f.path, file=f, hunks=f.hunks, tokens=0, risk=0.0, at_head=True)
            order = ["torch", "openvino"] if n % 2 == 0 else ["openvino", "torch"]
            for name in order:
                rec = t_rec if name == "torch" else o_rec
                rec.choose(routers[name].messages(item), list(labels))
            n += 1
    tv, ov = verb_seconds(t_rec)["choose"], verb_seconds(o_rec)["choose"]
    print(
        f"routing ({n} files, 4 routes offered): torch {tv[1]:.2f}s wall {tv[2]:.2f}s CPU, openvino "
        f"{ov[1]:.2f}s wall {ov[2]:.2f}s CPU; "
        f"torch/openvino {tv[1] / ov[1]:.2f}x wall, {tv[2] / ov[2]:.2f}x CPU"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--starts", type=int, default=2, help="subprocess rounds for start-to-ready and memory")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    ap.add_argument("--no-reviews", action="store_true", help="the start rows and routing only")
    args = ap.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f} at start"
    )
    if args.starts:
        starts(args.starts)
    t_settings, t_backend, t_load = _backend("local")
    o_settings, o_backend, o_load = _backend("openvino")
    print(f"in-process load: torch {t_load:.2f}s, openvino {o_load:.2f}s")
    t_rec, o_rec = Recorder(t_backend), Recorder(o_backend)
    cases = [SAMPLE]
    if args.cases:
        picked = evaluation.load_cases(args.data, limit=max(1, args.cases // 2), seed=args.seed)[: args.cases]
        cases += [c.diff_path for c in picked]
    routing(t_rec, o_rec, cases)
    if args.no_reviews:
        compare(t_rec, o_rec)
        return
    print(f"\n{'case':<34} {'torch s (CPU s)':>16} {'openvino s (CPU s)':>19} {'same findings':>13}")
    walls = {"torch": [0.0, 0.0], "openvino": [0.0, 0.0]}
    same_findings = 0
    for i, diff in enumerate(cases):
        order = [("torch", t_settings, t_rec), ("openvino", o_settings, o_rec)]
        if i % 2:
            order.reverse()
        found, secs = {}, {}
        for name, settings, rec in order:
            res, secs[name] = _review(settings, rec, diff)
            found[name] = _findings(res)
            walls[name][0] += secs[name][0]
            walls[name][1] += secs[name][1]
        same_findings += found["torch"] == found["openvino"]
        label = diff.parent.name if diff.name == "change.diff" else diff.name
        t, o = secs["torch"], secs["openvino"]
        same = str(found["torch"] == found["openvino"])
        print(f"{label:<34} {t[0]:8.1f} ({t[1]:5.1f}) {o[0]:10.1f} ({o[1]:6.1f}) {same:>13}")
        print(f"-- after {i + 1} of {len(cases)} reviews:")
        summary(t_rec, o_rec, walls, same_findings, i + 1)


if __name__ == "__main__":
    main()
