"""Every real diff in shared/data/diffs/real/ reviewed as a pull request on the GitHub stand-in.

The stand-in refuses what GitHub refuses (tests/hosts/github/standin.py). Findings come from the real
pipeline (plan, anchor) with a scripted review route that comments on real lines: single lines with
suggestions holding backticks, three-line ranges, removed lines, and lines outside the diff. Diffs
over GitHub's limits (406) are reviewed from a git checkout rebuilt from the diff, as in Actions.
Writes fail at random after they succeeded (502), and secondary rate limits (403 + retry-after) are
injected, so every run also exercises the retries and their de-duplication.
"""

from __future__ import annotations

import pytest
from support.github_helpers import ScriptedRoute, checkout_from_diff, client, git_diff, read_bytes, real_diffs
from support.github_standin import GitHubStandIn

from reviewbot import config, pipeline
from reviewbot.backends.fake import FakeBackend
from reviewbot.hosts.github.fetch import GitHubPullSource
from reviewbot.platforms.github import Target, review_pull

REPO = "pallets/flask"
BIG = ("flask-0.12.5..3.1.3.diff", "flask-pr-5767.diff", "flask-pr-5772.diff.gz")


def _review(route: ScriptedRoute):
    parts = pipeline.Parts(backend=FakeBackend(), route=route)
    return lambda cs, settings=None: pipeline.run(cs, parts)


@pytest.fixture(scope="module")
def big_checkouts(tmp_path_factory):
    """(checkout, base, head, GitHub's diff) for the diffs GitHub refuses, built once."""
    out = {}
    for p in real_diffs():
        if p.name in BIG:
            repo = tmp_path_factory.mktemp(p.name.split(".diff")[0])
            base, head = checkout_from_diff(read_bytes(p), repo)
            out[p.name] = (repo, base, head, git_diff(repo, base, head))
    return out


@pytest.mark.parametrize("path", real_diffs(), ids=lambda p: p.name)
def test_real_diff_is_posted_without_422_duplicates_or_losses(path, big_checkouts, tmp_path):
    settings = config.load({"fail_on": "never"}, {}, None)
    with GitHubStandIn(seed=len(path.name)) as gh_server:
        if path.name in big_checkouts:
            checkout, base, head, diff = big_checkouts[path.name]
        else:
            checkout, base, head, diff = None, "a" * 40, "b" * 40, read_bytes(path)
        gh_server.add_pull(REPO, 7, base=base, head=head, diff=diff)
        gh_server.flaky_after_write = 0.3  # writes that succeed, then answer 502
        gh_server.fail("POST", r"/pulls/7/reviews$", "502")  # a 502 before anything was written
        gh_server.fail("POST", r"/pulls/7/reviews$", "secondary")  # then 403 + retry-after on the review
        gh_server.fail("POST", r"/issues/7/comments$", "secondary-noheader")
        waits: list[float] = []
        gh = client(gh_server, waits=waits)
        route = ScriptedRoute()
        target = Target(REPO, 7, head)
        first = review_pull(settings, gh, target, _review(route), checkout=checkout, post=True)

        assert gh_server.rejections == []  # zero 422s (and no other refusal)
        assert 422 not in gh_server.statuses()
        reviews = gh_server.reviews_of(REPO, 7)
        assert len(reviews) == 1, "one review, even when a POST that succeeded answered 502"
        assert gh_server.statuses("POST", r"/pulls/7/reviews$")[:2] == [502, 403]
        assert reviews[0]["state"] == "COMMENTED" and reviews[0]["commit_id"] == head
        comments = gh_server.comments_of(REPO, 7)
        assert first.posted is not None and first.posted.errors == ()
        assert len(comments) == first.posted.inline <= 30
        if route.items:
            assert comments, "findings on real lines became inline comments"
        for c in comments:
            if "```suggestion" in c["body"]:
                assert c["side"] == "RIGHT" and (c.get("start_side") in (None, "RIGHT"))
        assert 1 in waits and any(w >= 60 for w in waits), "retry-after honoured; a minute without it"
        summaries = [
            c for c in gh_server.issue_comments if c["body"].startswith("<!-- reviewbot:summary -->")
        ]
        assert len(summaries) == 1
        runs = [r for r in gh_server.check_runs if r["head_sha"] == head]
        assert len(runs) == 1 and len(runs[0]["annotations"]) == first.posted.annotations
        if path.name in BIG:
            assert "diff from git" in first.result.changeset.description
        elif checkout is None:
            assert GitHubPullSource(gh, REPO, 7).load().files  # the API gave the diff

        # a re-run on the same head: nothing new is posted, the summary is edited in place
        n_writes = len(gh_server.statuses("POST", r"^/repos/"))
        again = review_pull(settings, gh, target, _review(ScriptedRoute()), checkout=checkout, post=True)
        assert len(gh_server.reviews_of(REPO, 7)) == 1
        assert len(gh_server.comments_of(REPO, 7)) == len(comments)
        assert again.posted is not None and again.posted.review is None
        assert again.posted.repeated == first.posted.inline + first.posted.listed
        assert (
            len([c for c in gh_server.issue_comments if c["body"].startswith("<!-- reviewbot:summary -->")])
            == 1
        )
        assert [p for p in gh_server.statuses("POST", r"^/repos/")[n_writes:] if p != 502] in (
            [201],
            [],
        )  # the check run only
        assert gh_server.rejections == []
