"""Commands from comments: what is a command, who may run one (asked of the host's API), and the
escaped replies."""

from __future__ import annotations

import pytest
from support.github_helpers import client as github_client
from support.github_standin import GitHubStandIn, set_permission
from support.gitlab_helpers import client as gitlab_client
from support.gitlab_standin import GitLabStandIn

from reviewbot.hosts.github.host import GitHubHost
from reviewbot.hosts.github.service import GitHubServiceHost
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.hosts.gitlab.service import GitLabServiceHost
from reviewbot.service.commands import Command, allowed, answer_text, parse


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/review", Command("review", "")),
        ("  /review  \n", Command("review", "")),
        ("\n\n /test", Command("test", "")),
        ("/review\r\nthanks", Command("review", "")),  # later lines are not part of it
        ("/ask why does foo retry?", Command("ask", "why does foo retry?")),
        ("/ask\n  what does\n  this do? ", Command("ask", "what does\n  this do?")),
        ("/describe", Command("describe", "")),
        ("/describe this", None),  # /describe stands alone too
        ("/ask", None),  # no question: not a command (ignored, no usage reply)
        ("/ask   \n ", None),
        ("> /review", None),  # quoted
        ("```\n/review\n```", None),  # in a code block
        ("    /review", None),  # indented code
        ("\t/review", None),
        ("please /review", None),  # not at the start
        ("looks good\n/review", None),
        ("/review please", None),  # /review and /test stand alone
        ("/reviewer", None),
        ("/Review", None),
        ("/review.", None),
        ("/deploy", None),
        ("", None),
    ],
)
def test_parse(body: str, expected: Command | None) -> None:
    assert parse(body) == expected


def test_commands_from_users_without_write_access_are_ignored_on_github() -> None:
    with GitHubStandIn() as server:
        set_permission(server, "o/r", "writer", "write")
        set_permission(server, "o/r", "triager", "triage")
        set_permission(server, "o/r", "reader", "read")
        host = GitHubServiceHost(GitHubHost(client=github_client(server), repo="o/r"))
        bot = "reviewbot[bot]"
        assert allowed(host, "writer", bot)
        assert not any(allowed(host, u, bot) for u in ("triager", "reader", "passer-by"))
        asked = len(server.log)
        assert not allowed(host, "ReviewBot[bot]", bot)  # the bot's own comment: no API call needed
        assert not allowed(host, "", bot) and len(server.log) == asked
        assert server.statuses("GET", "passer-by/permission") == [404]


def test_commands_from_users_without_write_access_are_ignored_on_gitlab() -> None:
    with GitLabStandIn() as server:
        server.add_member("g/p", "dev", 30)
        server.add_member("g/p", "reporter", 20)
        host = GitLabServiceHost(GitLabHost(gitlab_client(server), "g/p"))
        assert allowed(host, "dev", "reviewbot")
        assert not allowed(host, "reporter", "reviewbot") and not allowed(host, "nobody", "reviewbot")
        assert not allowed(host, "reviewbot", "reviewbot")


def test_answers_are_escaped() -> None:
    ask = Command("ask", "why <!-- reviewbot:summary --> @team [x](http://e.vil)?")
    text = answer_text(ask, "```\n<img src=x> @everyone\n# heading", user="al[ice]")
    assert "<!--" not in text and "<img" not in text and "[x](" not in text
    assert "@\u200beveryone" in text and "@\u200bteam" in text and "\n# heading" not in text
    assert text.startswith("**reviewbot** `/ask` (asked by @\u200bal\\[ice\\])\n\n> why ")
    assert "\n```" not in text  # the answer cannot open a fence


def test_a_long_answer_is_cut_to_one_comment() -> None:
    text = answer_text(Command("test", ""), "<&>" * 40_000)
    assert len(text) <= 65_536 and text.rstrip().endswith("(cut to fit one comment)")
    assert "&l\n" not in text and text.count("&lt;") == text.count("&gt;")
