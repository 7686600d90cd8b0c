"""The service's worker process reads a repository's signals once for several reviews in a row (its
``SignalCache``, in its memory only): two review jobs of one repository, one read of the host's
threads; a new worker process reads afresh."""

from __future__ import annotations

import hashlib
import io

import pytest

from reviewbot.hosts.markers import Signer
from reviewbot.platforms.cli import main
from reviewbot.service.sqlite_jobs import SqliteJobStore
from tests.support.github_standin import GitHubStandIn, react, set_permission
from tests.support.gitlab_standin import GitLabStandIn, award
from tests.support.learning_threads import GITLAB_FILES, github_comment, github_diff, gitlab_thread

REPO = "o/r"
KEY = "the service's marker key"
SIGNER = Signer(hashlib.sha256(KEY.encode()).digest())


def _worker_once() -> int:
    return main(["worker", "--once", "--no-progress"], stdout=io.StringIO(), stderr=io.StringIO())


def _env(monkeypatch, tmp_path, **env: str) -> SqliteJobStore:
    env |= {
        "REVIEWBOT_BACKEND": "none",
        "REVIEWBOT_MARKER_KEY": KEY,
        "REVIEWBOT_CACHE_DIR": str(tmp_path / "cache"),
        "REVIEWBOT_SERVICE_STORE": f"sqlite:///{tmp_path}/jobs.sqlite3",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_EVENT_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "REVIEWBOT_BOT_LOGIN"):
        monkeypatch.delenv(name, raising=False)
    return SqliteJobStore(str(tmp_path / "jobs.sqlite3"))


def test_two_reviews_of_a_github_repository_read_its_signals_once(monkeypatch, tmp_path) -> None:
    with GitHubStandIn() as gh:
        heads = {n: f"{n:040x}" for n in range(1, 6)}
        for n, head in heads.items():
            gh.add_pull(REPO, n, base="b" * 40, head=head, diff=github_diff("    if n > 1:"))
        for n in (1, 2, 3):  # the history: the bot's comments, each 👎 by a writer
            react(gh, github_comment(gh, REPO, n, f"Comparison {n}.", signer=SIGNER), "ann", "THUMBS_DOWN")
        set_permission(gh, REPO, "ann", "write")
        store = _env(monkeypatch, tmp_path, GITHUB_TOKEN=gh.token, GITHUB_API_URL=gh.url)
        store.enqueue("d4", "github", REPO, 4, heads[4])
        store.enqueue("d5", "github", REPO, 5, heads[5])
        assert _worker_once() == 0
        assert {(j.number, j.state, j.error) for j in store.jobs()} == {(4, "done", ""), (5, "done", "")}
        assert gh.thread_reads == 1  # one GraphQL query (5 pull requests fit one page) for both reviews
        summaries = [c["body"] for c in gh.issue_comments]
        assert len(summaries) == 2 and ["as this worker read them" in b for b in summaries] == [False, True]
        assert len([p for _, p, _ in gh.log if p.endswith("/ann/permission")]) == 1  # asked once
        store.enqueue("d5b", "github", REPO, 5, heads[5], "command", '{"name": "review", "user": "ann"}')
        assert _worker_once() == 0  # another worker process: its own cache, read afresh
        assert gh.thread_reads == 2


def test_two_reviews_of_a_gitlab_project_read_its_threads_once(monkeypatch, tmp_path) -> None:
    project = "team/lib"
    with GitLabStandIn() as gl:
        for iid in range(1, 6):
            gl.add_mr(project, iid, base="b" * 40, head=f"{iid:040x}", files=GITLAB_FILES)
        gl.add_member(project, "dev", 30)
        for iid in (1, 2, 3):
            award(
                gl,
                project,
                iid,
                gitlab_thread(gl, project, iid, f"Comparison {iid}.", SIGNER),
                "dev",
                "thumbsdown",
            )
        store = _env(monkeypatch, tmp_path, GITLAB_TOKEN=gl.token, REVIEWBOT_GITLAB_URL=gl.url)
        store.enqueue("g4", "gitlab", project, 4, f"{4:040x}")
        store.enqueue("g5", "gitlab", project, 5, f"{5:040x}")
        assert _worker_once() == 0
        assert {(j.number, j.state, j.error) for j in store.jobs()} == {(4, "done", ""), (5, "done", "")}
        assert gl.statuses("POST", r"/api/graphql$") == [200]  # one query (5 merge requests) for both


@pytest.mark.parametrize("workers", [1, 3])
def test_one_cache_for_the_workers_of_a_process(workers: int) -> None:
    import threading
    import time

    from reviewbot.learning.cache import SignalCache

    cache, reads, started = SignalCache(), [], threading.Barrier(workers)

    def read():
        reads.append(1)
        time.sleep(0.05)  # a read takes a while: the other workers ask meanwhile
        return []

    def work():
        started.wait()
        cache.signals("github:o/r", read)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reads) == 1
