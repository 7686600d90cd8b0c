"""`reviewbot review` refuses a cache or model directory inside the checkout it reviews (the change
could commit a converted model or a marker key there); one that lies outside is used."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from reviewbot.platforms.cli import main


def _git(repo: Path, *args: str) -> None:
    argv = ["git", "-C", str(repo), "-c", "user.email=t@t", "-c", "user.name=t", *args]
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    _git(repo, "add", "a.py")
    _git(repo, "commit", "-qm", "base")
    (repo / ".reviewbot-cache").mkdir()
    (repo / ".reviewbot-cache" / "marker.key").write_bytes(b"k" * 32)
    (repo / "a.py").write_text("x = 1\ny = 2\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "the change, with a planted cache")
    return repo


def _review(repo: Path, *extra: str) -> tuple[int, str]:
    err = io.StringIO()
    argv = ["review", "--repo", str(repo), "--git", "HEAD~1..HEAD", "--backend", "none", *extra]
    code = main(argv, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


@pytest.mark.parametrize(
    ("variable", "flag"), [("REVIEWBOT_CACHE_DIR", "--cache-dir"), ("REVIEWBOT_MODEL_DIR", None)]
)
def test_a_directory_inside_the_checkout_is_refused(repo, monkeypatch, variable, flag):
    monkeypatch.chdir(repo)
    monkeypatch.setenv(variable, ".reviewbot-cache")  # relative: the working directory is the checkout
    code, err = _review(repo)
    assert code == 2 and err.count("\n") == 1, err
    assert f"{variable} to a directory outside it" in err
    if flag is not None:
        monkeypatch.delenv(variable)
        code, err = _review(repo, flag, str(repo / ".reviewbot-cache" / "sub"))
        assert code == 2 and "is inside the checkout under review" in err


def test_a_cache_outside_the_checkout_is_used(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    code, err = _review(repo)
    assert code == 0, err
