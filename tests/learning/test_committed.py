"""The committed ``.reviewbot/learnings.yml`` is read from the pull request's base through the
host's real client (on the stand-ins); the copy in the change's head is ignored."""

from __future__ import annotations

from datetime import date

import pytest

from reviewbot.errors import ConfigError
from reviewbot.learning.apply import hold_back_result, prepare
from reviewbot.learning.file import PATH, read_committed
from tests.learning.test_apply import model, result_of
from tests.support.github_helpers import client
from tests.support.github_standin import GitHubStandIn

REPO = "octo/lib"
BASE, HEAD = "b" * 40, "c" * 40
HOLD = (
    "version: 1\nlessons:\n"
    "  - {action: hold, rule: review/bug, fact_kind: return-value, path: '**', expires: 2027-06-01}\n"
)


def held_with(standin: GitHubStandIn) -> int:
    gh = client(standin)
    committed = read_committed(lambda path, ref: gh.file_text(REPO, path, ref), BASE)
    learned = prepare([], committed, this_pr=3, today=date(2026, 12, 6), base_floor=0.18)
    return len(hold_back_result(result_of(model(4, "The return value changed.")), learned)[1])


def test_the_bases_file_counts_and_the_heads_is_ignored() -> None:
    with GitHubStandIn() as s:
        s.contents[(REPO, HEAD, PATH)] = HOLD  # the change adds a file that would hold the finding back
        assert held_with(s) == 0
        s.contents[(REPO, BASE, PATH)] = HOLD
        s.contents[(REPO, HEAD, PATH)] = "version: 1\nlessons: []\n"  # the change empties it: ignored
        assert held_with(s) == 1
        assert ("GET", f"/repos/{REPO}/contents/.reviewbot/learnings.yml", 200) in s.log


def test_a_bad_committed_file_is_one_line_naming_the_base() -> None:
    with GitHubStandIn() as s:
        s.contents[(REPO, BASE, PATH)] = "version: 1\nlessons: 3\n"
        with pytest.raises(
            ConfigError, match=r"^bbbbbbb:\.reviewbot/learnings\.yml \(the pull request's base\): lessons: "
        ):
            held_with(s)
