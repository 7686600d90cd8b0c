"""The GitLab host against the stand-in: GitLab's position rules, stale heads, resolving threads,
collapsed diffs, and the Code Climate report."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from support.gitlab_helpers import CODE_QUALITY, client
from support.gitlab_repo import PROJECT, serve, two_commits
from support.gitlab_standin import GitLabStandIn, gitlab_files

from reviewbot.diff import DiffIndex, gitlab_position
from reviewbot.errors import SourceError
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.model import Anchored, Finding, Location, Mark, Result, Severity, Side, Stats
from reviewbot.platforms.gitlab import exit_code
from reviewbot.ports import Review
from reviewbot.reporters import codequality

DIFF = b"""diff --git a/m.py b/m.py
--- a/m.py
+++ b/m.py
@@ -1,4 +1,4 @@
 a = 1
-b = 2
+b = 3
 c = 4
 d = 5
"""
SHAS = {"base_sha": "a" * 40, "start_sha": "a" * 40, "head_sha": "b" * 40}


@pytest.fixture()
def served():
    with GitLabStandIn() as s:
        s.add_mr("g/p", 1, base="a" * 40, head="b" * 40, files=gitlab_files(DIFF))
        yield s


def _pos(**kw):
    return {"position_type": "text", **SHAS, "old_path": "m.py", "new_path": "m.py", **kw}


@pytest.mark.parametrize(
    ("pos", "ok"),
    [
        (_pos(new_line=2), True),  # added: new_line only
        (_pos(old_line=2), True),  # removed: old_line only
        (_pos(old_line=3, new_line=3), True),  # context: both
        (_pos(old_line=2, new_line=2), False),  # added line given both
        (_pos(new_line=3), False),  # context line given one
        (_pos(new_line=9), False),  # outside the diff
        ({**_pos(new_line=2), "head_sha": "c" * 40}, False),  # not the latest version's SHAs
        ({**_pos(new_line=2), "old_path": None}, False),
        (
            _pos(
                old_line=4,
                new_line=4,
                line_range={
                    "start": {"line_code": "x_3_3", "type": "old", "old_line": 3, "new_line": 3},
                    "end": {"line_code": "x_4_4", "type": "old", "old_line": 4, "new_line": 4},
                },
            ),
            False,
        ),
    ],
)
def test_the_standin_refuses_what_gitlab_refuses(served, pos, ok):
    assert (served.check(served.mrs[("g/p", 1)], pos) is None) is ok


@pytest.mark.parametrize(
    ("side", "line", "first"),
    [(Side.RIGHT, 2, None), (Side.LEFT, 2, None), (Side.RIGHT, 4, 2), (Side.RIGHT, 3, 1)],
)
def test_computed_positions_are_taken(served, side, line, first):
    index = DiffIndex(GitLabHost(client(served), "g/p").fetch(1).changeset.files)
    pos = gitlab_position(index, Location("m.py", side, line, first), **SHAS)
    assert pos is not None and served.check(served.mrs[("g/p", 1)], pos) is None


def _result(cs, findings):
    anchored = tuple(Anchored(f, 0, True, Mark.ADDED) for f in findings)
    return Result(cs, anchored, (), (), Stats(files=len(cs.files), backend="test"))


def _finding(line=2, message="b changed", source="model"):
    return Finding(
        Location("m.py", Side.RIGHT, line), Severity.ERROR, message, "model/bug", "review", source=source
    )


def test_a_stale_head_posts_nothing(served):
    host = GitLabHost(client(served), "g/p")
    change = host.fetch(1)
    served.add_version("g/p", 1, base="a" * 40, head="c" * 40, files=gitlab_files(DIFF))
    done = host.post(change, Review(_result(change.changeset, [_finding()])), host.prior(change))
    assert done.stale == "c" * 40 and served.statuses("POST") == [] and served.statuses("PUT") == []


@pytest.mark.parametrize("can_resolve", [True, False])
def test_threads_of_gone_findings_are_resolved_where_the_role_allows(served, can_resolve):
    served.can_resolve = can_resolve
    host = GitLabHost(client(served), "g/p")
    change = host.fetch(1)
    host.post(change, Review(_result(change.changeset, [_finding()])), host.prior(change))
    (thread,) = served.threads("g/p", 1)
    done = host.post(change, Review(_result(change.changeset, [])), host.prior(change))
    assert done.resolved == int(can_resolve)
    assert thread["notes"][0]["resolved"] is can_resolve
    (summary,) = served.summaries("g/p", 1)
    assert ("the token's role cannot resolve threads" in summary["body"]) is not can_resolve


def test_pagination_is_followed(served):
    served.page_size = 2
    host = GitLabHost(client(served), "g/p")
    change = host.fetch(1)
    findings = [_finding(2, f"finding number {i} about a different thing {'x' * i}") for i in range(7)]
    host.post(change, Review(_result(change.changeset, findings)), host.prior(change))
    assert len(served.threads("g/p", 1)) == 7
    again = host.post(change, Review(_result(change.changeset, findings)), host.prior(change))
    assert again.repeated == 7 and len(served.threads("g/p", 1)) == 7 and len(served.summaries("g/p", 1)) == 1


def test_collapsed_diffs_come_from_git(tmp_path):
    repo = tmp_path / "r"
    base, head = two_commits(repo)
    with GitLabStandIn() as s:
        serve(s, repo, base, head)
        for f in s.mrs[(PROJECT, 7)].versions[-1]["diffs"]:
            f["diff"], f["too_large"] = "", True
        cs = GitLabHost(client(s), PROJECT, checkout=repo).fetch(7).changeset
        assert "diff from git" in cs.description and {f.path for f in cs.files} == {
            "app.py",
            ".reviewbot.yml",
        }
        with pytest.raises(SourceError, match="checkout"):
            GitLabHost(client(s), PROJECT).fetch(7)


def test_code_quality_report_follows_gitlabs_format(served):
    cs = GitLabHost(client(served), "g/p").fetch(1).changeset
    findings = [
        _finding(),
        Finding(Location("m.py", Side.LEFT, 2), Severity.INFO, "old b", "ruff/X1", "ruff"),
        Finding(Location("m.py", Side.RIGHT, 4, 2), Severity.WARNING, "range", "model/r", "model"),
    ]
    doc = codequality.render(_result(cs, findings))
    Draft202012Validator(CODE_QUALITY).validate(doc)
    assert len({i["fingerprint"] for i in doc}) == 3
    assert doc[2]["location"]["lines"] == {"begin": 2, "end": 4}
    Draft202012Validator(CODE_QUALITY).validate([])


def test_model_only_findings_fail_the_job_only_when_asked(served):
    cs = GitLabHost(client(served), "g/p").fetch(1).changeset
    model_only = _result(cs, [_finding()])
    assert exit_code(model_only, "error", model_fails=False) == 0
    assert exit_code(model_only, "error", model_fails=True) == 1
    assert exit_code(_result(cs, [_finding(source="ruff")]), "error", model_fails=False) == 1
