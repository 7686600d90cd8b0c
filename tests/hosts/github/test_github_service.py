"""GitHubServiceHost and GitHub App auth against the stand-in: permissions through the API, replies in
threads, open pull requests with their review state, installation tokens renewed before expiry."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from support.github_helpers import client
from support.github_standin import BOT, GitHubStandIn, close, install_app, set_permission

from reviewbot.diff import DiffIndex, anchor_all
from reviewbot.errors import PublishError, ReviewbotError
from reviewbot.hosts.github.host import GitHubHost
from reviewbot.hosts.github.service import GitHubServiceHost, Installations
from reviewbot.hosts.github.values import AppInstallation
from reviewbot.model import Finding, Location, Result, Severity, Side, Stats
from reviewbot.ports import OpenChange, Review, ServiceHost
from reviewbot.retry import RetryPolicy

REPO = "o/r"
BASE, HEAD, NEWER = "a" * 40, "b" * 40, "c" * 40
DIFF = (
    b"diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n"
    b"@@ -1,2 +1,3 @@\n import os\n+import json\n x = 1\n"
)


def _service(server: GitHubStandIn) -> GitHubServiceHost:
    return GitHubServiceHost(GitHubHost(client(server), REPO))


def _key() -> tuple[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode(), key.public_key()


def test_write_access_comes_from_the_collaborator_permission() -> None:
    with GitHubStandIn() as server:
        for user, role in [
            ("ad", "admin"),
            ("ma", "maintain"),
            ("wr", "write"),
            ("tr", "triage"),
            ("re", "read"),
        ]:
            set_permission(server, REPO, user, role)
        host: ServiceHost = _service(server)
        assert {u: host.can_write(u) for u in ("ad", "ma", "wr", "tr", "re", "stranger")} == {
            "ad": True,
            "ma": True,
            "wr": True,
            "tr": False,
            "re": False,
            "stranger": False,
        }
        asked = [p for m, p, _ in server.log if p.endswith("/permission")]
        assert len(asked) == 6 and server.statuses("GET", "stranger/permission") == [404]


def test_a_reply_lands_in_the_review_comment_thread() -> None:
    with GitHubStandIn() as server:
        server.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        server.add_review_comment(REPO, 1, "/ask why json?", "alice", "app.py", 2)
        top = server.review_comments[-1]["id"]
        host = _service(server)
        host.reply(1, str(top), "because")
        reply = server.review_comments[-1]
        assert (reply["in_reply_to_id"], reply["body"], reply["user"]["login"]) == (top, "because", BOT)
        assert (reply["path"], reply["line"]) == ("app.py", 2) and not server.issue_comments
        host.reply(1, None, "on the PR")  # no thread: a PR comment
        assert [c["body"] for c in server.issue_comments] == ["on the PR"]
        with pytest.raises(PublishError, match="422"):
            host.reply(1, "999999", "lost")  # GitHub: 422 for a comment that is not there


def test_a_reply_that_landed_before_a_502_is_not_posted_twice() -> None:
    with GitHubStandIn() as server:
        server.add_pull(REPO, 1, base=BASE, head=HEAD, diff=DIFF)
        server.add_review_comment(REPO, 1, "/test", "alice", "app.py", 2)
        top = server.review_comments[-1]["id"]
        server.fail("POST", r"/replies$", "502-after")
        GitHubServiceHost(
            GitHubHost(
                client(server),
                REPO,
            )
        ).reply(1, str(top), "ran")
        assert [c["body"] for c in server.review_comments].count("ran") == 1


def test_open_changes_say_which_heads_the_bot_reviewed() -> None:
    with GitHubStandIn() as server:
        for n in (1, 2, 3):
            server.add_pull(REPO, n, base=BASE, head=HEAD, diff=DIFF)
        close(server, REPO, 3)
        gh = GitHubHost(client(server), REPO)
        change = gh.fetch(1)
        f = Finding(Location("app.py", Side.RIGHT, 2), Severity.WARNING, "unused", "model/bug", "review")
        a, u = anchor_all([f], DiffIndex(change.changeset.files))
        gh.post(change, Review(Result(change.changeset, a, u, (), Stats())), gh.prior(change))
        host = GitHubServiceHost(GitHubHost(client(server), REPO))
        assert host.open_changes() == [OpenChange(1, HEAD, True), OpenChange(2, HEAD, False)]
        server.push(REPO, 1, head=NEWER, diff=DIFF)
        assert host.open_changes()[0] == OpenChange(1, NEWER, False)


# ------------------------------------------------------------------------------------ App auth


def _installations(server: GitHubStandIn, pem: str, app_id: int = 7) -> Installations:
    policy = RetryPolicy(attempts=2, budget_s=5)
    key = SecretStr(pem)  # as config gives it; the service hands the App its value
    return Installations(
        app_id,
        key.get_secret_value(),
        base_url=server.url,
        policy=policy,
        sleep=lambda s: None,
        seconds_between_writes=0,
    )


def test_an_app_installation_token_is_made_from_a_signed_jwt_and_cached() -> None:
    pem, public = _key()
    with GitHubStandIn(token="no-personal-token") as server:
        app = install_app(server, 7, public, {42})
        set_permission(server, REPO, "wr", "write")
        apps = _installations(server, pem)
        gh = apps.client(42)
        assert apps.client(42) is gh  # one client per installation
        assert gh.permission(REPO, "wr") == "write" and gh.permission(REPO, "re") is None
        assert server.statuses("POST", "access_tokens") == [201]  # one token for both requests
        (claims,) = app.jwts
        now = time.time()
        assert claims["iss"] in (7, "7") and now - 70 <= claims["iat"] <= now - 50
        assert claims["exp"] - claims["iat"] <= 600
        assert pem not in repr(apps) and pem not in repr(AppInstallation(7, 42, pem))


def test_the_installation_token_is_renewed_before_it_expires() -> None:
    pem, public = _key()
    with GitHubStandIn(token="no-personal-token") as server:
        # valid 15 s more at GitHub: inside PyGithub's renewal margin, so each request gets a fresh one
        app = install_app(server, 7, public, {42}, token_ttl=15)
        set_permission(server, REPO, "wr", "write")
        gh = _installations(server, pem).client(42)
        assert gh.permission(REPO, "wr") == "write" and gh.permission(REPO, "wr") == "write"
        assert server.statuses("POST", "access_tokens") == [201, 201] and len(app.tokens) == 2
        assert 401 not in server.statuses()  # never sent an expired token


def test_a_jwt_signed_with_another_key_is_refused() -> None:
    pem, _ = _key()
    _, public = _key()
    with GitHubStandIn(token="no-personal-token") as server:
        install_app(server, 7, public, {42})
        with pytest.raises(ReviewbotError, match="401"):
            _installations(server, pem).client(42).permission(REPO, "wr")
        assert server.statuses("POST", "access_tokens") == [401] and server.statuses("GET") == []
