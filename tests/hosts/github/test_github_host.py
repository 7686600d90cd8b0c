"""GitHubHost through the ports.Host seam, against the stand-in: fetch, what was posted, post."""

from __future__ import annotations

from support.github_helpers import client
from support.github_standin import GitHubStandIn

from reviewbot.diff import DiffIndex, anchor_all
from reviewbot.hosts.github.host import GitHubHost
from reviewbot.model import Finding, Location, Result, Severity, Side, Stats
from reviewbot.ports import Host, Prior, Review

REPO = "o/r"
HEAD, BASE = "b" * 40, "a" * 40
DIFF = b"""diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,2 +1,3 @@
 import os
+import json
 x = 1
"""


def _result(change, lines: list[int]) -> Result:
    findings = [
        Finding(Location("app.py", Side.RIGHT, n), Severity.WARNING, f"bad {n}", "model/bug", "review")
        for n in lines
    ]
    a, u = anchor_all(findings, DiffIndex(change.changeset.files))
    return Result(change.changeset, a, u, (), Stats())


def test_a_second_post_through_the_seam_repeats_nothing() -> None:
    with GitHubStandIn() as server:
        server.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        host: Host = GitHubHost(client(server), REPO)
        change = host.fetch(1)
        assert (change.number, change.changeset.base, change.changeset.head) == (1, BASE, HEAD)
        assert host.prior(change) == Prior()
        first = host.post(change, Review(_result(change, [2])), host.prior(change))
        assert (first.inline, first.repeated, first.errors) == (1, 0, ())
        prior = host.prior(change)
        assert prior.head == HEAD and prior.summary_id is not None and len(prior.keys) == 2
        again = GitHubHost(client(server), REPO).post(change, Review(_result(change, [2, 3])), prior)
        assert (again.inline, again.repeated) == (1, 1)
        assert len(server.issue_comments) == 1  # the summary was edited in place


def test_only_the_named_findings_are_posted() -> None:
    from reviewbot.merge import fingerprint

    with GitHubStandIn() as server:
        server.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        host = GitHubHost(client(server), REPO)
        change = host.fetch(1)
        result = _result(change, [1, 2])
        only = frozenset({fingerprint(result.anchored[1].finding)})
        out = host.post(change, Review(result, only, since="c" * 40), Prior())
        assert out.inline == 1 and [c["line"] for c in server.review_comments] == [2]
