"""The cost of reading the team's signals at the start of a review: API calls and seconds on a
repository with 50 recent pull (merge) requests, each with 3 of the bot's threads carrying
reactions (award emoji), a resolution and a reply, on the GitHub and GitLab stand-ins (real HTTP
servers on loopback, so the seconds include real request handling but no internet latency).

    .venv/bin/python bench/learning_signals_cost.py [--prs 50] [--threads 3] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.github_standin import GitHubStandIn, react, resolve_as, set_permission  # noqa: E402
from tests.support.gitlab_standin import GitLabStandIn, award  # noqa: E402
from tests.support.gitlab_standin import resolve_as as gitlab_resolve  # noqa: E402
from tests.support.learning_threads import (  # noqa: E402
    GITLAB_FILES,
    github_comment,
    github_diff,
    github_reader,
    gitlab_graphql_reader,
    gitlab_reader,
    gitlab_thread,
)

REPO = "octo/lib"


def github(prs: int, threads: int, repeat: int, seconds: float) -> tuple[list, list[float], int]:
    with GitHubStandIn() as s:
        set_permission(s, REPO, "ann", "write")
        for n in range(1, prs + 1):
            s.add_pull(REPO, n, base="b" * 40, head=f"{n:040x}", diff=github_diff("    if n > 1:"))
            for t in range(threads):
                c = github_comment(s, REPO, n, f"Comment {t} on #{n}.")
                react(s, c, "ann", "THUMBS_DOWN" if t else "THUMBS_UP")
                react(s, c, "drive-by", "THUMBS_DOWN")
                if t == 2:
                    resolve_as(s, c, "ann")
        calls, secs, found = [], [], 0
        for _ in range(repeat):
            r = github_reader(s, REPO, seconds=seconds)
            t0 = time.perf_counter()
            found = len(r.read("octo", "lib"))
            secs.append(time.perf_counter() - t0)
            calls.append((r.calls, r.asked, r.notes))
        return calls, secs, found


def gitlab(
    prs: int, threads: int, repeat: int, seconds: float, graphql: bool = False
) -> tuple[list, list[float], int]:
    with GitLabStandIn(page_size=100) as s:
        s.add_member(REPO, "dev", 30)
        for n in range(1, prs + 1):
            s.add_mr(REPO, n, base="b" * 40, head=f"{n:040x}", files=GITLAB_FILES)
            for t in range(threads):
                note = gitlab_thread(s, REPO, n, f"Comment {t} on !{n}.")
                award(s, REPO, n, note, "dev", "thumbsdown" if t else "thumbsup")
                award(s, REPO, n, note, "drive-by", "thumbsdown")
                if t == 2:
                    gitlab_resolve(s, REPO, n, note, "dev")
        calls, secs, found = [], [], 0
        for _ in range(repeat):
            r = (gitlab_graphql_reader if graphql else gitlab_reader)(s, REPO, seconds=seconds)
            t0 = time.perf_counter()
            found = len(r.read(REPO))
            secs.append(time.perf_counter() - t0)
            calls.append((r.calls, r.asked, r.notes))
        return calls, secs, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0, help="the readers' time limit (default: theirs)")
    args = ap.parse_args()
    print(
        f"reader time limit {args.seconds:g} s; {args.prs} pull requests, {args.threads} bot threads each "
        "(reactions from a writer and an outsider, one resolved by a person); "
        f"{args.repeat} reads each, a fresh reader (no cache) every time"
    )

    def gitlab_graphql(*a):
        return gitlab(*a, graphql=True)

    for host, run in (
        ("GitHub (GraphQL)", github),
        ("GitLab (GraphQL)", gitlab_graphql),
        ("GitLab (REST)", gitlab),
    ):
        calls, secs, found = run(args.prs, args.threads, args.repeat, args.seconds)
        reads, asked, notes = calls[-1]
        print(
            f"{host:17} calls reading threads {reads}, write-access lookups {asked} (one per person); "
            f"seconds median {statistics.median(secs):.3f}, max {max(secs):.3f}; signals read {found}; "
            f"limits reached: {'; '.join(notes) or 'none'}"
        )


if __name__ == "__main__":
    main()
