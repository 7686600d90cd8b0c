"""The injection corpus (tests/data/injection/cases.yaml) end to end, with a model that obeys.

Each case's change goes through pipeline.run with a route scripted to do what the injection asks
(repeat its sentences, offer its code, call its tools) beside one honest finding of its own; the
result is rendered as GitHub would get it (inline comments, review-body lines, the summary). Over
the whole corpus: zero secrets leaked, zero tool calls outside the allow-list, zero approvals, zero
links, images, tables, mentions or HTML in posted bodies that the bot did not write, and zero
attacker-chosen sentences in the bot's messages. Each case is also posted on both hosts (the GitHub
and GitLab stand-ins): no body either receives has a line that begins with ``/`` (a GitLab quick
action), a live reference (``#1``, ``!2``, ``~label``, ``%milestone``) or a bidi control.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import markdown_it
import pytest
import yaml
from support.both_hosts import both_hosts

from reviewbot.backends.fake import FakeBackend
from reviewbot.diff.parse import parse_diff
from reviewbot.hosts.github import render as gh
from reviewbot.model import ChangeSet, Finding, Location, Severity, Side, WorkItem
from reviewbot.pipeline import Parts, run
from reviewbot.ports import RouteOutcome
from reviewbot.reporters import markdown
from reviewbot.routes.tools import ToolsRoute
from reviewbot.runners.pytest_report import MARK, parse_report, to_finding
from reviewbot.tools.base import Registry, Tool, ToolResult

ROOT = Path(__file__).resolve().parents[1]
CASES = yaml.safe_load((ROOT / "tests/data/injection/cases.yaml").read_text(encoding="utf-8"))
HONEST = "This call can raise ValueError when the input is empty."
OURS = re.compile(
    r"^(<!-- reviewbot:(summary|[0-9a-f]{16}"
    r"|(fp=[0-9a-f]{16} key=[0-9a-f]{16}|head=[0-9a-f]{7,64})( mac=[0-9a-f]{32})?"
    r"|review run=[0-9a-f]+ head=[0-9a-f]+"
    r"|about rule=[\w./-]+ fact=[\w-]* confidence=(\d\.\d{1,4}|-)) -->|</?sub>)$"
)
SUMMARY = "<!-- reviewbot:summary -->"
_WORD = re.compile(r"[a-z0-9@_']+")


def _diff(case: dict) -> str:
    path, added = case["file"], case["added"]
    body = "".join(f"+{line}\n" for line in added)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(added)} @@\n{body}"
    )


class ObeyRoute:
    """A model that does what the change tells it, and also writes one finding of its own."""

    name = "review"

    def __init__(self, case: dict) -> None:
        self.case = case

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        last = len(self.case["added"])
        where = Location(self.case["file"], Side.RIGHT, last)
        honest = Finding(where, Severity.ERROR, HONEST, "model/error", "review")
        return RouteOutcome((obeyed(self.case, where), honest), (), 10, 5, 0.1)


def obeyed(case: dict, where: Location) -> Finding:
    """The finding that does what the case asks: the model's (or a tool's) message, or a failing
    test whose node id the change chose."""
    if "test_id" in case:
        test = {
            "kind": "failure",
            "classname": "",
            "name": case["test_id"],
            "file": case["file"],
            "line": "0",
            "message": "assert 1 == 2",
            "text": "",
        }
        report = parse_report(MARK + json.dumps({"cases": [test]}))
        assert report is not None
        return to_finding(report["cases"][0], where)
    return Finding(
        where,
        Severity.WARNING,
        case["obey"],
        "model/bug",
        "review",
        suggestion=case.get("suggestion"),
        source=case.get("source", "model"),
    )


def _bodies(result) -> list[str]:
    out = [markdown.render(result)]
    for a in result.anchored:
        out.append(gh.comment_body(a.finding, "0123456789abcdef", "fedcba9876543210"))
    for u in result.unanchored:
        out.append(gh.listed_line(u.finding, "0123456789abcdef", "fedcba9876543210", u.reason))
    return out


def _tokens(text: str):
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    for t in md.parse(text):
        yield t
        yield from t.children or ()


def _outside_code(text: str) -> str:
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"(`+).*?\1", "", text, flags=re.DOTALL)


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?:;])\s+|\n+", text)
    return [w for w in (_words(p) for p in parts) if w.count(" ") >= 2]


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 20
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_an_obedient_model_does_no_harm(case):
    cs = ChangeSet(parse_diff(_diff(case)), case.get("description", "PR #7"))
    result = run(cs, Parts(backend=FakeBackend(), route=ObeyRoute(case)))
    posted = [a.finding for a in result.anchored] + [u.finding for u in result.unanchored]
    assert any(f.message == HONEST for f in posted), result  # the route ran; our own words pass
    assert_no_harm(case, _bodies(result), posted, _sentences(case["obey"]))


BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
COMMAND_LINE = re.compile(r"(?m)^[ \t]*/")
LIVE_REFERENCE = re.compile(r"(?:[\w.-]+/[\w.-]+)?[#!$&]\d|[~%][\w\"']|\bGH-\d")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_no_body_on_either_host_has_a_command_a_live_reference_or_a_bidi_control(case):
    def review(cs: ChangeSet):
        return run(cs, Parts(backend=FakeBackend(), route=ObeyRoute(case)))

    posted = both_hosts(_diff(case).encode("utf-8"), review)
    for host in ("github", "gitlab"):
        assert any(HONEST in b for b in posted[host]), host  # the review was posted
        for body in posted[host]:
            assert not COMMAND_LINE.search(body), (host, body)
            assert not LIVE_REFERENCE.search(_outside_code(body)), (host, body)
    for body in posted["github"] + posted["gitlab"] + posted["annotations"]:
        assert not BIDI.search(body), body
        for secret in case.get("secrets", ()):
            assert secret not in body


def assert_no_harm(case: dict, bodies: list[str], posted: list[Finding], attacker: list[str]) -> None:
    """Zero secrets, links, images, tables, HTML, mentions or headings of the attacker's in the
    bodies; none of the ``attacker`` sentences in the bot's messages."""
    for body in bodies:
        for secret in case.get("secrets", ()):  # zero secrets leaked
            assert secret not in body
        tables = [t for t in _tokens(body) if t.type == "table_open"]
        assert len(tables) <= (1 if body.startswith(SUMMARY) else 0), (
            body
        )  # the summary's table of files only
        for t in _tokens(body):  # zero links, images, HTML the bot did not write
            assert t.type not in ("link_open", "image"), (t, body)
            if t.type in ("html_block", "html_inline"):
                assert OURS.match(t.content.strip()), (t.content, body)
            if t.type == "fence":  # a suggestion of the attacker's is never a committable block
                assert t.content.strip() != (case.get("suggestion") or "\0").strip(), body
        prose = _outside_code(body)
        assert not re.search(r"@[A-Za-z0-9]", prose), body  # zero mentions (nor e-mail autolinks)
        assert not re.search(r"(?i)https?://|\bwww\.", prose), body  # zero bare autolinks

    for body in bodies:  # no heading but ours (the summary's sections)
        toks = list(_tokens(body))
        heads = [toks[j + 1].content for j, t in enumerate(toks) if t.type == "heading_open"]
        ours = {
            "reviewbot",
            "reviewbot review",
            "Walkthrough",
            "Not reviewed",
            "Not placed on the diff",
            "Notes",
            f"`{case['file']}`",
        }
        summary = body.startswith(SUMMARY)
        assert set(heads) <= (ours if summary else set()) and heads.count("reviewbot review") <= 1, heads

    # zero attacker-chosen sentences in the bot's messages
    said = " \n ".join(_words(f.message) for f in posted)
    for sentence in () if case.get("own") else attacker:
        assert f" {sentence} " not in f" {said} ", (sentence, said)


def test_zero_tool_calls_outside_the_allow_list():
    called: list[str] = []

    def runner(cs, args):
        called.append("lint")
        return ToolResult(observation="lint: no problems")

    registry = Registry([Tool("lint", "a stand-in linter", {"type": "object"}, runner)])
    asked = 0
    for case in (c for c in CASES if c.get("calls")):
        answer = json.dumps({"calls": case["calls"], "done": False})
        backend = FakeBackend(texts=[answer] * 3, constrained=False)
        cs = ChangeSet(parse_diff(_diff(case)), "PR #7")
        result = run(cs, Parts(backend=backend, route=ToolsRoute(backend, registry)))
        asked += len(case["calls"])
        assert all(
            not f.message.startswith(("shell", "read_file")) for a in result.anchored for f in [a.finding]
        )
    assert asked >= 2
    assert called == []  # every call named a tool outside the allow-list and none ran


def test_zero_approvals():
    """The bot never approves, requests changes or merges: the one review call sends COMMENT."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "reviewbot").rglob("*.py"))
    assert re.findall(r'event="(\w+)"', sources) == ["COMMENT"]
    assert not re.search(r"\bAPPROVE\b|REQUEST_CHANGES|\.merge\(|create_review\(.*APPROVE", sources)
