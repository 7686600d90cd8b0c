"""Does the light resemblance measure (``learning/similarity.py``: token overlap of message and code)
tell kinds of comments apart as well as MiniLM vectors (the ``vectors`` extra)? A proxy measured
without the review model: one comment per review-bugs case, made the way the bot opens its
comments (the change fact about the first changed line, ``routes.review_comment.fact_text``, and
that line's code). For each comment, its 5 nearest other comments outside its own bug/clean pair:
how many name the same kind of change fact (precision at 5), and how often its twin (the same
spot, the change reversed) is its nearest of all (twin at 1). Also how many pairs of comments from
different projects (unrelated by construction) reach the light measure's resemblance threshold.

    .venv/bin/python bench/learning_similarity.py [--data ../shared/data/review-bugs]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot import evaluation  # noqa: E402
from reviewbot.diff.parse import parse_diff  # noqa: E402
from reviewbot.learning.signals import Subject  # noqa: E402
from reviewbot.learning.similarity import RESEMBLES, similarity  # noqa: E402
from reviewbot.learning.subjects import fact_kind  # noqa: E402
from reviewbot.model import LineKind  # noqa: E402
from reviewbot.routes.review_comment import fact_text  # noqa: E402

K = 5


def comments(data: Path) -> list[tuple[str, str, Subject]]:
    """(case id, pair, subject) of the first changed line of each case that has one."""
    out = []
    for case in evaluation.load_cases(data):
        for fd in parse_diff(case.diff_text()):
            h = next((h for h in fd.hunks if any(ln.kind is not LineKind.CONTEXT for ln in h.lines)), None)
            if h is None:
                continue
            line = next(ln for ln in h.lines if ln.kind is not LineKind.CONTEXT)
            message = fact_text(fd.path, line, list(h.lines)) or "This line changed."
            out.append(
                (
                    case.id,
                    case.pair,
                    Subject("review/bug", fact_kind(h, line, fd.path), fd.path, message, line.text.strip()),
                )
            )
            break
    return out


def scores(rows, sim) -> tuple[float, float, int]:
    """(precision at K of the same fact kind, twin at 1, comments with a kind)"""
    hits = total = twins = queries = 0
    for i, (_, pair, s) in enumerate(rows):
        ranked = sorted((j for j in range(len(rows)) if j != i), key=lambda j: -sim(i, j))
        twins += rows[ranked[0]][1] == pair
        queries += 1
        if not s.fact_kind:
            continue
        others = [j for j in ranked if rows[j][1] != pair][:K]
        hits += sum(rows[j][2].fact_kind == s.fact_kind for j in others)
        total += K
    return hits / total, twins / queries, total // K


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    args = ap.parse_args()
    rows = comments(args.data)
    subjects = [s for _, _, s in rows]
    t0 = time.perf_counter()
    light = [[similarity(a, b) for b in subjects] for a in subjects]
    t_light = time.perf_counter() - t0
    from reviewbot.knowledge.vectors import MiniLM

    t0 = time.perf_counter()
    emb = MiniLM.load()
    vecs = emb.embed([f"{s.message}\n{s.code}" for s in subjects])
    cos = vecs @ vecs.T
    t_mini = time.perf_counter() - t0
    print(
        f"{len(rows)} comments (one per review-bugs case), {K} nearest outside the own pair; "
        f"kinds of change fact: {len({s.fact_kind for s in subjects})}"
    )
    for name, m, secs in (("light (token overlap)", light, t_light), ("MiniLM cosine", cos, t_mini)):
        p, twin, n = scores(rows, lambda i, j, m=m: float(m[i][j]))
        print(
            f"{name:22} same fact kind in the {K} nearest: {p:.3f} (over {n} comments with a kind); "
            f"twin nearest: {twin:.3f}; {secs:.1f} s for every pair (MiniLM: loading it included)"
        )
    project = [pair.rsplit("-", 1)[0] for _, pair, _ in rows]
    cross = [(i, j) for i in range(len(rows)) for j in range(i + 1, len(rows)) if project[i] != project[j]]
    over = sum(light[i][j] >= RESEMBLES for i, j in cross)
    print(
        f"pairs from different projects at or above the light threshold {RESEMBLES}: {over} of {len(cross)} "
        f"({over / len(cross):.4f})"
    )


if __name__ == "__main__":
    main()
