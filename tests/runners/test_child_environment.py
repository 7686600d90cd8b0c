"""No credential reaches a child process: tools and the sandbox get an
allow-listed environment that drops credentials even when a caller passes one; git, which gets
ours, gets it without them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewbot.knowledge import repo
from reviewbot.redact import clean_environ
from reviewbot.runners.process import run
from reviewbot.sources import git

TOKENS = {
    "GITHUB_TOKEN": "ghp_secret1",
    "GITLAB_TOKEN": "glpat-secret2",
    "CI_JOB_TOKEN": "secret3",
    "CI_JOB_JWT_V2": "secret4",
    "REVIEWBOT_API_KEY": "secret5",
    "REVIEWBOT_MARKER_KEY": "secret6",
    "AWS_SECRET_ACCESS_KEY": "secret7",
    "ACTIONS_RUNTIME_TOKEN": "secret8",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "secret9",
}


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in TOKENS.items():
        monkeypatch.setenv(k, v)


def test_clean_environ_keeps_the_rest() -> None:
    kept = clean_environ({**TOKENS, "PATH": "/bin", "LANG": "C", "KEYBOARD": "us", "GIT_DIR": "x"})
    assert kept == {"PATH": "/bin", "LANG": "C", "KEYBOARD": "us", "GIT_DIR": "x"}


def test_a_tool_never_gets_a_token_even_when_the_caller_passes_one(tokens, tmp_path) -> None:
    code = "import os; print(sorted(os.environ.items()))"
    res = run([sys.executable, "-c", code], cwd=str(tmp_path), timeout=20, env={**TOKENS, "X_ONE": "1"})
    assert res.ok, res.stderr
    assert "X_ONE" in res.stdout and not any(v in res.stdout for v in TOKENS.values())


def test_git_gets_no_token(tokens) -> None:
    env = git._env()
    assert not set(TOKENS) & set(env) and env["GIT_TERMINAL_PROMPT"] == "0"


def test_the_knowledge_index_runs_git_without_a_token(tokens, tmp_path, monkeypatch) -> None:
    (tmp_path / ".git").mkdir()
    seen: dict = {}

    def fake_run(argv, **kw):
        seen.update(kw["env"])
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(repo.subprocess, "run", fake_run)
    repo.list_files(tmp_path)
    assert seen and not set(TOKENS) & set(seen)
