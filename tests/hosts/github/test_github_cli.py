"""`reviewbot github review|publish` end to end: a real git checkout, ruff's findings, the stand-in as
GitHub."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from support.github_helpers import git_diff
from support.github_standin import GitHubStandIn

from reviewbot.platforms.cli import main

REPO = "o/r"


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture()
def pr(tmp_path):
    repo = tmp_path / "checkout"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def f(x):\n    return x\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text(
        "import os\nimport subprocess\n\n\ndef f(x):\n    return subprocess.call(x, shell=True)\n"
    )
    _git(repo, "commit", "-qam", "head")
    head = _git(repo, "rev-parse", "HEAD")
    with GitHubStandIn() as server:
        server.add_pull(REPO, 3, base=base, head=head, diff=git_diff(repo, base, head), head_repo="fork/r")
        yield server, repo, base, head


def _writes(server) -> list[int]:
    """POSTs but GraphQL queries (the team's signals are read with one); no thread was resolved."""
    assert not any(c.get("resolved") for c in server.review_comments)
    return server.statuses("POST", r"^(?!/graphql$)")


def _env(monkeypatch, server, tmp_path, event: dict | None = None):
    monkeypatch.setenv("GITHUB_TOKEN", server.token)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step-summary.md"))
    if event is not None:
        (tmp_path / "event.json").write_text(json.dumps(event))
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_review_and_post_from_the_actions_event(pr, monkeypatch, tmp_path) -> None:
    server, repo, _, head = pr
    event = {"repository": {"full_name": REPO}, "pull_request": {"number": 3, "head": {"sha": head}}}
    _env(monkeypatch, server, tmp_path, event)
    code, out, err = _main(
        "github",
        "review",
        "--post",
        "--backend",
        "none",
        "--checkout",
        str(repo),
        "--no-progress",
        "--fail-on",
        "error",
    )
    assert "review" in out and err == ""
    assert code == 1  # bandit's shell=True is an error: the check fails too
    assert len(server.reviews) == 1 and server.rejections == []
    rules = {c["body"].split("`")[1] for c in server.review_comments}
    assert "bandit/B602" in rules and "ruff/F401" not in rules  # an unused import is style: listed only
    assert "ruff/F401" in server.reviews[0]["body"]
    assert server.check_runs[0]["conclusion"] == "failure"
    assert "reviewbot" in (tmp_path / "step-summary.md").read_text()


def test_dry_run_prints_the_review_and_writes_nothing(pr, monkeypatch, tmp_path) -> None:
    server, repo, _, head = pr
    _env(monkeypatch, server, tmp_path)
    code, out, _ = _main(
        "github",
        "review",
        "--pr",
        f"{REPO}#3",
        "--backend",
        "none",
        "--checkout",
        str(repo),
        "--no-progress",
        "--fail-on",
        "never",
    )
    payload = json.loads(out)
    assert (
        code == 0 and payload["event"] == "COMMENT" and payload["commit_id"] == head and payload["comments"]
    )
    assert all("position" not in c for c in payload["comments"])
    assert _writes(server) == [] and server.statuses("PATCH") == []
    assert server.statuses("POST", r"^/graphql$") == [200]  # the one query reading the team's signals


def test_annotate_prints_workflow_commands(pr, monkeypatch, tmp_path) -> None:
    server, repo, _, _ = pr
    _env(monkeypatch, server, tmp_path)
    code, out, _ = _main(
        "github",
        "review",
        "--pr",
        f"{REPO}#3",
        "--backend",
        "none",
        "--checkout",
        str(repo),
        "--no-progress",
        "--fail-on",
        "never",
        "--annotate",
    )
    lines = out.splitlines()
    assert code == 0 and lines and all(x.startswith(("::error ", "::warning ", "::notice ")) for x in lines)
    assert any("title=ruff/F401::" in x for x in lines) and _writes(server) == []


def test_errors_are_one_line(pr, monkeypatch, tmp_path) -> None:
    server, *_ = pr
    _env(monkeypatch, server, tmp_path)
    code, _, err = _main("github", "review", "--pr", "nonsense", "--backend", "none")
    assert code == 2 and err.count("\n") == 1 and "OWNER/REPO#NUMBER" in err
    code, _, err = _main("github", "review", "--pr", f"{REPO}#99", "--backend", "none", "--no-progress")
    assert code == 4 and err.count("\n") == 1 and "HTTP 404" in err
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = _main("github", "review", "--pr", f"{REPO}#3", "--backend", "none")
    assert code == 2 and "GITHUB_TOKEN" in err


def test_fork_artifact_then_trusted_publish(pr, monkeypatch, tmp_path) -> None:
    server, repo, _, head = pr
    _env(monkeypatch, server, tmp_path)
    artifact = tmp_path / "findings.json"
    sarif = tmp_path / "review.sarif"
    code, _, _ = _main(
        "github",
        "review",
        "--pr",
        f"{REPO}#3",
        "--backend",
        "none",
        "--checkout",
        str(repo),
        "--no-progress",
        "--no-check-run",
        "--findings-out",
        str(artifact),
        "--fail-on",
        "never",
        "--sarif-out",
        str(sarif),
    )
    assert code == 0 and _writes(server) == []  # the unprivileged job posts nothing
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert "ruff/F401" in {r["ruleId"] for r in results}
    doc = json.loads(artifact.read_text())
    # the fork tampers with its artifact: a line outside the diff, a forged marker, another head
    doc["report"]["findings"].append(
        {
            **doc["report"]["findings"][0],
            "line": 4000,
            "start_line": None,
            "message": "x <!-- reviewbot:summary --> @org/team",
        }
    )
    artifact.write_text(json.dumps(doc))
    event = {"repository": {"full_name": REPO}, "workflow_run": {"head_sha": head, "pull_requests": []}}
    _env(monkeypatch, server, tmp_path, event)
    code, out, err = _main("github", "publish", "--findings", str(artifact), "--fail-on", "never")
    assert code == 0, err
    assert server.rejections == [] and len(server.reviews) == 1
    body = server.reviews[0]["body"]
    assert "outside any hunk" in body and "&lt;!-- reviewbot:summary" in body and "@\u200borg" in body
    assert all(c["line"] != 4000 for c in server.review_comments)

    # an artifact for a head the trusted event did not review is refused
    code, _, err = _main("github", "publish", "--findings", str(artifact), "--head-sha", "f" * 40)
    assert code == 7 and "refusing to post" in err and len(server.reviews) == 1


def test_the_token_never_reaches_the_model(pr, monkeypatch, tmp_path) -> None:
    from reviewbot import config, pipeline
    from reviewbot.backends.fake import FakeBackend
    from reviewbot.platforms.github import Target, client, review_pull
    from reviewbot.routes.review import ReviewRoute

    server, repo, _, head = pr
    settings = config.load({}, {"GITHUB_TOKEN": server.token, "GITHUB_API_URL": server.url}, None)
    assert server.token not in repr(settings) and server.token not in str(settings.hosts.github.token)
    fake = FakeBackend(texts=lambda m, s: '{"comments": []}')
    parts = pipeline.Parts(backend=fake, route=ReviewRoute(fake))
    review_pull(
        settings,
        client(settings),
        Target(REPO, 3, head),
        lambda cs, s: pipeline.run(cs, parts),
        checkout=repo,
        post=False,
    )
    assert fake.calls, "the model was asked"
    assert server.token not in json.dumps([c[1] for c in fake.calls], default=str)


def test_a_pr_that_switches_its_own_review_off_is_reviewed_with_the_base_configuration(
    tmp_path, monkeypatch
) -> None:
    """Issue 11 item 3 / issue 14 hole 1: the PR's head sets `plan.exclude: ["*"]` and `lint.linters: []`
    in `.reviewbot.yml`; the base's file (read through the API at the base commit) is what counts."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def f(x):\n    return x\n")
    (repo / ".reviewbot.yml").write_text("fail_on: warning\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "app.py").write_text(
        "import os\nimport subprocess\n\n\ndef f(x):\n    return subprocess.call(x, shell=True)\n"
    )
    (repo / ".reviewbot.yml").write_text('plan:\n  exclude: ["*"]\nlint:\n  linters: []\nfail_on: never\n')
    _git(repo, "commit", "-qam", "head: switch the review off")
    head = _git(repo, "rev-parse", "HEAD")
    with GitHubStandIn() as server:
        server.add_pull(REPO, 3, base=base, head=head, diff=git_diff(repo, base, head), head_repo="fork/r")
        server.contents[(REPO, base, ".reviewbot.yml")] = "fail_on: warning\n"
        server.contents[(REPO, head, ".reviewbot.yml")] = (repo / ".reviewbot.yml").read_text()
        _env(monkeypatch, server, tmp_path)
        code, out, _ = _main(
            "github",
            "review",
            "--pr",
            f"{REPO}#3",
            "--backend",
            "none",
            "--checkout",
            str(repo),
            "--no-progress",
            "--findings-out",
            str(tmp_path / "f.json"),
        )
    payload = json.loads(out)
    assert any(c["path"] == "app.py" for c in payload["comments"]), "the linters ran on app.py"
    notes = json.loads((tmp_path / "f.json").read_text())["report"]["notes"]
    assert f"configuration: {base[:7]}:.reviewbot.yml (the pull request's base)" in notes
    assert code == 1  # the base's fail_on: warning, not the head's never
