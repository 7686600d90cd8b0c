"""The reviewer and the client against the stand-in: GitHub's rules, faults, re-runs, incremental reviews."""

from __future__ import annotations

import pytest
from support.github_helpers import client, read_bytes, real_diffs
from support.github_standin import BOT, GitHubStandIn

from reviewbot.diff import DiffIndex, anchor_all, parse_diff_bytes
from reviewbot.errors import PublishError
from reviewbot.hosts.github.post import GitHubReviewer
from reviewbot.hosts.github.render import comment_body, suggestion_block
from reviewbot.hosts.github.review import Bodies
from reviewbot.hosts.placement import place
from reviewbot.model import ChangeSet, Finding, Location, Result, Severity, Side, Stats

REPO = "o/r"
HEAD, BASE = "b" * 40, "a" * 40
DIFF = b"""diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,5 +1,6 @@
 import os
-import sys
+import json
+import re
 
 def f(x):
     return x
@@ -20,3 +21,4 @@ def g():
     a = 1
     b = 2
+    c = 3
     return a
"""


def _result(findings: list[Finding], diff: bytes = DIFF) -> tuple[Result, DiffIndex]:
    files = parse_diff_bytes(diff, name="t")
    index = DiffIndex(files)
    a, u = anchor_all(findings, index)
    return Result(ChangeSet(files, "t", BASE, HEAD), a, u, (), Stats()), index


def _f(
    line: int, msg: str = "bad", side: Side = Side.RIGHT, start: int | None = None, sev=Severity.WARNING, **kw
) -> Finding:
    return Finding(Location("app.py", side, line, start), sev, msg, "model/bug", "review", **kw)


def review(findings: list[Finding]):
    """A pipeline stand-in for review_pull: these findings, anchored on the ChangeSet it gets."""

    def run(cs: ChangeSet, settings=None) -> Result:
        index = DiffIndex(cs.files)
        a, u = anchor_all(findings, index)
        return Result(cs, a, u, (), Stats())

    return run


def _push(server, head2: str, diff2: bytes, hunks: bytes) -> None:
    """A new head on PR 1, and the compare diff from HEAD to it (app.py's hunks)."""
    server.push(REPO, 1, head=head2, diff=diff2)
    server.add_compare(
        REPO, HEAD, head2, b"diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n" + hunks
    )


@pytest.fixture()
def server():
    with GitHubStandIn() as s:
        s.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        yield s


# ----------------------------------------------------------------------------- the stand-in's rules


def _post(server, comments, **kw):
    gh = client(server, attempts=1)
    return gh.create_review(REPO, 1, commit_sha=HEAD, body="b", comments=comments, **kw)


@pytest.mark.parametrize(
    "comment",
    [
        {"path": "app.py", "line": 15, "side": "RIGHT", "body": "x"},  # outside the diff
        {"path": "app.py", "line": 3, "side": "RIGHT", "start_line": 3, "start_side": "RIGHT", "body": "x"},
        {"path": "app.py", "line": 3, "side": "RIGHT", "start_line": 4, "start_side": "RIGHT", "body": "x"},
        {"path": "app.py", "line": 23, "side": "RIGHT", "start_line": 4, "start_side": "RIGHT", "body": "x"},
        {"path": "nope.py", "line": 1, "side": "RIGHT", "body": "x"},
        {"path": "app.py", "line": 3, "side": "RIGHT", "body": "x" * 65_537},
        {"path": "app.py", "position": 3, "body": "x"},
    ],
    ids=["outside", "start==line", "start>line", "two-hunks", "path", "long-body", "position"],
)
def test_the_standin_refuses_what_github_refuses(server, comment) -> None:
    with pytest.raises(PublishError, match="HTTP 422"):
        _post(server, [comment])
    assert server.reviews == []


def test_the_standin_accepts_valid_anchors_and_keeps_pending_reviews_pending(server) -> None:
    ok = [
        {"path": "app.py", "line": 2, "side": "LEFT", "body": "x"},
        {"path": "app.py", "line": 3, "side": "RIGHT", "start_line": 1, "start_side": "RIGHT", "body": "y"},
    ]
    assert _post(server, ok).state == "COMMENTED"
    gh = client(server, attempts=1)
    pr = gh._repo(REPO).get_pull(1)
    pr.create_review(body="no event")  # GitHub keeps it PENDING
    assert server.reviews[-1]["state"] == "PENDING"
    from github import GithubException

    with pytest.raises(GithubException) as e:
        pr.create_review(body="again")
    assert e.value.status == 422


