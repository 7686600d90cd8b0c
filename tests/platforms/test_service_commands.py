"""`reviewbot serve`, `worker` and `jobs`: fail closed without a secret, no web library loaded by the
other commands, a worker running stored jobs through the existing runners (the GitHub stand-in)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.github_standin import GitHubStandIn, set_permission
from support.service_cluster import diff_for

from reviewbot.platforms.cli import main
from reviewbot.service.sqlite_jobs import SqliteJobStore

ROOT = Path(__file__).resolve().parents[2]
REPO = "o/r"
HEAD = "ab" * 20


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_help_and_review_load_no_web_library() -> None:
    code = f"""
import io, sys
from reviewbot.platforms.cli import main
try:
    main(["--help"], stdout=io.StringIO())
except SystemExit:
    pass
main(["review", "--diff", {str(ROOT / "examples" / "sample.diff")!r}, "--backend", "none", "--no-progress",
      "--fail-on", "never"], stdout=io.StringIO())
web = ("starlette", "fastapi", "uvicorn", "redis", "prometheus_client")
print(sorted(m for m in sys.modules if m.split(".")[0] in web))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_no_webhook_secret_refuses_to_start(monkeypatch) -> None:
    for name in ("REVIEWBOT_GITHUB_WEBHOOK_SECRET", "REVIEWBOT_GITLAB_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = _main("serve", "--no-progress")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("reviewbot: no webhook secret")


@pytest.fixture()
def github(monkeypatch, tmp_path):
    with GitHubStandIn() as gh:
        gh.add_pull(REPO, 1, base="b" * 40, head=HEAD, diff=diff_for(1, HEAD))
        for k, v in {
            "GITHUB_TOKEN": gh.token,
            "GITHUB_API_URL": gh.url,
            "REVIEWBOT_BACKEND": "none",
            "REVIEWBOT_GITHUB_WEBHOOK_SECRET": "s",
            "REVIEWBOT_CACHE_DIR": str(tmp_path / "cache"),
            "REVIEWBOT_SERVICE_STORE": f"sqlite:///{tmp_path}/jobs.sqlite3",
        }.items():
            monkeypatch.setenv(k, v)
        monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        yield gh, SqliteJobStore(str(tmp_path / "jobs.sqlite3"))


def _command(store: SqliteJobStore, delivery: str, user: str, body: str, thread: str | None = None) -> None:
    from reviewbot.service.commands import parse

    cmd = parse(body)
    assert cmd is not None
    arg = json.dumps({"name": cmd.name, "arg": cmd.arg, "user": user, "thread": thread}, sort_keys=True)
    store.enqueue(delivery, "github", REPO, 1, "", "command", arg)


def test_a_worker_reviews_a_stored_job_once_and_jobs_lists_it(github) -> None:
    gh, store = github
    store.enqueue("d1", "github", REPO, 1, HEAD)
    assert _main("worker", "--once", "--no-progress")[0] == 0
    assert [r["head_sha"] for r in gh.check_runs] == [HEAD]
    store.db.execute("UPDATE jobs SET state='queued'")  # as after a worker died having posted
    assert _main("worker", "--once", "--no-progress")[0] == 0
    assert len(gh.check_runs) == 1  # the summary names the head: not posted again
    code, out, _ = _main("jobs", "--format", "json", "--state", "done", "--no-progress")
    assert code == 0 and [(j["repo"], j["number"], j["state"]) for j in json.loads(out)] == [
        (REPO, 1, "done")
    ]


def test_a_failing_job_is_retried_then_listed_as_failed(github, tmp_path) -> None:
    _, store = github
    store.enqueue("d9", "github", REPO, 99, "c" * 40)  # no such PR: the stand-in answers 404
    cfg = tmp_path / "service.yml"
    cfg.write_text("service:\n  max_attempts: 2\n  backoff: 0\n")
    assert _main("worker", "--once", "--no-progress", "--config", str(cfg))[0] == 0
    [job] = store.jobs()
    assert (job.state, job.attempts) == ("failed", 2) and job.error
    code, out, _ = _main("jobs", "--no-progress", "--config", str(cfg))
    assert code == 0 and "failed" in out and f"{REPO}#99" in out


def test_commands_run_only_for_writers_and_answer_in_the_thread(github) -> None:
    gh, store = github
    set_permission(gh, REPO, "writer", "write")
    set_permission(gh, REPO, "reader", "read")
    _command(store, "c1", "reader", "/ask what does f1 do?")
    _command(store, "c2", "stranger", "/test")
    assert _main("worker", "--once", "--no-progress")[0] == 0
    assert gh.issue_comments == [] and gh.check_runs == []  # ignored, never executed
    _command(store, "c3", "writer", "/ask what does f1 do?")
    assert _main("worker", "--once", "--no-progress")[0] == 0
    [reply] = gh.issue_comments
    assert reply["body"].startswith("**reviewbot** `/ask`") and "what does f1 do?" in reply["body"]
    assert {j.state for j in store.jobs()} == {"done"}


def test_a_worker_reviews_a_gitlab_job_reading_the_diffs_once(monkeypatch, tmp_path) -> None:
    from support.gitlab_standin import GitLabStandIn, gitlab_files

    diff = (
        b"diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,3 @@\n a = 1\n-b = 2\n+b = 3\n+c = d\n"
    )
    with GitLabStandIn() as gl:
        gl.add_mr("g/p", 7, base="a" * 40, head=HEAD, files=gitlab_files(diff))
        for k, v in {
            "GITLAB_TOKEN": gl.token,
            "REVIEWBOT_GITLAB_URL": gl.url,
            "REVIEWBOT_BACKEND": "none",
            "REVIEWBOT_SERVICE_STORE": f"sqlite:///{tmp_path}/jobs.sqlite3",
        }.items():
            monkeypatch.setenv(k, v)
        store = SqliteJobStore(str(tmp_path / "jobs.sqlite3"))
        store.enqueue("g1", "gitlab", "g/p", 7, HEAD)
        assert _main("worker", "--once", "--no-progress")[0] == 0
        [job] = store.jobs()
        assert job.state == "done", job.error
        assert [
            n["body"] for n in gl.mrs[("g/p", 7)].notes if HEAD[:7] in n["body"]
        ]  # the summary names the head
        assert len(gl.statuses("GET", r"/versions/\d+$")) == 1  # the version's diffs: read once per job


def test_describe_answers_a_writer_with_the_walkthrough(github) -> None:
    gh, store = github
    diff = (
        b"diff --git a/f2.py b/f2.py\n--- a/f2.py\n+++ b/f2.py\n@@ -10,3 +10,6 @@ class Cart:\n"
        b"     def total(self):\n         return 1\n \n+    def tax(self, rate=0.2):\n+        return 2\n+\n"
    )
    gh.add_pull(REPO, 2, base="b" * 40, head="cd" * 20, diff=diff)
    set_permission(gh, REPO, "writer", "write")
    for delivery, user in (("d1", "reader"), ("d2", "writer")):
        arg = json.dumps({"name": "describe", "arg": "", "user": user, "thread": None}, sort_keys=True)
        store.enqueue(delivery, "github", REPO, 2, "", "command", arg)
    assert _main("worker", "--once", "--no-progress")[0] == 0
    [reply] = gh.issue_comments  # the reader's was ignored
    body = reply["body"]
    assert body.startswith("**reviewbot** `/describe` (asked by @\u200bwriter)\n\n### Walkthrough")
    assert "`f2.py` (code, +3 −0): adds method `Cart.tax`" in body
    assert gh.check_runs == [] and gh.reviews == []  # no review ran
