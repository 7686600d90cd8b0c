"""`reviewbot github review --post` learns from the team, end to end on the GitHub stand-in: the bot
posts its comments (each with what it is about), people react, resolve and fix, and a later review
of another pull request reads those signals through the host port. The model is the
OpenAI-compatible stand-in with a scripted answer (one finding on the changed comparison), so the
findings are the same on every run."""

from __future__ import annotations

import hashlib
import io

import pytest
from support.github_standin import BOT, GitHubStandIn, react, resolve_as, set_permission
from support.openai_standin import StandIn, minimal_instance

from reviewbot.hosts.github.host import GitHubHost
from reviewbot.hosts.markers import Signer
from reviewbot.learning.cache import SignalCache
from reviewbot.learning.marker import read_about
from reviewbot.model import ChangeSet, Result, Stats
from reviewbot.platforms.cli import main
from reviewbot.platforms.flow import learning_of, review_change
from reviewbot.settings import Settings
from tests.support.github_helpers import client

REPO = "octo/lib"
BASE = "b" * 40
KEY = "k" * 64
CONFIG = ".reviewbot.yml"
LEARNED = ".reviewbot/learnings.yml"
HOLD = (
    "version: 1\nlessons:\n"
    "  - {action: hold, rule: review/bug, fact_kind: comparison-operator, path: '**', expires: 2099-01-01}\n"
)


def diff(line: str) -> bytes:
    return (
        "diff --git a/pkg/m.py b/pkg/m.py\n--- a/pkg/m.py\n+++ b/pkg/m.py\n"
        f"@@ -1,3 +1,3 @@\n def f(n):\n-    if n >= 1:\n+{line}\n         return n\n"
    ).encode()


def one_finding(schema):
    props = schema.get("properties", {})
    if "confirmed" in props:  # the check pass
        return {"confirmed": True, "reason": "The rows show the change doing this."}
    if "findings" not in props:  # the backend's own structured-output probe
        return minimal_instance(schema)
    comment = {
        "row": 3,
        "severity": "warning",
        "category": "bug",
        "message": "The boundary moved: n == 1 is no longer taken.",
        "code": "if n > 1:",
        "suggestion": None,
        "confidence": 0.8,
    }
    return {"findings": [comment]}


def no_finding(schema):
    return {"findings": []} if "findings" in schema.get("properties", {}) else one_finding(schema)


