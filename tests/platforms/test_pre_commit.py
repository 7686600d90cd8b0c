"""The pre-commit hook (.pre-commit-hooks.yaml), run for real: `pre-commit try-repo` installs this
repository into pre-commit's own environment (from PyPI, as a user's machine would) and runs the
`reviewbot` hook (`--staged --backend none`) on a scratch repository's staged change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _pre_commit() -> list[str]:
    try:
        import pre_commit  # noqa: F401 - the dev extra installs it
    except ImportError:
        exe = shutil.which("pre-commit")
        assert exe, "pre-commit is not installed (the dev extra has it)"
        return [exe]
    return [sys.executable, "-m", "pre_commit"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_hooks_file_names_the_two_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"reviewbot", "reviewbot-model"}
    assert "--staged" in by_id["reviewbot"]["entry"] and "--backend none" in by_id["reviewbot"]["entry"]
    assert all(h["pass_filenames"] is False for h in hooks)


def test_try_repo_on_a_scratch_repository(tmp_path: Path) -> None:
    work = tmp_path / "scratch"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(work, "config", "user.email", "t@example.com")
    git(work, "config", "user.name", "t")
    (work / "app.py").write_text("def run(x):\n    return x\n", encoding="utf-8")
    git(work, "add", ".")
    git(work, "commit", "-qm", "base")
    (work / "app.py").write_text(
        "import subprocess\n\n\ndef run(x):\n    subprocess.call(x, shell=True)\n", encoding="utf-8"
    )
    git(work, "add", "app.py")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PRE_COMMIT_COLOR": "never"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [*_pre_commit(), "try-repo", str(REPO), "reviewbot", "--verbose"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out  # the hook failed the commit: bandit B602 is an error
    assert "reviewbot (linters, no model)" in out and "Failed" in out
    assert "bandit/B602" in out
