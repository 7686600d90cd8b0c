"""`reviewbot gitlab review` end to end: a real git checkout, ruff's findings, the stand-in as GitLab."""

from __future__ import annotations

import io
import json

import pytest
from support.gitlab_repo import PROJECT, serve, two_commits
from support.gitlab_standin import GitLabStandIn

from reviewbot import config
from reviewbot.platforms.cli import main


@pytest.fixture()
def mr(tmp_path, monkeypatch):
    repo = tmp_path / "checkout"
    base, head = two_commits(repo)
    with GitLabStandIn() as server:
        serve(server, repo, base, head)
        for k in (
            "GITLAB_TOKEN",
            "CI_JOB_TOKEN",
            "CI_API_V4_URL",
            "CI_MERGE_REQUEST_IID",
            "CI_MERGE_REQUEST_PROJECT_ID",
        ):
            monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("GITLAB_TOKEN", server.token)
        monkeypatch.setenv("CI_API_V4_URL", server.url)
        yield server, repo, base, head


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_head_config_that_excludes_everything_does_not_switch_the_review_off(mr, monkeypatch):
    server, repo, base, head = mr
    monkeypatch.setenv("CI_MERGE_REQUEST_PROJECT_ID", "1")
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    code, out, err = _main(
        "gitlab",
        "review",
        "--post",
        "--checkout",
        str(repo),
        "--backend",
        "none",
        "--no-progress",
        "--fail-on",
        "never",
    )
    assert code == 0, err
    threads = server.threads(PROJECT, 7)
    assert not any("F401" in t["notes"][0]["body"] for t in threads)  # style: in the summary, not a thread
    (summary,) = server.summaries(PROJECT, 7)
    assert "ruff/F401" in summary["body"], "app.py was reviewed with the base's config"
    assert server.rejections == []
    assert ("GET", "/api/v4/projects/1/repository/files/.reviewbot.yml/raw") in {
        (m, p) for m, p, _ in server.log
    }
    assert f"1!7: {len(threads)} threads" in out
    assert config.load({}, {}, repo).plan.exclude == ("*",), "the head's own file would have excluded it all"


def test_dry_run_prints_the_threads_and_writes_a_code_quality_report(mr, tmp_path):
    server, repo, base, head = mr
    cq = tmp_path / "gl-code-quality-report.json"
    code, out, err = _main(
        "gitlab",
        "review",
        "--mr",
        f"{PROJECT}!7",
        "--checkout",
        str(repo),
        "--backend",
        "none",
        "--no-progress",
        "--codequality-out",
        str(cq),
        "--fail-on",
        "never",
    )
    assert code == 0, err
    threads = json.loads(out)
    assert threads and all(t["position"]["head_sha"] == head for t in threads)
    assert all(server.check(server.mrs[(PROJECT, 7)], t["position"]) is None for t in threads)
    # the one POST is the GraphQL query reading the team's signals: nothing written
    assert server.statuses("POST", r"^(?!/api/graphql$)") == [] and server.statuses("PUT") == []
    assert server.statuses("POST", r"^/api/graphql$") == [200]
    assert {i["location"]["path"] for i in json.loads(cq.read_text())} == {"app.py"}


def test_only_the_job_token_is_a_one_line_clear_error(monkeypatch):
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    monkeypatch.setenv("CI_JOB_TOKEN", "x")
    code, out, err = _main("gitlab", "review", "--mr", "g/p!1")
    assert code == 2 and err.count("\n") == 1
    assert "CI_JOB_TOKEN cannot post notes" in err and "GITLAB_TOKEN" in err


@pytest.mark.parametrize("text", ["g/p", "g/p!x", "p!1", "g/p!0"])
def test_bad_mr_argument(text, monkeypatch):
    monkeypatch.setenv("GITLAB_TOKEN", "t")
    code, _, err = _main("gitlab", "review", "--mr", text)
    assert code == 2 and "GROUP/PROJECT!IID" in err


def test_a_moved_target_branch_is_said(mr, monkeypatch):
    server, repo, base, head = mr
    monkeypatch.setenv("CI_MERGE_REQUEST_DIFF_BASE_SHA", "f" * 40)
    code, out, err = _main(
        "gitlab", "review", "--mr", f"{PROJECT}!7", "--backend", "none", "--fail-on", "never"
    )
    assert code == 0 and "is not the MR's latest version's" in err


@pytest.mark.parametrize("variable", ["REVIEWBOT_CACHE_DIR", "REVIEWBOT_MODEL_DIR"])
def test_a_cache_or_model_in_the_checkout_is_refused(mr, monkeypatch, variable):
    """The template once kept the cache in the checkout: a merge request that commits
    ``.reviewbot-cache/marker.key`` (and a converted model) would sign the bot's markers with its
    own key and be reviewed by its own model."""
    server, repo, base, head = mr
    planted = repo / ".reviewbot-cache"
    planted.mkdir()
    (planted / "marker.key").write_bytes(b"k" * 32)
    monkeypatch.chdir(repo)
    monkeypatch.setenv(variable, ".reviewbot-cache")
    argv = [
        "review",
        "--post",
        "--mr",
        f"{PROJECT}!7",
        "--checkout",
        ".",
        "--backend",
        "none",
        "--no-progress",
    ]
    code, out, err = _main("gitlab", *argv)
    assert code == 2 and err.count("\n") == 1, err
    assert "is inside the checkout under review" in err and variable in err
    assert server.threads(PROJECT, 7) == [] and server.statuses("POST") == []
