"""The local backend's prefix cache on the embedded model (CPU): what routing costs before a route.

For each work item of examples/sample.diff (or of a git range, `--git`): the router's prompt
(reviewbot/router.py) and its constrained choice over the five route labels, then the review route's
generation on the same prefix, in the shape the router is moving to: the chosen label as the assistant's
turn, the
route's instructions and rows as a new user turn, a schema-constrained answer. Timed with the
prefix cache (the generation prefills only the new tokens) and without, after a warm-up, and
against the generation alone (no routing); the runs are interleaved and repeated, and the fastest
of each is kept (the machine is shared). Prints per item and the totals.

    python bench/prefix_cache.py [--items 3] [--max-tokens 8] [--repeats 3] [--git BASE..HEAD --repo DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot import prompts  # noqa: E402
from reviewbot.backends.local import LocalBackend  # noqa: E402
from reviewbot.config import load  # noqa: E402
from reviewbot.plan import plan  # noqa: E402
from reviewbot.router import ROUTES, Router  # noqa: E402
from reviewbot.routes.review import render_rows, review_schema  # noqa: E402
from reviewbot.sources.diff_file import DiffFileSource  # noqa: E402
from reviewbot.tokens import estimate_tokens  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the fastest is kept")
    ap.add_argument("--git", metavar="BASE..HEAD", help="work items from this git range (of --repo) instead")
    ap.add_argument("--repo", default=str(ROOT))
    args = ap.parse_args()
    import torch

    b = LocalBackend(cache_dir=load({}, os.environ, None).cache)
    b.load()
    router = Router(b, available=ROUTES)
    if args.git:
        from reviewbot.sources.git import GitSource

        cs = GitSource(Path(args.repo), args.git).load()
    else:
        cs = DiffFileSource(str(ROOT / "examples" / "sample.diff")).load()
    items = plan(cs, count=estimate_tokens, item_tokens=1200, budget_tokens=24000).items[: args.items]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; model {b.model_id}; {len(items)} work items"
    )
    print(
        "| item | route prompt | route+review prompt | cache | choose s | generate s | prefilled | generate "
        "alone s | routing overhead |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    totals = {"alone": 0.0, True: [0.0, 0.0, 0], False: [0.0, 0.0, 0]}
    for item in items:
        route_msgs = router.messages(item)
        rows = [ln for h in item.hunks for ln in h.lines][:12]
        follow = [
            {"role": "assistant", "content": "review"},
            {
                "role": "user",
                "content": prompts.render("review_user", path=item.path, rows=render_rows(rows)),
            },
        ]
        full = [*route_msgs, *follow]
        schema = review_schema(len(rows), 1)
        b.generate(full, schema=schema, max_tokens=2)  # warm-up (grammar compile)
        best: dict = {"alone": float("inf"), True: None, False: None}
        texts: dict = {}
        for _ in range(args.repeats):  # interleaved, the fastest of each kept: the machine is shared
            b.prefix_cache = False
            b._kv, b._kv_ids = None, []
            t = time.perf_counter()
            texts["alone"] = b.generate(full, schema=schema, max_tokens=args.max_tokens).text
            best["alone"] = min(best["alone"], time.perf_counter() - t)
            for cached in (True, False):
                b.prefix_cache = cached
                b._kv, b._kv_ids = None, []
                c = b.choose(route_msgs, router.candidates(None))
                t = time.perf_counter()
                g = b.generate(full, schema=schema, max_tokens=args.max_tokens)
                gen = time.perf_counter() - t
                texts[cached] = g.text
                if best[cached] is None or c.seconds + gen < best[cached][0] + best[cached][1]:
                    best[cached] = (c.seconds, gen, g, c)
        alone = best["alone"]
        totals["alone"] += alone
        for cached in (True, False):
            ch, gen, g, c = best[cached]
            prefilled = g.prompt_tokens - g.cached_tokens
            same = "same" if texts[cached] == texts["alone"] else "differs"
            totals[cached][0] += ch
            totals[cached][1] += gen
            totals[cached][2] += prefilled
            print(
                f"| {item.id} | {c.prompt_tokens} | {g.prompt_tokens} | {'on' if cached else 'off'} | "
                f"{ch:.2f} | {gen:.2f} | {prefilled} | {alone:.2f} | "
                f"{100 * (ch + gen - alone) / alone:+.0f}% | {same} |"
            )
    b.prefix_cache = True
    alone_total = totals["alone"]
    for cached in (True, False):
        ch, gen, pre = totals[cached]
        print(
            f"total, cache {'on' if cached else 'off'}: choose {ch:.2f} s + generate {gen:.2f} s "
            f"= {ch + gen:.2f} s against {alone_total:.2f} s for the generations alone "
            f"({100 * (ch + gen - alone_total) / alone_total:+.0f}%); {pre} prompt tokens prefilled by the "
            "generations"
        )


if __name__ == "__main__":
    main()
