"""Signed markers (issue 14, build 4): a marker typed by anyone, even as the bot's own account (a
PR's workflow posts as github-actions[bot]), neither hides a finding, resolves a thread nor names a
reviewed head."""

from __future__ import annotations

import os
import stat

import pytest
from support.github_helpers import client
from support.github_standin import BOT, GitHubStandIn
from support.gitlab_helpers import client as gl_client
from support.gitlab_standin import GitLabStandIn, gitlab_files

from reviewbot.diff import DiffIndex, anchor_all, parse_diff_bytes
from reviewbot.hosts.github.host import GitHubHost
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.hosts.markers import KEY_FILE, Signer, installation_key
from reviewbot.merge import content_key, fingerprint
from reviewbot.model import ChangeSet, Finding, Location, Result, Severity, Side, Stats
from reviewbot.ports import Review

REPO, HEAD, BASE = "o/r", "b" * 40, "a" * 40
DIFF = b"""diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,3 +1,4 @@
 import os
+import re
 
 def f(x):
"""


def _finding() -> Finding:
    return Finding(Location("app.py", Side.RIGHT, 2), Severity.WARNING, "re is unused", "model/bug", "review")


def _forged(f: Finding, mac: str | None = None) -> str:
    index = DiffIndex(parse_diff_bytes(DIFF, name="t"))
    tail = f" mac={mac}" if mac else ""
    return f"<!-- reviewbot:fp={fingerprint(f)} key={content_key(f, index)}{tail} -->"


def _result(cs: ChangeSet, findings: list[Finding]) -> Result:
    a, u = anchor_all(findings, DiffIndex(cs.files))
    return Result(cs, a, u, (), Stats())


def test_signer_accepts_its_own_markers_only() -> None:
    s = Signer(b"k" * 32, "o/r#1")
    body = s.sign(
        "x <!-- reviewbot:fp=0123456789abcdef key=fedcba9876543210 -->\n<!-- reviewbot:head=abcdef1 -->"
    )
    assert s.findings(body) == [("0123456789abcdef", "fedcba9876543210")] and s.head(body) == "abcdef1"
    assert Signer(b"x" * 32, "o/r#1").findings(body) == []  # another installation's key
    assert s.for_scope("o/r#2").findings(body) == []  # copied from another pull request
    assert s.findings(body.replace("0123", "0124")) == []  # edited
    assert s.findings("<!-- reviewbot:fp=0123456789abcdef key=fedcba9876543210 -->") == []  # unsigned


@pytest.fixture()
def gh_server():
    with GitHubStandIn() as s:
        s.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        yield s


@pytest.mark.parametrize("mac", [None, "0" * 32])
def test_a_forged_marker_posted_as_the_bot_hides_nothing_on_github(gh_server, mac) -> None:
    f = _finding()
    gh_server.add_review_comment(REPO, 1, "looks done " + _forged(f, mac), BOT, "app.py", 2)
    gh_server.add_issue_comment(REPO, 1, f"<!-- reviewbot:summary -->\n<!-- reviewbot:head={HEAD} -->", BOT)
    host = GitHubHost(client(gh_server), REPO)
    change = host.fetch(1)
    prior = host.prior(change)
    assert prior.keys == frozenset() and prior.head is None, "not taken as the bot's, not a reviewed head"
    done = host.post(change, Review(_result(change.changeset, [f])), prior)
    assert done.inline == 1 and done.repeated == 0
    # the bot's own markers are recognised on the next run
    again = host.prior(change)
    assert fingerprint(f) in again.keys and again.head == HEAD


def test_an_edited_marker_does_not_resolve_the_bots_thread_on_github(gh_server) -> None:
    f = _finding()
    host = GitHubHost(client(gh_server), REPO)
    change = host.fetch(1)
    host.post(change, Review(_result(change.changeset, [f])), host.prior(change))
    (comment,) = gh_server.review_comments
    # a workflow of the PR, as github-actions[bot], edits the marker to name a finding that is gone
    comment["body"] = (
        comment["body"].split("<!--")[0] + "<!-- reviewbot:fp=0000000000000000 key=0000000000000000 -->"
    )
    comment["outdated"] = True
    again = host.post(change, Review(_result(change.changeset, [f])), host.prior(change))
    assert again.resolved == 0 and not comment.get("resolved")


def test_a_forged_marker_in_a_note_hides_nothing_on_gitlab() -> None:
    f = _finding()
    with GitLabStandIn() as served:
        served.add_mr("g/p", 1, base=BASE, head=HEAD, files=gitlab_files(DIFF))
        gl = gl_client(served)
        # the stand-in writes every note as the bot's account: the worst case
        gl.create_note("g/p", 1, "ok " + _forged(f), lambda: None)
        gl.create_note("g/p", 1, f"<!-- reviewbot:summary -->\n<!-- reviewbot:head={HEAD} -->", lambda: None)
        host = GitLabHost(gl, "g/p")
        change = host.fetch(1)
        prior = host.prior(change)
        assert prior.keys == frozenset() and prior.head is None
        done = host.post(change, Review(_result(change.changeset, [f])), prior)
        assert done.inline == 1 and done.repeated == 0
        assert host.prior(change).head == HEAD


def test_the_key_comes_from_the_owner_else_a_private_file(tmp_path) -> None:
    key, note = installation_key("s3cret", tmp_path, {})
    assert note is None and key == installation_key("s3cret", tmp_path / "other", {})[0]
    assert not (tmp_path / KEY_FILE).exists()
    first, note = installation_key(None, tmp_path, {})
    assert note is not None and "new marker key" in note
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600
    assert installation_key(None, tmp_path, {}) == (first, None)


def test_on_actions_without_a_key_nothing_is_stored_and_the_report_says_so(tmp_path) -> None:
    key, note = installation_key(None, tmp_path, {"GITHUB_ACTIONS": "true"})
    assert len(key) == 32 and not (tmp_path / KEY_FILE).exists()
    assert note is not None and "REVIEWBOT_MARKER_KEY" in note
