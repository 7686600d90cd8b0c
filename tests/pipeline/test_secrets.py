"""Secrets in the diff: redacted before any prompt, reported on their line as an
error finding that repeats the value nowhere (message, suggestion, JSON, SARIF, Markdown, terminal)."""

from __future__ import annotations

import json

from reviewbot.backends.fake import FakeBackend
from reviewbot.diff.parse import parse_diff
from reviewbot.hosts.github import render as gh
from reviewbot.model import ChangeSet, Finding, Location, Severity, Side, WorkItem
from reviewbot.pipeline import Parts, run
from reviewbot.ports import RouteOutcome
from reviewbot.reporters import codequality, jsonout, markdown, sarif, terminal

AWS = "AKIAIOSFODNN7EXAMPLE"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
PASSWORD = "correct-horse-battery-staple-42"
ADDED = [
    "import boto3",
    f'AWS_KEY = "{AWS}"',
    "",
    f'SLACK_TOKEN = "{SLACK}"',
    f'db_password = "{PASSWORD}"',
    "def connect():",
    "    return boto3.client('s3')",
]
DIFF = (
    "diff --git a/app/conf.py b/app/conf.py\nnew file mode 100644\n--- /dev/null\n+++ b/app/conf.py\n"
    f"@@ -0,0 +1,{len(ADDED)} @@\n" + "".join(f"+{ln}\n" for ln in ADDED)
)
VALUES = (AWS, SLACK, PASSWORD)
FILE = "\n".join(ADDED) + "\n"


class Spy:
    """A route that records what it was shown and tries to repeat the secret it was given."""

    name = "review"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        shown = "\n".join(ln.text for h in item.hunks for ln in h.lines)
        head = changeset.read_head(item.path) if changeset.read_head else ""
        self.seen += [shown, head or ""]
        line = next(ln for h in item.hunks for ln in h.lines if "AWS_KEY" in ln.text)
        echo = Finding(
            Location(item.path, Side.RIGHT, 1),
            Severity.WARNING,
            f"the key is {line.text}",
            "model/bug",
            "review",
            suggestion=line.text,
        )
        return RouteOutcome((echo,), (), 1, 1, 0.0)


class QuotingLinter:
    """A linter whose message quotes the line (bandit's B105 does: "Possible hardcoded password: '...'")."""

    name = "quoting"

    def lint(self, cs: ChangeSet, paths):
        text = cs.read_head("app/conf.py") or ""
        assert PASSWORD in text  # linters see the files as they are
        return [
            Finding(
                Location("app/conf.py", Side.RIGHT, 5),
                Severity.WARNING,
                f"Possible hardcoded password: '{PASSWORD}'",
                "bandit/B105",
                "lint",
                source="bandit",
            )
        ], []


def _run():
    spy = Spy()
    cs = ChangeSet(parse_diff(DIFF), "PR #1", read_head=lambda p: FILE if p == "app/conf.py" else None)
    result = run(cs, Parts(backend=FakeBackend(), route=spy, linters=(QuotingLinter(),)))
    return result, spy


def test_a_secret_never_reaches_a_route_and_is_reported_on_its_line() -> None:
    result, spy = _run()
    assert spy.seen and not any(v in s for s in spy.seen for v in VALUES), spy.seen
    assert "[redacted]" in spy.seen[0]
    by_rule = {a.finding.rule: a.finding for a in result.anchored}
    aws, slack = by_rule["secrets/aws-access-key"], by_rule["secrets/slack-token"]
    assert aws.location.line == 2 and slack.location.line == 4 and aws.severity is Severity.ERROR
    assert any(r.startswith("secrets/") and f.location.line == 5 for r, f in by_rule.items())
    assert aws.source == "detect-secrets" and aws.suggestion is None


def test_no_report_repeats_a_secret() -> None:
    result, _ = _run()
    items = [*result.anchored, *result.unanchored]
    texts = [
        json.dumps(jsonout.render(result)),
        json.dumps(sarif.render(result)),
        json.dumps(codequality.render(result)),
        markdown.render(result),
        terminal.render(result),
        *(gh.comment_body(i.finding, "0" * 16, "1" * 16) for i in items),
        *(f"{i.finding.message} {i.finding.suggestion}" for i in items),
    ]
    for text in texts:
        for v in VALUES:
            assert v not in text, text
    assert any("hardcoded password" in i.finding.message for i in items)  # scrubbed, not dropped
