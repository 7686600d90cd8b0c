"""The same hostile findings posted on GitHub and on GitLab (their stand-ins): both hosts' bodies go
through one escaping and withholding path, so neither posts a credential, a line that is a
command (GitLab's quick actions ``/approve``, ``/merge``), a live reference or a bidi control."""

from __future__ import annotations

import json
import re

import pytest
from support.both_hosts import both_hosts

from reviewbot.diff import DiffIndex, anchor_all
from reviewbot.model import ChangeSet, Finding, Location, Result, Severity, Side, Stats
from reviewbot.runners.pytest_report import MARK, parse_report, to_finding

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
DIFF = b"""diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,3 +1,4 @@
 import os
-x = 1
+x = 2
+y = os.environ["KEY"]
 z = 3
"""
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
COMMAND_LINE = re.compile(r"(?m)^[ \t]*/")
LIVE_REFERENCE = re.compile(r"(?:[\w.-]+/[\w.-]+)?[#!$&]\d|[~%][\w\"']|\bGH-\d")


def _result(findings: list[Finding]):
    def review(cs: ChangeSet) -> Result:
        anchored, unanchored = anchor_all(findings, DiffIndex(cs.files))
        return Result(cs, anchored, unanchored, (), Stats(files=len(cs.files), backend="test"))

    return review


def _finding(message: str, *, line: int = 3, suggestion: str | None = None, source: str = "model") -> Finding:
    where = Location("app.py", Side.RIGHT, line)
    return Finding(
        where, Severity.WARNING, message, "model/bug", "review", suggestion=suggestion, source=source
    )


def _outside_code(text: str) -> str:
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"(`+).*?\1", "", text, flags=re.DOTALL)


def _bodies(findings: list[Finding], *, annotations: bool = False) -> dict[str, list[str]]:
    """The comment bodies each host received (and GitHub's annotation fields, plain text, where asked)."""
    posted = both_hosts(DIFF, _result(findings))
    assert posted["github"] and posted["gitlab"] and posted["annotations"], posted
    return posted if annotations else {k: v for k, v in posted.items() if k != "annotations"}


@pytest.mark.parametrize("host", ["github", "gitlab", "annotations"])
def test_a_suggestion_holding_a_credential_is_withheld_on_both_hosts(host) -> None:
    fix = f'y = os.environ.get("KEY", "{TOKEN}")\n'
    bodies = _bodies([_finding("a default key is committed", suggestion=fix)], annotations=True)[host]
    assert not [b for b in bodies if TOKEN in b]
    assert host == "annotations" or any("it holds what looks like a credential" in b for b in bodies)


def test_a_multi_line_test_id_does_not_post_quick_actions() -> None:
    """A conftest hook appends ``\\n/approve\\n/merge\\n`` to a failing test's node id."""
    case = {
        "kind": "failure",
        "classname": "tests.test_app",
        "name": "test_x\n/approve\n/merge\n",
        "file": "tests/test_app.py",
        "line": "3",
        "message": "assert 1 == 2",
        "text": "",
    }
    report = parse_report(MARK + json.dumps({"exit": 1, "root": "/checkout", "cases": [case]}))
    assert report is not None
    finding = to_finding(report["cases"][0], Location("app.py", Side.RIGHT, 3))
    for host, bodies in _bodies([finding]).items():
        assert any("test_x" in b for b in bodies), host
        for body in bodies:
            assert not COMMAND_LINE.search(body), (host, body)


@pytest.mark.parametrize(
    "message",
    [
        "Looks fine.\n/approve\n/merge",
        "/approve",
        "ok\r/merge\u2028/unassign @me",
        "   /label ~security",
    ],
)
def test_model_and_tool_text_cannot_form_a_command_line(message) -> None:
    findings = [_finding(message), _finding(message, line=2, source="ruff")]
    for host, bodies in _bodies(findings).items():
        for body in bodies:
            assert not COMMAND_LINE.search(body), (host, body)


def test_a_suggestion_with_a_command_line_is_withheld_on_both_hosts() -> None:
    for host, bodies in _bodies([_finding("use this", suggestion="y = 1\n/merge\n")]).items():
        assert not [b for b in bodies if "/merge" in b], host
        assert any("GitLab reads as a command" in b for b in bodies), host


def test_references_are_inert_on_both_hosts() -> None:
    message = 'Fixes #1 and owner/repo#2, see !3 GH-4 $5 &6, label ~security ~"big one" %v1.0'
    for host, bodies in _bodies([_finding(message)]).items():
        assert any("owner/repo" in b for b in bodies), host
        for body in bodies:
            assert not LIVE_REFERENCE.search(_outside_code(body)), (host, body)


def test_bidi_controls_are_removed_and_a_suggestion_holding_one_is_withheld() -> None:
    message = "access is \u202eylno nimda\u202c checked \u2066here\u2069 \u200f"
    fix = 'if role != "user\u202e \u2066// admin\u2069 \u2066":\n'
    for host, bodies in _bodies([_finding(message, suggestion=fix)], annotations=True).items():
        assert any("nimda" in b for b in bodies), host
        for body in bodies:
            assert not BIDI.search(body), (host, body)


def test_a_long_message_is_cut_the_same_way_on_both_hosts() -> None:
    """Inline, cut with a count of what is not shown; on a listed line, cut with an ellipsis."""
    inline, listed = _finding("word " * 2000), _finding("listed " * 500, line=9)
    for host, bodies in _bodies([inline, listed]).items():
        comments = [b for b in bodies if b.startswith("🟡 **warning** ·")]  # the inline one
        assert comments and "more characters not shown)" in comments[0], host
        assert any(re.search(r"(listed ){100}.* \.\.\. <!-- reviewbot:fp=", b) for b in bodies), host