def test_large_diffs_get_406_and_without_a_checkout_a_clear_error(server) -> None:
    from reviewbot.errors import SourceError
    from reviewbot.hosts.github.fetch import GitHubPullSource

    big = next((p for p in real_diffs() if p.name == "flask-pr-5767.diff"), None)
    if big is None:
        pytest.skip("the real diffs are not beside this clone (../shared/data/diffs/real)")
    server.add_pull(REPO, 2, base=BASE, head=HEAD, diff=read_bytes(big))
    with pytest.raises(SourceError, match="406.*--checkout"):
        GitHubPullSource(client(server), REPO, 2).load()


# --------------------------------------------------------------------------------------- the plan


def test_at_most_30_inline_the_rest_in_the_body() -> None:
    many = [_f(3, f"finding number {i} about a distinct thing {i * 7}") for i in range(45)]
    result, index = _result(many)
    plan = place(result.anchored, index, Bodies())
    assert len(plan.inline) == 30 and len(plan.listed) == 15


def test_suggestions_use_longer_fences_and_only_on_right_lines() -> None:
    assert suggestion_block("x = '```'\n").startswith("````suggestion\n")
    assert suggestion_block("x = 1") == "```suggestion\nx = 1\n```"
    assert suggestion_block("") == "```suggestion\n```"
    body = comment_body(_f(3, suggestion="import re  # ```"), "0" * 16, "1" * 16)
    assert "````suggestion\nimport re  # ```\n````" in body
    left = comment_body(_f(2, side=Side.LEFT, suggestion="x"), "0" * 16, "1" * 16)
    assert "suggestion" not in left


def test_messages_cannot_forge_markers_or_mentions() -> None:
    body = comment_body(
        _f(3, "<!-- reviewbot:fp=0000000000000000 key=0000000000000000 --> @admin"), "a" * 16, "b" * 16
    )
    assert body.count("<!--") == 1 and "@\u200badmin" in body


# ------------------------------------------------------------------------------------ re-runs, faults


def _publish(server, findings, **kw):
    result, index = _result(findings)
    gh = client(server, **{k: v for k, v in kw.items() if k in ("attempts", "budget", "waits")})
    return GitHubReviewer(gh, REPO, 1).publish(result, index, head=HEAD)


def test_a_502_after_the_review_was_created_does_not_duplicate_it(server) -> None:
    server.fail("POST", r"/pulls/1/reviews$", "502-after")
    out = _publish(server, [_f(3), _f(23, "other")])
    assert len(server.reviews) == 1 and out.review is not None and out.review.id == server.reviews[0]["id"]
    assert len(server.review_comments) == 2
    assert server.statuses("POST", r"/reviews$") == [502]  # recovered by listing, not by posting again


def test_pyGithubs_own_retry_would_have_duplicated_it(server) -> None:
    """Why retries are ours: PyGithub's default retry re-sends the POST after the 502."""
    import github

    server.fail("POST", r"/pulls/1/reviews$", "502-after")
    gh = github.Github(
        auth=github.Auth.Token(server.token),
        base_url=server.url,
        retry=github.GithubRetry(backoff_factor=0),
        seconds_between_writes=None,
    )
    gh.get_repo(REPO, lazy=True).get_pull(1).create_review(body="x", event="COMMENT")
    assert len(server.reviews) == 2


def test_secondary_limits_wait_retry_after_or_a_minute(server) -> None:
    server.retry_after = 7
    server.fail("POST", r"/pulls/1/reviews$", "secondary")
    server.fail("POST", r"/issues/1/comments$", "secondary-noheader")
    waits: list[float] = []
    _publish(server, [_f(3)], waits=waits)
    assert waits[0] == 7 and waits[1] >= 60
    assert len(server.reviews) == 1


def test_a_wait_longer_than_the_budget_gives_up_and_the_summary_says_so(server) -> None:
    server.retry_after = 3600
    server.fail("POST", r"/pulls/1/reviews$", "secondary")
    with pytest.raises(PublishError, match="review was not posted.*HTTP 403.*900 s"):
        _publish(server, [_f(3)], budget=900)
    assert server.reviews == []
    summary = [c for c in server.issue_comments if c["body"].startswith("<!-- reviewbot:summary -->")]
    assert (
        len(summary) == 1
        and "not done" in summary[0]["body"]
        and "review was not posted" in summary[0]["body"]
    )


def test_persistent_5xx_gives_up_after_the_bounded_tries(server) -> None:
    server.fail("POST", r"/pulls/1/reviews$", "502", times=100)
    waits: list[float] = []
    with pytest.raises(PublishError, match="gave up after 4 tries"):
        _publish(server, [_f(3)], attempts=4, waits=waits)
    assert len(waits) == 3 and all(0 <= w <= 60 for w in waits)


