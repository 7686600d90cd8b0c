"""The review learns from the team, end to end on each host's stand-in: the bot posts its comments
with the real command (`reviewbot github|gitlab review --post`), each saying what it is about;
people mark, resolve and fix; a later review of another change reads those signals through the host
port and holds back what the repository's writers rejected, listed in the summary with the reason.
The model is the OpenAI-compatible stand-in with a scripted answer, so every run finds the same."""

from __future__ import annotations

import io

import pytest
from support.github_standin import GitHubStandIn
from support.gitlab_standin import GitLabStandIn
from support.learning_sites import BASE, KEY, GitHubSite, GitLabSite, Site, head, no_finding, one_finding
from support.openai_standin import StandIn

from reviewbot.learning.cache import SignalCache
from reviewbot.learning.judge import bounded, route_min_drop
from reviewbot.learning.marker import read_about
from reviewbot.model import ChangeSet, Result, Stats
from reviewbot.platforms.cli import main
from reviewbot.platforms.flow import learned, learning_of, review_change
from reviewbot.settings import Settings

LEARNED = ".reviewbot/learnings.yml"
HOLD = (
    "version: 1\nlessons:\n"
    "  - {action: hold, rule: review/bug, fact_kind: comparison-operator, path: '**', expires: 2099-01-01}\n"
)
HELD = "Held back, from what this repository's team taught the bot (1):"
CLEARED = ("GITHUB_ACTIONS", "CI_JOB_TOKEN", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_PROJECT_ID")


@pytest.fixture(params=["github", "gitlab"])
def site(request, monkeypatch, tmp_path):
    for k in CLEARED:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("REVIEWBOT_MARKER_KEY", KEY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with StandIn(json_answer=one_finding, model="Qwen2.5-Coder-7B-Instruct") as llm:
        if request.param == "github":
            with GitHubStandIn() as gh:
                made: Site = GitHubSite(llm, gh)
                for k, v in made.env.items():
                    monkeypatch.setenv(k, v)
                yield made
        else:
            with GitLabStandIn() as gl:
                made = GitLabSite(llm, gl)
                for k, v in made.env.items():
                    monkeypatch.setenv(k, v)
                yield made


def test_the_bots_comment_says_what_it_is_about_and_marks_resolutions_fixes_are_read(site: Site) -> None:
    site.review(1)
    (first,) = site.inline(1)
    assert read_about(first["body"]) == ("review/bug", "comparison-operator", 0.8)
    site.mark(1, first["id"], "ann", up=True)
    site.review(2)
    site.resolve(2, site.inline(2)[0]["id"], "ann")  # dismissed: resolved while the code stayed
    site.review(3)
    site.push(3, "    if n >= 1 and n:")  # the commented line changed
    site.llm.json_answer = no_finding
    site.review(3)  # the finding is gone: the bot resolves its thread, the author fixed it
    assert site.inline(3)[0].get("resolved")

    host = site.host()
    found, notes = host.signals(host.fetch(4), 50, 10.0)
    got = sorted((s.pr, s.kind, s.author, s.writer, s.subject.rule, s.subject.fact_kind) for s in found)
    assert got == [
        (1, "up", "ann", True, "review/bug", "comparison-operator"),
        (2, "dismissed", "ann", True, "review/bug", "comparison-operator"),
        (3, "fixed", "author3", False, "review/bug", "comparison-operator"),
    ]
    assert {(s.subject.path, s.subject.code) for s in found} == {("pkg/m.py", "if n > 1:")}
    cost = {
        "github": "signals: 1 GraphQL call(s), 2 write-access lookups",
        # the merge requests, each one's discussions, the award emoji of the bot's 3 threads; the
        # commented line at each thread's version (3 heads)
        "gitlab": "signals: 1 GraphQL call(s), 3 file reads, 2 access-level lookups",
    }
    assert notes[-1] == cost[site.name]


@pytest.mark.parametrize("site", ["gitlab"], indirect=True)
def test_a_gitlab_older_than_15_11_is_read_over_rest(site: Site) -> None:
    """GitLab's GraphQL API before 15.11 has no award emoji on notes: the REST API is read."""
    site.down_on_two("ann")
    site.s.__dict__["before_15_11"] = True
    host = site.host()
    found, notes = host.signals(host.fetch(3), 50, 10.0)
    assert sorted((s.pr, s.kind, s.author) for s in found) == [(1, "down", "ann"), (2, "down", "ann")]
    assert notes == (
        "signals: GitLab answered an error (Field 'awardEmoji' doesn't exist on type 'Note'); "
        "learning from what was read",
        "signals: read over the REST API instead",
        # the merge requests, each one's discussions, the award emoji of the bot's 2 threads
        "signals: 8 REST calls for threads and award emoji, 2 file reads, 1 access-level lookups",
    )


@pytest.mark.parametrize("site", ["gitlab"], indirect=True)
def test_signals_that_cannot_be_read_are_a_note_and_the_review_is_posted(site: Site) -> None:
    site.down_on_two("ann")
    site.put(BASE, ".reviewbot.yml", "learning:\n  seconds: 1\n")  # the read's retries stop within 1 s
    for _ in range(5):
        site.s.fail("POST", r"^/api/graphql$", "500")
    site.review(3)
    text = site.summary(3)
    assert len(site.inline(3)) == 1 and "Held back" not in text
    assert "learning: the team's signals could not be read (GitLab" in text
    assert "nothing learned from them" in text


def test_a_kind_writers_rejected_is_held_back_with_its_reason_in_the_summary(site: Site) -> None:
    site.down_on_two("ann")
    site.review(3)
    assert site.inline(3) == []
    text = site.summary(3)
    assert HELD in text and "`pkg/m.py:2` `review/bug`" in text
    why = "resembles 2 comments the team rejected (👎, dismissed or /wrong) in #\u200b1, #\u200b2"
    assert f"(held back: {why})" in text  # the summary's escaping keeps #1 from linking
    assert "learned from 2 signals of writers on 2 pull requests" in text


def test_the_same_signals_from_a_user_without_write_access_change_nothing(site: Site) -> None:
    site.down_on_two("rita")
    site.review(3)
    assert len(site.inline(3)) == 1
    text = site.summary(3)
    assert "Held back" not in text and "learned from 0 signals of writers on 0 pull requests" in text


def test_the_learnings_file_counts_from_the_base_never_from_the_head(site: Site) -> None:
    site.put(head(4), LEARNED, HOLD)  # the change adds lessons that would hold its finding back
    site.review(4)
    assert len(site.inline(4)) == 1 and "Held back" not in site.summary(4)
    site.put(BASE, LEARNED, HOLD)  # committed on the base
    site.put(head(5), LEARNED, "version: 1\nlessons: []\n")  # the change empties it: ignored
    site.review(5)
    assert site.inline(5) == [] and "writers rejected 0 such comments" in site.summary(5)


def test_learning_switched_off_in_the_base_configuration_reads_nothing_and_holds_nothing(site: Site) -> None:
    site.down_on_two("ann")
    site.put(BASE, ".reviewbot.yml", "learning:\n  enabled: false\n")
    before = site.signal_reads()
    site.review(3)
    text = site.summary(3)
    assert len(site.inline(3)) == 1 and "Held back" not in text
    assert site.signal_reads() == before and before > 0  # read for #2's review, not for #3's
    assert "signals:" not in text and "learned from" not in text


def test_a_long_lived_worker_reads_a_repositorys_signals_once_in_a_while(site: Site) -> None:
    site.down_on_two("ann")
    host = site.host()

    def nothing(cs: ChangeSet, _settings: Settings) -> Result:
        return Result(cs, (), (), (), Stats(files=len(cs.files), backend="none"))

    learning = learning_of(Settings(), nothing, cache=SignalCache(), repository=f"{site.name}:{site.repo}")
    assert learning is not None
    reads = []
    for n in (3, 4):
        before = site.signal_reads()
        out = review_change(host, host.fetch(n), learning.lowered(0.05), post=False, learning=learning)
        reads.append(site.signal_reads() > before)
        assert "learned from 2 signals of writers on 2 pull requests" in out.result.notes
    assert reads == [True, False]
    assert "signals: as this worker read them in the last 15 minutes" in out.result.notes


def test_learn_prints_what_was_learned_and_writes_the_file(site: Site, tmp_path, monkeypatch) -> None:
    site.down_on_two("ann")
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    which = "--repo" if site.name == "github" else "--project"
    assert main(["learn", which, site.repo, "--write"], out, err) == 0, err.getvalue()
    text = out.getvalue()
    assert text.startswith(f"What the team of {site.repo} taught the review:\n")
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


@pytest.mark.parametrize("site", ["github"], indirect=True)
def test_the_judges_threshold_moves_the_route_only_within_its_bounds(site: Site) -> None:
    """A committed threshold under the configured one lowers the likelihood judge's min_drop, held
    to the bound (0.05 under); one far over it is held to 0.3 over and filters, never lowers."""
    host = site.host()
    drops: list[float] = []

    def record(cs: ChangeSet, settings: Settings) -> Result:
        drops.append(settings.review.min_drop)
        return Result(cs, (), (), (), Stats(files=len(cs.files), backend="none"))

    learning = learning_of(Settings(), record)
    assert learning is not None and learning.base_floor == pytest.approx(0.1813)
    for floor in ("0.0", "0.99"):
        site.put(BASE, LEARNED, f"version: 1\njudge: {{min_confidence: {floor}}}\n")
        review_change(host, host.fetch(1), learning.lowered(0.05), post=False, learning=learning)
    bound = bounded(0.0, learning.base_floor)
    assert bound == pytest.approx(0.1313) and drops == [route_min_drop(bound), 0.05]
    learnings, _ = learned(host, host.fetch(1), learning)
    assert learnings.judge_floor == pytest.approx(0.4813)
    assert learnings.judge_reason.endswith("0.99 held to 0.48, the bound of a repository's move")
