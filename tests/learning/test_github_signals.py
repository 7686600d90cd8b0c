"""The team's signals read from the GitHub stand-in: reactions, resolutions by a person, fixes and
reply commands on the bot's own (signed) comments, one GraphQL call per ten pull requests; a kind
that writers rejected is held back with its reason in the summary; the same signals from a user
without write access change nothing."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from reviewbot.learning import hold_back, learn
from reviewbot.learning.github_signals import GitHubSignals
from reviewbot.learning.holdback import summary_lines
from reviewbot.learning.signals import Subject
from reviewbot.model import Finding, Location, Severity, Side
from tests.support.github_standin import GitHubStandIn, react, resolve_as, set_permission
from tests.support.learning_threads import github_comment, github_diff, github_reader

REPO = "octo/lib"


def bot_comment(s: GitHubStandIn, number: int, message: str) -> int:
    return github_comment(s, REPO, number, message)


def reader(s: GitHubStandIn, **kw) -> GitHubSignals:
    return github_reader(s, REPO, **kw)


def reply(s: GitHubStandIn, number: int, to: int, user: str, text: str) -> None:
    s.review_comments.append(
        {
            **next(c for c in s.review_comments if c["id"] == to),
            "id": s._id(),
            "body": text,
            "user": {"login": user},
            "in_reply_to_id": to,
        }
    )


@pytest.fixture
def standin():
    with GitHubStandIn() as s:
        for n in range(1, 8):
            s.add_pull(REPO, n, base="b" * 40, head=f"{n:040x}", diff=github_diff("    if n > 1:"))
        set_permission(s, REPO, "ann", "write")
        set_permission(s, REPO, "rita", "read")
        yield s


def test_reactions_resolutions_fixes_and_replies_become_signals(standin: GitHubStandIn) -> None:
    s = standin
    down = bot_comment(s, 1, "The comparison operator `>=` became `>`.")
    react(s, down, "ann", "THUMBS_DOWN")
    react(s, down, "ann", "HEART")  # not a verdict
    dismissed = bot_comment(s, 2, "The comparison operator `>=` became `>` here.")
    resolve_as(s, dismissed, "ann")
    fixed = bot_comment(s, 3, "The test changed.")
    s.push(REPO, 3, head="c" * 40, diff=github_diff("    if n >= 1:"))  # the commented line changed: outdated
    gql = {
        "query": "mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id } } }",
        "variables": {"id": f"PRRT_{fixed}"},
    }
    httpx.post(
        f"{s.url}/graphql", json=gql, headers={"Authorization": f"token {s.token}"}
    )  # the bot resolves it
    wrong = bot_comment(s, 4, "Another comparison.")
    reply(s, 4, wrong, "ann", "/wrong: the boundary is intended")
    reply(s, 4, wrong, "rita", "/useful")
    s.add_review_comment(REPO, 5, "a person's own comment", "ann", "pkg/core.py", 2)
    forged = bot_comment(s, 6, "Forged.")
    s.review_comments[-1]["body"] = s.review_comments[-1]["body"].replace(
        "mac=", "mac=0"
    )  # not validly signed
    react(s, forged, "ann", "THUMBS_DOWN")

    r = reader(s)
    got = sorted((x.pr, x.kind, x.author, x.writer, x.subject.fact_kind) for x in r.read("octo", "lib"))
    assert got == [
        (1, "down", "ann", True, "comparison-operator"),
        (2, "dismissed", "ann", True, "comparison-operator"),
        (3, "fixed", "author3", False, "comparison-operator"),
        (4, "useful", "rita", False, "comparison-operator"),
        (4, "wrong", "ann", True, "comparison-operator"),
    ]
    assert r.calls == 1 and r.notes == []
    first = next(x for x in r.read("octo", "lib") if x.pr == 1).subject
    assert first == Subject(
        "review/bug",
        "comparison-operator",
        "pkg/core.py",
        "The comparison operator `>=` became `>`.",
        "if n > 1:",
        0.3,
    )


def test_a_kind_rejected_by_writers_is_held_with_its_reason_and_outsiders_change_nothing(
    standin: GitHubStandIn,
) -> None:
    s = standin
    ids = [bot_comment(s, n, f"The comparison operator `>=` became `>` (number {n}).") for n in (1, 2, 3)]
    for i in ids:
        react(s, i, "rita", "THUMBS_DOWN")  # read access only
    new = Finding(
        Location("pkg/core.py", Side.RIGHT, 2),
        Severity.WARNING,
        "A new comment on a comparison.",
        "review/bug",
        "review",
        confidence=0.9,
    )
    about = Subject("review/bug", "comparison-operator", "pkg/core.py", new.message, "while k < m:", 0.9)

    def review(reader_: GitHubSignals):
        learned = learn(reader_.read("octo", "lib"), today=date(2026, 12, 6), this_pr=7, base_floor=0.18)
        return hold_back([new], learned, lambda _f: about)

    assert review(reader(s)) == ([new], [])
    for i in ids:
        react(s, i, "ann", "THUMBS_DOWN")
    kept, held = review(reader(s))
    assert kept == []
    assert summary_lines(held) == [
        "Held back, from what this repository's team taught the bot (1):",
        "`pkg/core.py:2` `review/bug`: A new comment on a comparison. (held back: review/bug on "
        "comparison-operator in pkg/core.py: writers rejected 3 such comments in #1, #2, #3)",
    ]


def test_reading_is_bounded_in_pull_requests(standin: GitHubStandIn) -> None:
    for n in range(8, 31):
        standin.add_pull(REPO, n, base="b" * 40, head=f"{n:040x}", diff=github_diff("    if n > 1:"))
    r = reader(standin, max_prs=25)
    r.read("octo", "lib")
    assert r.calls == 3  # 10 + 10 + 5
    assert r.notes == ["signals: read the 25 most recently updated pull requests (the limit)"]
    whole = reader(standin)
    whole.read("octo", "lib")
    assert whole.calls == 3 and whole.notes == []