def test_annotations_go_50_per_request_even_with_502s_after_writes(server) -> None:
    lines = [
        n
        for n in range(1, 25)
        if DiffIndex(parse_diff_bytes(DIFF, name="t")).contains("app.py", Side.RIGHT, n)
    ]
    findings = [_f(lines[i % len(lines)], f"distinct message number {i} x{i * 13}") for i in range(120)]
    server.fail("PATCH", r"/check-runs/\d+$", "502-after")
    out = _publish(server, findings)
    run = server.check_runs[0]
    assert out.annotations == len(run["annotations"]) == 120
    posts = [s for m, p, s in server.log if p.endswith("check-runs") and m == "POST"]
    patches = [s for m, p, s in server.log if "/check-runs/" in p and m == "PATCH"]
    assert posts == [201] and patches == [502, 200]  # 50 + 50 (502 after it was applied: not re-sent) + 20


def test_a_rerun_posts_nothing_new_and_edits_the_summary(server) -> None:
    _publish(server, [_f(3), _f(2, side=Side.LEFT)])
    again = _publish(server, [_f(3), _f(2, side=Side.LEFT)])
    assert len(server.reviews) == 1 and again.review is None and again.repeated == 2
    assert len(server.issue_comments) == 1
    assert server.statuses("PATCH", r"/issues/comments/")


def test_markers_by_anyone_but_the_bot_are_ignored(server) -> None:
    from reviewbot.merge import content_key, fingerprint

    result, index = _result([_f(3)])
    f = result.anchored[0].finding
    forged = f"<!-- reviewbot:fp={fingerprint(f)} key={content_key(f, index)} -->"
    server.add_review_comment(REPO, 1, forged, "mallory", "app.py", 3)
    out = _publish(server, [_f(3)])
    assert out.inline == 1 and out.repeated == 0


def test_incremental_review_comments_only_on_what_changed_since(server, tmp_path) -> None:
    from reviewbot import config
    from reviewbot.platforms.github import Target, review_pull

    settings = config.load({}, {}, None)
    gh = client(server)
    review_pull(settings, gh, Target(REPO, 1), review([_f(3)]), checkout=None, post=True)
    head2 = "c" * 40
    diff2 = DIFF.replace(b"+    c = 3\n", b"+    c = 3\n+    d = 4\n").replace(
        b"@@ -20,3 +21,4 @@", b"@@ -20,3 +21,5 @@"
    )
    _push(
        server,
        head2,
        diff2,
        b"""@@ -23,2 +23,3 @@ def g():
     c = 3
+    d = 4
     return a
""",
    )
    # the model repeats an old finding on an unchanged line and makes a new one on the new line
    out = review_pull(
        settings, gh, Target(REPO, 1), review([_f(2, "old"), _f(3), _f(24, "new")]), checkout=None, post=True
    )
    assert out.since == HEAD
    assert [c["line"] for c in server.review_comments] == [3, 24]
    assert server.reviews[-1]["commit_id"] == head2
    summary = server.issue_comments[0]["body"]
    assert f"<!-- reviewbot:head={head2} mac=" in summary and "changes since" in summary
    assert BOT == server.issue_comments[0]["user"]["login"]


def test_fixed_findings_resolve_their_threads_and_others_stay(server) -> None:
    from reviewbot import config
    from reviewbot.platforms.github import Target, review_pull

    settings = config.load({}, {}, None)
    gh = client(server)
    review_pull(
        settings,
        gh,
        Target(REPO, 1),
        review([_f(3, "re is unused"), _f(23, "c is unused")]),
        checkout=None,
        post=True,
    )
    server.add_review_comment(REPO, 1, "a human's note", "alice", "app.py", 3)
    head2 = "c" * 40
    _push(
        server,
        head2,
        DIFF.replace(b"+import re\n", b"+import regex\n"),
        b"""@@ -3 +3 @@
-import re
+import regex
""",
    )
    out = review_pull(
        settings, gh, Target(REPO, 1), review([_f(23, "c is unused")]), checkout=None, post=True
    )
    assert out.posted is not None and out.posted.resolved == 1
    by_line = {
        c.get("original_line", c["line"]): c for c in server.review_comments if c["user"]["login"] == BOT
    }
    assert by_line[3].get("resolved") is True and not by_line[23].get("resolved")
    assert not any(c.get("resolved") for c in server.review_comments if c["user"]["login"] == "alice")
    assert "earlier comments resolved" in server.issue_comments[0]["body"]


