"""A two-commit git repository whose head adds ruff findings and a `.reviewbot.yml` that excludes
everything, served as merge request !7 of project 1 (``group/app``) by the GitLab stand-in."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.gitlab_standin import GitLabStandIn, gitlab_files

PROJECT = "group/app"
HEAD_CONFIG = 'plan:\n  exclude: ["*"]\n'


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    out = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, check=True)
    return out.stdout.decode().strip()


def two_commits(repo: Path) -> tuple[str, str]:
    """(base, head): the head adds ``import os`` (ruff F401), a shell call, and the excluding config."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def f(x):\n    return x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text(
        "import os\nimport subprocess\n\n\ndef f(x):\n    return subprocess.call(x, shell=True)\n"
    )
    (repo / ".reviewbot.yml").write_text(HEAD_CONFIG)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "head")
    return base, git(repo, "rev-parse", "HEAD")


def serve(server: GitLabStandIn, repo: Path, base: str, head: str) -> None:
    diff = subprocess.run(
        ["git", "diff", "--no-color", f"{base}..{head}"], cwd=repo, capture_output=True, check=True
    ).stdout
    server.add_mr(PROJECT, 7, base=base, head=head, files=gitlab_files(diff), project_id=1)
    server.files[(PROJECT, head, ".reviewbot.yml")] = HEAD_CONFIG  # the head's: must not be read
