"""`reviewbot gitlab review --post` learns from the team, end to end on the GitLab stand-in: the bot
opens its threads (each with what it is about), people award emoji, resolve and fix, and a later
review of another merge request reads those signals through the host port. The model is the
OpenAI-compatible stand-in with a scripted answer (one finding on the changed comparison)."""

from __future__ import annotations

import hashlib
import io

import pytest
from support.gitlab_standin import GitLabStandIn, award, gitlab_files, resolve_as
from support.openai_standin import StandIn

from reviewbot.hosts.gitlab.client import GitLabClient
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.hosts.markers import Signer
from reviewbot.learning.marker import read_about
from reviewbot.platforms.cli import main
from tests.learning.test_review_learns_github import HOLD, KEY, LEARNED, diff, no_finding, one_finding

PROJECT = "group/app"
BASE = "b" * 40


def head(n: int) -> str:
    return f"{n:040x}"


@pytest.fixture
def hosts(monkeypatch, tmp_path):
    for k in ("GITHUB_ACTIONS", "CI_JOB_TOKEN", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_PROJECT_ID"):
        monkeypatch.delenv(k, raising=False)
    with GitLabStandIn() as gl, StandIn(json_answer=one_finding, model="Qwen2.5-Coder-7B-Instruct") as llm:
        for n in range(1, 6):
            gl.add_mr(PROJECT, n, base=BASE, head=head(n), files=gitlab_files(diff("    if n > 1:")))
            gl.files[(PROJECT, head(n), "pkg/m.py")] = "def f(n):\n    if n > 1:\n        return n\n"
        gl.add_member(PROJECT, "ann", 30)  # Developer
        gl.add_member(PROJECT, "rita", 20)  # Reporter: no write access
        monkeypatch.setenv("GITLAB_TOKEN", gl.token)
        monkeypatch.setenv("CI_API_V4_URL", gl.url)
        monkeypatch.setenv("REVIEWBOT_MARKER_KEY", KEY)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield gl, llm


def review(gl: GitLabStandIn, llm: StandIn, iid: int) -> str:
    out, err = io.StringIO(), io.StringIO()
    args = ["gitlab", "review", "--mr", f"{PROJECT}!{iid}", "--post", "--backend", "openai"]
    code = main([*args, "--base-url", llm.url, "--no-progress", "--fail-on", "never"], out, err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def first_notes(gl: GitLabStandIn, iid: int) -> list[dict]:
    return [t["notes"][0] for t in gl.threads(PROJECT, iid)]


def summary(gl: GitLabStandIn, iid: int) -> str:
    (s,) = gl.summaries(PROJECT, iid)
    return s["body"]


def down_on_two(gl: GitLabStandIn, llm: StandIn, who: str) -> None:
    """The bot's thread on !1 and !2, each marked 👎 by ``who``."""
    for n in (1, 2):
        review(gl, llm, n)
        (note,) = first_notes(gl, n)
        award(gl, PROJECT, n, note["id"], who, "thumbsdown")


def test_the_thread_says_what_it_is_about_and_awards_resolutions_fixes_are_read(hosts) -> None:
    gl, llm = hosts
    review(gl, llm, 1)
    (first,) = first_notes(gl, 1)
    assert read_about(first["body"]) == ("review/bug", "comparison-operator", 0.8)
    award(gl, PROJECT, 1, first["id"], "ann", "thumbsup")
    review(gl, llm, 2)
    resolve_as(gl, PROJECT, 2, first_notes(gl, 2)[0]["id"], "ann")  # dismissed: the code stayed
    review(gl, llm, 3)
    changed = gitlab_files(diff("    if n >= 1 and n:"))
    gl.add_version(PROJECT, 3, base=BASE, head="c" * 40, files=changed)  # the commented line changed
    llm.json_answer = no_finding
    review(gl, llm, 3)  # the finding is gone: the bot resolves its thread, the author fixed it
    assert first_notes(gl, 3)[0]["resolved"]

    client = GitLabClient(gl.token, url=gl.url)
    host = GitLabHost(client, PROJECT, signer=Signer(hashlib.sha256(KEY.encode()).digest()))
    found, notes = host.signals(host.fetch(4), 50, 10.0)
    got = sorted((s.pr, s.kind, s.author, s.writer, s.subject.rule, s.subject.fact_kind) for s in found)
    assert got == [
        (1, "up", "ann", True, "review/bug", "comparison-operator"),
        (2, "dismissed", "ann", True, "review/bug", "comparison-operator"),
        (3, "fixed", "author3", False, "review/bug", "comparison-operator"),
    ]
    assert {(s.subject.path, s.subject.code) for s in found} == {("pkg/m.py", "if n > 1:")}
    assert notes[-1].startswith("signals: ") and "access-level lookups" in notes[-1]


def test_a_kind_writers_rejected_is_held_back_with_its_reason_in_the_summary(hosts) -> None:
    gl, llm = hosts
    down_on_two(gl, llm, "ann")
    review(gl, llm, 3)
    assert first_notes(gl, 3) == []
    text = summary(gl, 3)
    assert "Held back, from what this repository's team taught the bot (1):" in text
    assert "`pkg/m.py:2` `review/bug`" in text
    why = "resembles 2 comments the team rejected (👎, dismissed or /wrong) in #\u200b1, #\u200b2"
    assert f"(held back: {why})" in text
    assert "learned from 2 signals of writers on 2 pull requests" in text


def test_the_same_signals_from_a_user_without_write_access_change_nothing(hosts) -> None:
    gl, llm = hosts
    down_on_two(gl, llm, "rita")
    review(gl, llm, 3)
    assert len(first_notes(gl, 3)) == 1
    text = summary(gl, 3)
    assert "Held back" not in text and "learned from 0 signals of writers on 0 pull requests" in text


def test_the_learnings_file_counts_from_the_base_never_from_the_head(hosts) -> None:
    gl, llm = hosts
    gl.files[(PROJECT, head(4), LEARNED)] = HOLD  # the change adds lessons that would hold it back
    review(gl, llm, 4)
    assert len(first_notes(gl, 4)) == 1 and "Held back" not in summary(gl, 4)
    gl.files[(PROJECT, BASE, LEARNED)] = HOLD  # committed on the base
    gl.files[(PROJECT, head(5), LEARNED)] = "version: 1\nlessons: []\n"  # the change empties it
    review(gl, llm, 5)
    assert first_notes(gl, 5) == [] and "writers rejected 0 such comments" in summary(gl, 5)


def test_learning_switched_off_in_the_base_configuration_reads_nothing_and_holds_nothing(hosts) -> None:
    gl, llm = hosts
    down_on_two(gl, llm, "ann")
    gl.files[(PROJECT, BASE, ".reviewbot.yml")] = "learning:\n  enabled: false\n"
    before = len(gl.log)
    review(gl, llm, 3)
    text = summary(gl, 3)
    assert len(first_notes(gl, 3)) == 1 and "Held back" not in text
    assert "signals:" not in text and "learned from" not in text
    read = [p for _, p, _ in gl.log[before:] if p.endswith(("/merge_requests", "/award_emoji"))]
    assert read == [] and any("/merge_requests/3/" in p for _, p, _ in gl.log[before:])
