"""SARIF rules carry help, helpUri, tags and security-severity; a real bandit finding (CWE-78)
shows a severity, and the log still validates against the SARIF 2.1.0 schema."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import jsonschema
from support.samples import finding, with_findings

from reviewbot.model import Severity
from reviewbot.platforms.cli import main
from reviewbot.reporters.sarif import render

SCHEMA = json.loads((Path(__file__).parents[1] / "data/sarif-2.1.0.schema.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_a_real_bandit_finding_has_a_security_severity(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    app = tmp_path / "app.py"
    app.write_text("def run(x):\n    return x\n", encoding="utf-8")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "base")
    app.write_text(
        "import subprocess\n\n\ndef run(x):\n    subprocess.call(x, shell=True)\n", encoding="utf-8"
    )
    _git(tmp_path, "commit", "-qam", "shell")
    out, err = io.StringIO(), io.StringIO()
    rc = main(
        [
            "review",
            "--repo",
            str(tmp_path),
            "--git",
            "HEAD~1..HEAD",
            "--backend",
            "none",
            "--format",
            "sarif",
            "--fail-on",
            "never",
            "--no-progress",
        ],
        out,
        err,
    )
    assert rc == 0, err.getvalue()
    log = json.loads(out.getvalue())
    errors = sorted(VALIDATOR.iter_errors(log), key=str)
    assert not errors, errors[0]
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules["bandit/B602"]
    assert float(rule["properties"]["security-severity"]) >= 7.0  # bandit HIGH: "high" in code scanning
    assert {"security", "external/cwe/cwe-78"} <= set(rule["properties"]["tags"])
    assert rule["helpUri"].startswith("https://bandit.readthedocs.io/")
    assert "bandit/B602" in rule["help"]["text"]


def test_every_rule_has_help_and_tags() -> None:
    result = with_findings(
        [
            finding(),
            finding(rule="shellcheck/SC2086", source="shellcheck", route="tools", severity=Severity.INFO),
        ]
    )
    rules = render(result)["runs"][0]["tool"]["driver"]["rules"]
    assert all(r["help"]["text"] and r["properties"]["tags"] for r in rules)
    model, shell = rules
    assert "helpUri" not in model and "docs/review.md" in model["help"]["text"]
    assert shell["helpUri"] == "https://www.shellcheck.net/wiki/SC2086"
    assert "security-severity" not in model["properties"]  # a bug, not a security finding
    assert not sorted(VALIDATOR.iter_errors(render(result)), key=str)
