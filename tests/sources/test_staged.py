"""`--staged`: the index against HEAD (what `git diff --cached` shows), read from a real repository."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from support.cli_json import run_json

from reviewbot.platforms.cli import main
from reviewbot.sources.staged import StagedSource


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    return tmp_path


def test_only_what_is_staged(repo: Path) -> None:
    (repo / "a.py").write_text("x = 1\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    (repo / "a.py").write_text("x = 2\n", encoding="utf-8")
    git(repo, "add", "a.py")
    (repo / "a.py").write_text("x = 3\n", encoding="utf-8")  # not staged: not reviewed
    (repo / "b.py").write_text("y = 1\n", encoding="utf-8")  # untracked: not reviewed
    before = git(repo, "status", "--porcelain")
    cs = StagedSource(repo).load()
    assert [f.new_path for f in cs.files] == ["a.py"]
    assert [ln.text for h in cs.files[0].hunks for ln in h.lines] == ["x = 1", "x = 2"]
    assert cs.read_head("a.py") == "x = 2\n"  # the staged text, not the work tree's
    assert cs.workdir is None and "staged" in cs.description
    assert git(repo, "status", "--porcelain") == before  # nothing changed in the repository


def test_before_the_first_commit(repo: Path) -> None:
    (repo / "a.py").write_text(
        "import subprocess\n\n\ndef run(x):\n    subprocess.call(x, shell=True)\n", encoding="utf-8"
    )
    git(repo, "add", ".")
    rc, doc, err = run_json("review", "--repo", str(repo), "--staged", "--backend", "none")
    assert rc == 1, err  # bandit B602 (high): an error
    rules = {f["rule"] for f in doc["findings"]}
    assert "bandit/B602" in rules


def test_staged_and_git_exclude_each_other(repo: Path) -> None:
    err = io.StringIO()
    assert main(["review", "--repo", str(repo), "--staged", "--git", "a..b"], io.StringIO(), err) == 2
    assert "not allowed with argument" in err.getvalue()
