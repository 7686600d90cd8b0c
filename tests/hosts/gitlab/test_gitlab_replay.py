"""Every real diff in shared/data/diffs/real/ reviewed as a merge request on the GitLab stand-in.

The stand-in refuses what GitLab refuses (tests/support/gitlab_standin.py). Findings come from the
real pipeline with a scripted review route that comments on real lines: single lines with
suggestions holding backticks, three-line ranges (``line_range`` with ``line_code``), removed lines,
and lines outside the diff. Writes fail at random after they succeeded (502), and 429 with
``Retry-After`` and a 502 before any write are injected, so every run exercises the retries.
"""

from __future__ import annotations

import re

import pytest
from support.github_helpers import ScriptedRoute, read_bytes, real_diffs
from support.gitlab_helpers import client
from support.gitlab_standin import GitLabStandIn, gitlab_files

from reviewbot import pipeline
from reviewbot.backends.fake import FakeBackend
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.platforms.gitlab import review_mr

PROJECT = "pallets/flask"


def _review(route: ScriptedRoute):
    parts = pipeline.Parts(backend=FakeBackend(), route=route)
    return lambda cs: pipeline.run(cs, parts)


@pytest.mark.parametrize("path", real_diffs(), ids=lambda p: p.name)
def test_real_diff_is_posted_without_rejections_duplicates_or_losses(path):
    with GitLabStandIn(seed=len(path.name)) as gl_server:
        gl_server.add_mr(PROJECT, 7, base="a" * 40, head="b" * 40, files=gitlab_files(read_bytes(path)))
        gl_server.flaky_after_write = 0.3  # writes that succeed, then answer 502
        gl_server.fail("POST", r"/draft_notes$", "502")  # a 502 before anything was written
        gl_server.fail("POST", r"/draft_notes$", "429")  # then 429 + Retry-After
        gl_server.fail("POST", r"/notes$", "429")
        waits: list[float] = []
        gl_host = GitLabHost(client(gl_server, waits=waits), PROJECT)
        route = ScriptedRoute()
        first = review_mr(gl_host, gl_host.fetch(7), _review(route), post=True)

        assert gl_server.rejections == []  # zero refused positions
        assert 400 not in gl_server.statuses()
        threads = gl_server.threads(PROJECT, 7)
        assert first.posted is not None and first.posted.errors == ()
        assert len(threads) == first.posted.inline <= 30
        if route.items:
            assert threads, "findings on real lines became threads"
        bodies = [t["notes"][0]["body"] for t in threads]
        assert len(set(bodies)) == len(bodies), "no duplicate thread after a retried POST that had succeeded"
        assert any(t["notes"][0]["position"].get("line_range") for t in threads) or not route.items
        for t in threads:
            pos = t["notes"][0]["position"]
            if "```suggestion" in t["notes"][0]["body"]:
                assert "new_line" in pos
        assert gl_server.statuses("POST", r"/draft_notes$")[:2] == [502, 429]
        assert 429 in gl_server.statuses("POST", r"/notes$")
        assert waits.count(1.0) >= 2, "Retry-After honoured"
        assert len(gl_server.summaries(PROJECT, 7)) == 1
        assert gl_server.mrs[(PROJECT, 7)].drafts == []

        # a re-run on the same head: nothing new, the summary edited in place
        n_writes = len(gl_server.statuses("POST"))
        again = review_mr(gl_host, gl_host.fetch(7), _review(ScriptedRoute()), post=True)
        assert len(gl_server.threads(PROJECT, 7)) == len(threads)
        assert again.posted is not None and again.posted.inline == 0
        assert again.posted.repeated == first.posted.inline + first.posted.listed
        assert len(gl_server.summaries(PROJECT, 7)) == 1
        assert gl_server.statuses("POST")[n_writes:] == [], "no write at all but the summary's PUT"
        assert gl_server.rejections == []
        summary = gl_server.summaries(PROJECT, 7)[0]["body"]
        assert re.search(r"<!-- reviewbot:head=b{40} mac=[0-9a-f]{32} -->", summary)
