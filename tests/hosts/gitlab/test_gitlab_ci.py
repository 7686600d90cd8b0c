"""The CI template: valid for GitLab's schema, and run for real by gitlab-ci-local (FACTS.md) as a user
includes it, against the stand-in through CI_API_V4_URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from support.gitlab_helpers import CODE_QUALITY
from support.gitlab_repo import PROJECT, serve, two_commits
from support.gitlab_standin import GitLabStandIn

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "templates" / "reviewbot.gitlab-ci.yml"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed (.ci/run installs it)")
    return found


def test_template_validates_against_gitlabs_schema():
    proc = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(TEMPLATE)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_included_job_reviews_a_merge_request_for_real(tmp_path):
    repo = tmp_path / "repo"
    base, head = two_commits(repo)
    shutil.copy(TEMPLATE, repo / "reviewbot.gitlab-ci.yml")
    (repo / ".gitlab-ci.yml").write_text("include:\n  - local: reviewbot.gitlab-ci.yml\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "reviewbot"  # reviewbot as installed: this tree, this interpreter
    wrapper.write_text(
        f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m reviewbot.platforms.cli "$@"\n'
    )
    wrapper.chmod(0o755)
    with GitLabStandIn() as server:
        serve(server, repo, base, head)
        variables = {
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_PROJECT_ID": "1",
            "CI_API_V4_URL": server.url,
            "GITLAB_TOKEN": server.token,
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "REVIEWBOT_BACKEND": "none",
            "REVIEWBOT_FAIL_ON": "never",
        }
        variables["CI_BUILDS_DIR"] = str(tmp_path / "builds")  # where the template keeps its cache
        argv = [_tool("gitlab-ci-local"), "--force-shell-executor"]
        for k, v in variables.items():
            argv += ["--variable", f"{k}={v}"]
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        proc = subprocess.run(
            [*argv, "reviewbot"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "PASS" in out, out[-3000:]
        assert "reviewbot-gpu" not in out  # the GPU variant runs only with REVIEWBOT_VLLM_URL
        threads = server.threads(PROJECT, 7)
        assert threads and server.rejections == []
        for t in threads:
            assert server.check(server.mrs[(PROJECT, 7)], t["notes"][0]["position"]) is None
        (summary,) = server.summaries(PROJECT, 7)
        assert "ruff/F401" in summary["body"], "F401 on `import os`: listed (style)"
    assert (tmp_path / "builds" / ".reviewbot-cache").is_dir() and not (repo / ".reviewbot-cache").exists()
    report = json.loads((repo / "gl-code-quality-report.json").read_text())
    Draft202012Validator(CODE_QUALITY).validate(report)
    assert {i["check_name"] for i in report} >= {"ruff/F401"}
