"""Whether the change fact alone reads as grounded, at every changed line a comment could stand on.

    .venv/bin/python bench/facts_words.py --limit 40 --seed 0        # the reviewbot eval sample
    .venv/bin/python bench/facts_words.py --held-out 100 --seed 1    # bench/all_cases.py's held-out sample

No model: for every changed line of every case's diff, the comment that the review would open with
there (routes/review_comment.fact_text over the line's hunk, as routes/review_answer.placed
composes it) is read by facts/grounding.read as `reviewbot eval` reads a posted comment. A model
comment is that fact alone (the likelihood strategy), or the fact followed by the model's sentence
only when that sentence passes a stricter reading (the generative one), so when every fact reads
as grounded, every posted model comment does too, wherever the judge puts it. Prints the counts,
the kinds of fact, how many lines also name the tokens only one side of the change has, and each
line whose fact is not grounded.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.changed_lines import changed_lines

from reviewbot import evaluation
from reviewbot.facts import facts_for_run
from reviewbot.facts.grounding import read
from reviewbot.routes.review_comment import fact_text, instructions, run_of

NAMES = "only the removed lines have", "only the added lines have"


def sample(data: Path, limit: int | None, seed: int, held_out: int | None) -> list[evaluation.Case]:
    if not held_out:
        return evaluation.load_cases(data, limit=limit, seed=seed)
    seen = {c.pair for c in evaluation.load_cases(data, limit=40, seed=0)}
    pool = [c for c in evaluation.load_cases(data, limit=None, seed=seed) if c.pair not in seen]
    pairs = sorted({c.pair for c in pool})
    random.Random(seed).shuffle(pairs)
    keep = set(pairs[:held_out])
    return [c for c in pool if c.pair in keep]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--held-out", type=int)
    a = ap.parse_args()
    cases = sample(a.data, a.limit, a.seed, a.held_out)
    said = instructions()
    n = grounded = fragments = copies = named = 0
    kinds: Counter[str] = Counter()
    misses: list[str] = []
    t0 = time.perf_counter()
    for case in cases:
        for fd, ln, rows in changed_lines(case.diff_text()):
            text = fact_text(fd.path, ln, rows)
            r = read(text, rows, [ln], said, fd.path)
            n += 1
            grounded += r.kept
            fragments += r.fragment
            copies += r.prompt_copy
            named += any(x in text for x in NAMES)
            removed, added = run_of(ln, rows)
            kinds.update({f.kind for f in facts_for_run(removed, added, fd.path) if f.about(ln)} or {"(run)"})
            if not r.kept:
                misses.append(f"  {case.id} {fd.path}:{ln.number} {ln.side}: {text}")
    secs = time.perf_counter() - t0
    drawn = f"held-out {a.held_out} pairs, seed {a.seed}" if a.held_out else f"limit {a.limit}, seed {a.seed}"
    print(f"{len(cases)} cases ({drawn}); {n} changed lines; {secs:.1f} s")
    print(
        f"the fact at each changed line: grounded {grounded}/{n} ({100 * grounded / max(1, n):.1f}%); "
        f"fragments {fragments}; prompt copies {copies}"
    )
    print("kinds of fact (lines):", ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    print(
        f"lines whose fact also names the tokens only one side has (its own names nothing changed): {named}"
    )
    print(f"not grounded ({len(misses)}):")
    print("\n".join(misses[:40]))


if __name__ == "__main__":
    main()
