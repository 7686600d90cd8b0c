"""The team's signals read from the GitLab stand-in: award emoji, threads resolved by a person or
by the bot after a new version, reply commands; writers only (Developer or above); the calls it
takes are counted and bounded."""

from __future__ import annotations

from datetime import date

import pytest

from reviewbot.learning import hold_back, learn
from reviewbot.learning.gitlab_signals import GitLabSignals
from reviewbot.learning.signals import Subject
from reviewbot.model import Finding, Location, Severity, Side
from tests.support.gitlab_standin import GitLabStandIn, award, resolve_as
from tests.support.learning_threads import GITLAB_FILES, gitlab_graphql_reader, gitlab_reader, gitlab_thread

PROJECT = "team/lib"


def bot_thread(s: GitLabStandIn, iid: int, message: str) -> int:
    return gitlab_thread(s, PROJECT, iid, message)


def reply(s: GitLabStandIn, iid: int, note_id: int, username: str, text: str) -> None:
    d = next(d for d in s.mrs[(PROJECT, iid)].discussions if d["notes"][0]["id"] == note_id)
    d["notes"].append(
        {"id": note_id + 10_000, "body": text, "author": {"username": username}, "resolvable": False}
    )


def reader(s: GitLabStandIn, **kw) -> GitLabSignals:
    return gitlab_reader(s, PROJECT, **kw)


@pytest.fixture
def standin():
    with GitLabStandIn() as s:
        for iid in range(1, 8):
            s.add_mr(PROJECT, iid, base="b" * 40, head=f"{iid:040x}", files=GITLAB_FILES)
        s.add_member(PROJECT, "dev", 30)
        s.add_member(PROJECT, "guest", 10)
        yield s


def scenario(s: GitLabStandIn) -> None:
    """Awards from a developer and a guest, a dismissal, a fix after a new version, a /wrong reply."""
    down = bot_thread(s, 1, "The comparison operator `>=` became `>`.")
    award(s, PROJECT, 1, down, "dev", "thumbsdown")
    award(s, PROJECT, 1, down, "dev", "tada")  # not a verdict
    award(s, PROJECT, 1, down, "guest", "thumbsdown")
    dismissed = bot_thread(s, 2, "Another comparison.")
    resolve_as(s, PROJECT, 2, dismissed, "dev")
    fixed = bot_thread(s, 3, "The test changed.")
    s.add_version(PROJECT, 3, base="b" * 40, head="c" * 40, files=GITLAB_FILES)
    resolve_as(s, PROJECT, 3, fixed, s.bot)
    wrong = bot_thread(s, 4, "A third comparison.")
    reply(s, 4, wrong, "dev", "/wrong, intended")


EXPECTED = [
    (1, "down", "dev", True),
    (1, "down", "guest", False),
    (2, "dismissed", "dev", True),
    (3, "fixed", "author3", False),
    (4, "wrong", "dev", True),
]


def test_awards_resolutions_fixes_and_replies_become_signals(standin: GitLabStandIn) -> None:
    scenario(standin)
    r = reader(standin)
    assert sorted((x.pr, x.kind, x.author, x.writer) for x in r.read(PROJECT)) == EXPECTED
    assert r.calls == 1 + 7 + 4  # the list, each merge request's discussions, each bot note's awards
    assert r.notes == []


def test_the_same_signals_in_one_graphql_call(standin: GitLabStandIn) -> None:
    scenario(standin)
    r = gitlab_graphql_reader(standin, PROJECT)
    got = r.read(PROJECT)
    assert sorted((x.pr, x.kind, x.author, x.writer) for x in got) == EXPECTED
    assert r.calls == 1 and r.notes == []
    assert {x.subject.message for x in got if x.pr == 1} == {"The comparison operator `>=` became `>`."}


def test_graphql_reading_is_bounded(standin: GitLabStandIn) -> None:
    for iid in range(8, 26):
        standin.add_mr(PROJECT, iid, base="b" * 40, head=f"{iid:040x}", files=GITLAB_FILES)
    r = gitlab_graphql_reader(standin, PROJECT, max_mrs=15)
    r.read(PROJECT)
    assert r.calls == 2 and r.notes == [
        "signals: read the 15 most recently updated merge requests (the limit)"
    ]
    missing = gitlab_graphql_reader(standin, "nobody/nothing")
    assert missing.read("nobody/nothing") == [] and missing.notes[0].startswith(
        "signals: GitLab answered an error"
    )


def test_a_kind_rejected_by_developers_is_held_back_and_guests_change_nothing(standin: GitLabStandIn) -> None:
    s = standin
    notes = [(iid, bot_thread(s, iid, f"The operator changed ({iid}).")) for iid in (1, 2, 3)]
    new = Finding(Location("pkg/core.py", Side.RIGHT, 2), Severity.WARNING, "New.", "review/bug", "review")
    about = Subject("review/bug", "comparison-operator", "pkg/core.py", "New.", "while k < m:", 0.9)

    def held():
        learned = learn(reader(s).read(PROJECT), today=date(2026, 12, 6), this_pr=7, base_floor=0.18)
        return [h.reason for h in hold_back([new], learned, lambda _f: about)[1]]

    for iid, n in notes:
        award(s, PROJECT, iid, n, "guest", "thumbsdown")
    assert held() == []
    for iid, n in notes:
        award(s, PROJECT, iid, n, "dev", "thumbsdown")
    assert held() == [
        "review/bug on comparison-operator in pkg/core.py: writers rejected 3 such comments in #1, #2, #3"
    ]


def test_award_calls_are_bounded(standin: GitLabStandIn) -> None:
    for iid in range(1, 8):
        bot_thread(standin, iid, f"Comment {iid}.")
    r = reader(standin, max_award_calls=3, max_mrs=5)
    r.read(PROJECT)
    assert r.calls == 1 + 5 + 3
    assert r.notes == [
        "signals: read the 5 most recently updated merge requests (the limit)",
        "signals: award emoji read for the first 3 notes only",
    ]
