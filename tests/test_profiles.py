"""Rules per kind of file: the asserts of a test suite, its requests to its own server and its
fixture credentials are not reported; the same lines in code are; the configuration changes it;
what is left out is counted in a note."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewbot import compose
from reviewbot.config import load, parse_text
from reviewbot.diff.parse import parse_diff
from reviewbot.model import ChangeSet, Finding, Location, Severity, Side
from reviewbot.pipeline import Parts, run
from reviewbot.pipeline.secrets import placeholder
from reviewbot.profiles import Profiles


def finding(path: str, rule: str, line: int = 1) -> Finding:
    return Finding(
        Location(path, Side.RIGHT, line), Severity.INFO, f"{rule} here", rule, "lint", source="bandit"
    )


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("tests/test_api.py", "tests"),
        ("src/pkg/tests/helpers.py", "tests"),
        ("test_api.py", "tests"),
        ("pkg/api_test.py", "tests"),
        ("conftest.py", "tests"),
        ("HISTORY.md", "docs"),
        ("docs/conf.py", "docs"),
        ("examples/client.py", "examples"),
        ("requests/sessions.py", "code"),
        ("contest.py", "code"),
        ("latest/api.py", "code"),
    ],
)
def test_kind_of_a_file(path: str, kind: str) -> None:
    assert Profiles().kind_of(path) == kind


def test_rules_off_in_tests_are_counted_and_kept_in_code() -> None:
    got = [
        finding("tests/test_api.py", "bandit/B101", 1),
        finding("tests/test_api.py", "bandit/B101", 2),
        finding("tests/test_api.py", "bandit/B113", 3),
        finding("tests/test_api.py", "ruff/F401", 4),
        finding("api.py", "bandit/B101", 5),
        finding("api.py", "bandit/B113", 6),
        finding("HISTORY.md", "secrets/hex-high-entropy-string", 7),
        finding("tests/test_api.py", "pytest/failed", 8),
    ]
    kept, notes = Profiles().apply(got)
    assert [(f.location.path, f.rule) for f in kept] == [
        ("tests/test_api.py", "ruff/F401"),
        ("api.py", "bandit/B101"),
        ("api.py", "bandit/B113"),
        ("tests/test_api.py", "pytest/failed"),
    ]
    assert notes == [
        "1 finding(s) of rules off in docs files not shown (secrets/hex-high-entropy-string 1; "
        "rules_off.docs in the configuration)",
        "3 finding(s) of rules off in tests files not shown (bandit/B101 2, bandit/B113 1; "
        "rules_off.tests in the configuration)",
    ]


def test_a_failing_test_cannot_be_switched_off() -> None:
    prof = Profiles(off={"tests": ("*",), "code": ("*",)})
    kept, _ = prof.apply([finding("tests/test_api.py", "pytest/failed"), finding("a.py", "ruff/F821")])
    assert [f.rule for f in kept] == ["pytest/failed"]


def test_the_base_configuration_changes_the_profiles(tmp_path) -> None:
    (tmp_path / ".reviewbot.yml").write_text(
        "file_kinds:\n  tests: ['spec/*']\nrules_off:\n  tests: []\n  code: ['bandit/B1*']\n"
    )
    prof = compose.profiles(load({}, {}, tmp_path))
    assert prof.kind_of("spec/api.py") == "tests" and prof.kind_of("tests/test_api.py") == "code"
    kept, _ = prof.apply([finding("spec/api.py", "bandit/B101"), finding("tests/test_api.py", "bandit/B113")])
    assert [f.location.path for f in kept] == ["spec/api.py"]


def test_a_rule_must_be_named_with_its_source() -> None:
    with pytest.raises(Exception, match="bandit/B101"):
        parse_text("rules_off:\n  tests: [B101]\n", "t")


@pytest.mark.parametrize(
    ("value", "line", "is_placeholder"),
    [
        ("pass", "`https://user:pass@proxy:8080`", True),
        ("password", "http://user:password@host", True),
        ("pass%20pass", "http://user:pass%20pass@complex.url.com/", True),
        ("<password>", "https://me:<password>@db.internal", True),
        ("${DB_PASSWORD}", "postgres://app:${DB_PASSWORD}@db", True),
        ("hunter2xyz", "https://deploy:hunter2xyz@example.com/repo.git", True),
        ("hunter2xyz", "https://deploy:hunter2xyz@git.corp.net/repo.git", False),
        ("Zq9!kW2p", "postgres://app:Zq9!kW2p@10.0.0.5/prod", False),
    ],
)
def test_documented_placeholder_credentials(value: str, line: str, is_placeholder: bool) -> None:
    assert placeholder("Basic Auth Credentials", value, line) is is_placeholder


def _diff(path: str, lines: list[str]) -> str:
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{ln}\n" for ln in lines)
    )


def test_the_pipeline_applies_the_profiles_to_a_real_bandit_run() -> None:
    """bandit really runs (low severity included): its B101/B113 on a test file are left out
    (counted), on code kept; a
    placeholder credential in the docs is no secret, a real-looking one in code is."""
    test_lines = [
        "import requests",
        "def test_get():",
        "    r = requests.get('http://localhost:1')",
        "    assert r.ok",
    ]
    code_lines = [
        "import requests",
        "def get():",
        "    r = requests.get('http://api.invalid/x')",
        "    assert r.ok",
        "    return r",
    ]
    doc_lines = [
        "Proxies with user info (`https://user:pass@proxy:8080`) work.",
        "Use https://ci:Zq9kW2pLmX@git.corp.net/r.git",
    ]
    files = {"tests/test_get.py": test_lines, "client.py": code_lines, "README.md": doc_lines}
    text = "".join(_diff(p, ls) for p, ls in files.items())
    cs = replace(
        ChangeSet(files=tuple(parse_diff(text)), description="t"),
        read_head=lambda p: "\n".join(files[p]) + "\n" if p in files else None,
    )
    pytest.importorskip("bandit")
    result = run(
        cs,
        Parts(
            backend=None, route=None, linters=compose.linters(load({"lint.bandit_severity": "low"}, {}, None))
        ),
    )
    shown = sorted((f.location.path, f.rule) for f in result.findings)
    assert ("client.py", "bandit/B101") in shown and ("client.py", "bandit/B113") in shown
    assert not [p for p, r in shown if p == "tests/test_get.py" and r.startswith("bandit/")]
    assert ("README.md", "secrets/basic-auth-credentials") in shown
    assert [f.location.line for f in result.findings if f.location.path == "README.md"] == [2]
    assert any(n.startswith("2 finding(s) of rules off in tests files not shown (") for n in result.notes)