@pytest.fixture
def hosts(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with GitHubStandIn() as gh, StandIn(json_answer=one_finding, model="Qwen2.5-Coder-7B-Instruct") as llm:
        for n in range(1, 6):
            gh.add_pull(REPO, n, base=BASE, head=f"{n:040x}", diff=diff("    if n > 1:"))
        set_permission(gh, REPO, "ann", "write")
        set_permission(gh, REPO, "rita", "read")
        monkeypatch.setenv("GITHUB_TOKEN", gh.token)
        monkeypatch.setenv("GITHUB_API_URL", gh.url)
        monkeypatch.setenv("REVIEWBOT_MARKER_KEY", KEY)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield gh, llm


def review(gh: GitHubStandIn, llm: StandIn, number: int) -> str:
    out, err = io.StringIO(), io.StringIO()
    args = ["github", "review", "--pr", f"{REPO}#{number}", "--post", "--backend", "openai"]
    code = main([*args, "--base-url", llm.url, "--no-progress", "--fail-on", "never"], out, err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def inline(gh: GitHubStandIn, number: int) -> list[dict]:
    return [c for c in gh.comments_of(REPO, number) if c["user"]["login"] == BOT]


def summary(gh: GitHubStandIn, number: int) -> str:
    (s,) = [c["body"] for c in gh.issue_comments if c["number"] == number and c["user"]["login"] == BOT]
    return s


def down_on_two(gh: GitHubStandIn, llm: StandIn, who: str) -> None:
    """The bot's comment on #1 and #2, each marked 👎 by ``who``."""
    for n in (1, 2):
        review(gh, llm, n)
        (c,) = inline(gh, n)
        react(gh, c["id"], who, "THUMBS_DOWN")


def test_the_posted_comment_says_what_it_is_about_and_reactions_resolutions_fixes_are_read(hosts) -> None:
    gh, llm = hosts
    review(gh, llm, 1)
    (first,) = inline(gh, 1)
    assert read_about(first["body"]) == ("review/bug", "comparison-operator", 0.8)
    react(gh, first["id"], "ann", "THUMBS_UP")
    review(gh, llm, 2)
    resolve_as(gh, inline(gh, 2)[0]["id"], "ann")  # dismissed: resolved while the code stayed
    review(gh, llm, 3)
    gh.push(REPO, 3, head="c" * 40, diff=diff("    if n >= 1 and n:"))  # the commented line changed
    llm.json_answer = no_finding
    review(gh, llm, 3)  # the finding is gone: the bot resolves its thread, the author fixed it
    assert inline(gh, 3)[0].get("resolved")

    host = GitHubHost(client(gh), REPO, signer=Signer(hashlib.sha256(KEY.encode()).digest()))
    found, notes = host.signals(host.fetch(4), 50, 10.0)
    got = sorted((s.pr, s.kind, s.author, s.writer, s.subject.rule, s.subject.fact_kind) for s in found)
    assert got == [
        (1, "up", "ann", True, "review/bug", "comparison-operator"),
        (2, "dismissed", "ann", True, "review/bug", "comparison-operator"),
        (3, "fixed", "author3", False, "review/bug", "comparison-operator"),
    ]
    assert found[0].subject.code == "if n > 1:" and found[0].subject.path == "pkg/m.py"
    assert notes[-1] == "signals: 1 GraphQL calls, 2 write-access lookups"


def test_a_kind_writers_rejected_is_held_back_with_its_reason_in_the_summary(hosts) -> None:
    gh, llm = hosts
    down_on_two(gh, llm, "ann")
    review(gh, llm, 3)
    assert inline(gh, 3) == []
    text = summary(gh, 3)
    assert "Held back, from what this repository's team taught the bot (1):" in text
    assert "`pkg/m.py:2` `review/bug`" in text
    why = "resembles 2 comments the team rejected (👎, dismissed or /wrong) in #\u200b1, #\u200b2"
    assert f"(held back: {why})" in text  # the summary's escaping keeps #1 from linking
    assert "learned from 2 signals of writers on 2 pull requests" in text


def test_the_same_signals_from_a_user_without_write_access_change_nothing(hosts) -> None:
    gh, llm = hosts
    down_on_two(gh, llm, "rita")
    review(gh, llm, 3)
    assert len(inline(gh, 3)) == 1
    text = summary(gh, 3)
    assert "Held back" not in text and "learned from 0 signals of writers on 0 pull requests" in text


def test_the_learnings_file_counts_from_the_base_never_from_the_head(hosts) -> None:
    gh, llm = hosts
    gh.contents[(REPO, f"{4:040x}", LEARNED)] = HOLD  # the change adds lessons that would hold it back
    review(gh, llm, 4)
    assert len(inline(gh, 4)) == 1 and "Held back" not in summary(gh, 4)
    gh.contents[(REPO, BASE, LEARNED)] = HOLD  # committed on the base
    gh.contents[(REPO, f"{5:040x}", LEARNED)] = "version: 1\nlessons: []\n"  # the change empties it
    review(gh, llm, 5)
    assert inline(gh, 5) == [] and "writers rejected 0 such comments" in summary(gh, 5)


def test_learning_switched_off_in_the_base_configuration_reads_nothing_and_holds_nothing(hosts) -> None:
    gh, llm = hosts
    down_on_two(gh, llm, "ann")
    gh.contents[(REPO, BASE, CONFIG)] = "learning:\n  enabled: false\n"
    review(gh, llm, 3)
    text = summary(gh, 3)
    assert len(inline(gh, 3)) == 1 and "Held back" not in text
    assert "signals:" not in text and "learned from" not in text  # no signals read
    assert ("GET", f"/repos/{REPO}/contents/{LEARNED}", 200) not in gh.log


def test_learn_prints_what_was_learned_and_writes_the_file(hosts, tmp_path, monkeypatch) -> None:
    gh, llm = hosts
    down_on_two(gh, llm, "ann")
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert main(["learn", "--repo", REPO, "--write"], out, err) == 0, err.getvalue()
    text = out.getvalue()
    assert text.startswith(f"What the team of {REPO} taught the review:\n")
    assert "  (learned from 2 signals of writers on 2 pull requests)" in text
    assert "- 2 marked comments a new finding is compared with: 2 rejected, 0 acted on" in text
    written = (tmp_path / LEARNED).read_text(encoding="utf-8")
    assert "action: hold" in written and "pull_requests:\n  - 1\n" in written


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["learn", "--repo", "octo"], "--repo wants OWNER/NAME, got 'octo'"),
        (["learn", "--repo", "a/b/c"], "--repo wants OWNER/NAME, got 'a/b/c'"),
        (["learn", "--project", "app"], "--project wants GROUP/NAME, got 'app'"),
        (["learn"], "one of the arguments --repo --project is required"),
        (["learn", "--repo", "a/b", "--project", "c/d"], "not allowed with argument"),
    ],
)
def test_learn_refuses_bad_input_in_one_line(argv, says) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out, err) == 2
    assert says in err.getvalue() and err.getvalue().count("\n") == 1 and out.getvalue() == ""


def test_a_long_lived_worker_reads_a_repositorys_signals_once_in_a_while(hosts) -> None:
    gh, llm = hosts
    down_on_two(gh, llm, "ann")
    host = GitHubHost(client(gh), REPO, signer=Signer(hashlib.sha256(KEY.encode()).digest()))
    cache = SignalCache()

    def nothing(cs: ChangeSet, _settings: Settings) -> Result:
        return Result(cs, (), (), (), Stats(files=len(cs.files), backend="none"))

    learning = learning_of(Settings(), nothing, cache=cache, repository=f"github:{REPO}")
    queries = []
    for n in (3, 4):
        before = len(gh.statuses("POST", r"^/graphql$"))
        out = review_change(host, host.fetch(n), learning.lowered(0.05), post=False, learning=learning)
        queries.append(len(gh.statuses("POST", r"^/graphql$")) - before)
        assert "learned from 2 signals of writers on 2 pull requests" in out.result.notes
    assert queries == [1, 0]
    assert "signals: as this worker read them in the last 15 minutes" in out.result.notes
