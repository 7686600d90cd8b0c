"""`reviewbot review --git` on a real repository: linters on changed lines only, through the CLI."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from reviewbot.platforms.cli import main

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]

OLD = """import subprocess


def run(cmd):
    return subprocess.call(cmd)
"""

NEW = """import os
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def untouched_twin(cmd):
    return subprocess.call(cmd, shell=True)
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    git(tmp_path, "init", "-q")
    (tmp_path / "tool.py").write_text(OLD)
    (tmp_path / "untouched.py").write_text("import os\n")  # a finding outside the change
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "feature")
    return tmp_path


def review(repo: Path, *extra: str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "review",
            "--git",
            "--repo",
            str(repo),
            "--backend",
            "none",
            "--format",
            "json",
            "--no-progress",
            *extra,
        ],
        out,
        err,
    )
    return code, (json.loads(out.getvalue()) if out.getvalue() else {}), err.getvalue()


def test_linters_report_on_changed_lines_only(repo: Path) -> None:
    # the second shell=True call is added too but we commit it in the base first, so it is unchanged
    (repo / "tool.py").write_text(
        OLD + "\n\ndef untouched_twin(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    git(repo, "commit", "-qam", "twin")
    git(repo, "branch", "-f", "main", "HEAD")
    (repo / "tool.py").write_text(NEW)
    git(repo, "commit", "-qam", "change")
    code, doc, err = review(repo, "--fail-on", "never")
    assert code == 0, err
    found = {(f["rule"], f["line"]) for f in doc["findings"]}
    assert ("ruff/F401", 1) in found  # `import os` added and unused
    assert any(rule.startswith("bandit/B60") and line == 6 for rule, line in found)  # shell=True added
    assert all(f["path"] == "tool.py" for f in doc["findings"])  # nothing from untouched.py
    assert not any(line == 10 for _, line in found)  # the unchanged twin is not reported
    assert doc["source"]["base"] and doc["source"]["head"]
    assert any("backend none" in n for n in doc["notes"])


def test_fail_on_sets_the_exit_code(repo: Path) -> None:
    (repo / "tool.py").write_text(NEW)
    git(repo, "commit", "-qam", "change")
    assert review(repo, "--git", "main..feature", "--fail-on", "never")[0] == 0
    code, doc, _ = review(repo, "--fail-on", "warning")
    assert code == 1 and doc["findings"]


def test_not_a_repository_is_one_line_exit_4(tmp_path: Path) -> None:
    code, _, err = review(tmp_path / "nowhere")
    assert code == 4
    assert err.count("\n") == 1 and err.startswith("reviewbot: ")
