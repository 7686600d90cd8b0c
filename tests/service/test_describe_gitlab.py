"""`/describe` on a GitLab merge request, through the worker and the GitLab stand-in: a member with
write access (Developer or above) gets the walkthrough in the thread of the comment that asked; a
Reporter's and a stranger's are ignored, and no review runs."""

from __future__ import annotations

import io
import json

import pytest
from support.gitlab_standin import GitLabStandIn, gitlab_files

from reviewbot.platforms.cli import main
from reviewbot.service.sqlite_jobs import SqliteJobStore

PROJECT = "g/p"
HEAD = "cd" * 20
DIFF = (
    b"diff --git a/shop/cart.py b/shop/cart.py\n--- a/shop/cart.py\n+++ b/shop/cart.py\n"
    b"@@ -10,3 +10,6 @@ class Cart:\n     def total(self):\n         return 1\n \n"
    b"+    def tax(self, rate=0.2):\n+        return 2\n+\n"
)


def _worker_once() -> int:
    return main(["worker", "--once", "--no-progress"], stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture()
def gitlab(monkeypatch, tmp_path):
    with GitLabStandIn() as gl:
        gl.add_mr(PROJECT, 7, base="a" * 40, head=HEAD, files=gitlab_files(DIFF))
        gl.add_member(PROJECT, "dev", 30)
        gl.add_member(PROJECT, "reporter", 20)
        env = {
            "GITLAB_TOKEN": gl.token,
            "REVIEWBOT_GITLAB_URL": gl.url,
            "REVIEWBOT_BACKEND": "none",
            "REVIEWBOT_GITLAB_WEBHOOK_SECRET": "s",
            "REVIEWBOT_CACHE_DIR": str(tmp_path / "cache"),
            "REVIEWBOT_SERVICE_STORE": f"sqlite:///{tmp_path}/jobs.sqlite3",
        }
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        yield gl, SqliteJobStore(str(tmp_path / "jobs.sqlite3"))


def _asked(gl: GitLabStandIn, user: str) -> str:
    """The discussion that a user's `/describe` comment opened on the merge request (its id)."""
    mr = gl.mrs[(PROJECT, 7)]
    gl._next += 1
    note = {"id": gl._next, "body": "/describe", "author": {"username": user}, "system": False}
    mr.notes.append(note)
    mr.discussions.append({"id": f"d{note['id']}", "individual_note": False, "notes": [note]})
    return f"d{note['id']}"


def test_describe_answers_a_developer_in_the_thread_with_the_walkthrough(gitlab) -> None:
    gl, store = gitlab
    threads = {}
    for delivery, user in (("g1", "reporter"), ("g2", "stranger"), ("g3", "dev")):
        threads[user] = _asked(gl, user)
        arg = json.dumps(
            {"name": "describe", "arg": "", "user": user, "thread": threads[user]}, sort_keys=True
        )
        store.enqueue(delivery, "gitlab", PROJECT, 7, "", "command", arg)
    assert _worker_once() == 0
    assert {j.state for j in store.jobs()} == {"done"}
    replies = {
        d["id"]: [n["body"] for n in d["notes"][1:]]
        for d in gl.mrs[(PROJECT, 7)].discussions
        if len(d["notes"]) > 1
    }
    assert list(replies) == [threads["dev"]]  # the Reporter's and the stranger's were ignored
    [body] = replies[threads["dev"]]
    assert body.startswith("**reviewbot** `/describe` (asked by @\u200bdev)\n\n### Walkthrough")
    assert "`shop/cart.py` (code, +3 −0): adds method `Cart.tax`" in body
    assert gl.summaries(PROJECT, 7) == [] and gl.threads(PROJECT, 7) == []  # no review ran, nothing posted
    assert gl.statuses("POST", r"/discussions/d\d+/notes$") == [201]  # one reply, accepted