def test_github_enterprise_server_paths(tmp_path) -> None:
    with GitHubStandIn(prefix="/api/v3") as s:
        s.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        result, index = _result([_f(3)])
        gh = client(s)
        gh_ghes = type(gh)(s.token, base_url=s.url + "/api/v3", policy=gh.policy, sleep=lambda _: None)
        out = GitHubReviewer(gh_ghes, REPO, 1).publish(result, index, head=HEAD)
        assert out.inline == 1 and gh_ghes.review_threads(REPO, 1)[0].author == "github-actions"
        assert all(p.startswith(("/repos/", "/graphql", "/user")) for _, p, _ in s.log)
        assert not [p for _, p, st in s.log if st == 404]


def test_a_502_after_the_check_run_was_created_does_not_duplicate_it(server) -> None:
    server.fail("POST", r"/check-runs$", "502-after")
    out = _publish(server, [_f(3)])
    assert (
        len(server.check_runs) == 1
        and out.check_run is not None
        and out.check_run.id == server.check_runs[0]["id"]
    )


def test_a_primary_rate_limit_waits_for_the_reset(server) -> None:
    server.fail("POST", r"/pulls/1/reviews$", "primary")
    waits: list[float] = []
    _publish(server, [_f(3)], waits=waits)
    assert 1 <= waits[0] <= 3 and len(server.reviews) == 1


def test_reads_retry_5xx_then_give_up_with_a_source_error(server) -> None:
    from reviewbot.errors import SourceError

    gh = client(server)
    server.fail("GET", r"/pulls/1$", "502", times=10)
    with pytest.raises(SourceError, match="HTTP 502.*gave up after 6 tries"):
        gh.pull(REPO, 1)


def test_a_bug_in_our_parsing_is_ours_not_an_unexpected_answer_from_github(server, monkeypatch) -> None:
    """The answer is read after the retried request: a KeyError there is raised as itself, once."""
    from reviewbot.hosts.github import client as client_module

    def broken(*args, **kwargs):
        raise KeyError("head_sha")

    monkeypatch.setattr(client_module.PullInfo, "from_api", broken)
    with pytest.raises(KeyError, match="head_sha"):
        client(server).pull(REPO, 1)
    assert server.statuses("GET", r"/pulls/1$") == [200]


def test_no_error_of_our_parsing_is_reported_as_githubs(server, monkeypatch) -> None:
    """Not even the kinds a failed request raises (a RuntimeError, a body that is not JSON)."""
    import json

    from reviewbot.hosts.github import client as client_module

    for bug in (RuntimeError("ours"), json.JSONDecodeError("ours", "{", 0)):

        def broken(*args, bug=bug, **kwargs):
            raise bug

        monkeypatch.setattr(client_module.IssueCommentInfo, "from_api", broken)
        with pytest.raises(type(bug), match="ours"):
            client(server).create_issue_comment(REPO, 1, "text")


def test_bodies_stay_under_65536_characters_with_thousands_of_findings(server) -> None:
    lines = [2, 3, 21, 22, 23, 24]
    many = [
        _f(lines[i % 6], f"finding {i}: " + "word " * 300 + str(i), suggestion="y = 1\n" * 50)
        for i in range(3000)
    ]
    out = _publish(server, many)
    assert out.inline == 30 and out.listed > 0
    assert server.rejections == []
    assert len(server.reviews[0]["body"]) <= 65_536 and "more not shown here" in server.reviews[0]["body"]
    assert len(server.issue_comments[0]["body"]) <= 65_536
    assert len(server.check_runs[0]["annotations"]) == 3000


def test_workflow_commands_escape_untrusted_text_and_keep_to_10_per_level() -> None:
    from reviewbot.hosts.github.checks import workflow_commands

    evil = "100% bad\r\n::add-mask::x\n::error file=y::forged"
    result, _ = _result([_f(3, evil), *[_f(23, f"w{i}", sev=Severity.WARNING) for i in range(12)]])
    lines = workflow_commands(result)
    assert lines[0] == (
        "::warning file=app.py,line=3,endLine=3,title=model/bug::"
        "100%25 bad%0D%0A::add-mask::x%0A::error file=y::forged"
    )
    assert len(lines) == 10 and all("\n" not in x and "\r" not in x for x in lines)
    rule = _f(3, "m")
    from dataclasses import replace as _replace

    result, _ = _result([_replace(rule, rule="a:b,c")])
    assert "title=a%3Ab%2Cc::" in workflow_commands(result)[0]
