"""The bot's signed threads on the GitHub and GitLab stand-ins, and the signal readers wired to
them over HTTP (the transport a host adapter gives the readers), for the learning tests and the
cost bench."""

from __future__ import annotations

import httpx

from reviewbot.hosts.github.render import comment_body
from reviewbot.hosts.gitlab.render import thread_body
from reviewbot.hosts.markers import Signer
from reviewbot.learning.github_signals import GitHubSignals
from reviewbot.learning.gitlab_signals import GitLabGraphQLSignals, GitLabSignals
from reviewbot.learning.marker import about_marker
from reviewbot.model import Finding, Location, Severity, Side

from .github_standin import BOT, GitHubStandIn
from .gitlab_standin import GitLabStandIn

SIGNER = Signer(b"k" * 32)
PATH = "pkg/core.py"
WRITE_ROLES = ("admin", "maintain", "write")


def github_diff(line: str) -> bytes:
    return (
        f"diff --git a/{PATH} b/{PATH}\n--- a/{PATH}\n+++ b/{PATH}\n"
        f"@@ -1,2 +1,2 @@\n def f(n):\n-    if n >= 1:\n+{line}\n"
    ).encode()


# one Python change: line 2 a comparison operator changed, line 4 a return value
PY_CHANGE = "\n".join(
    [
        "diff --git a/pkg/m.py b/pkg/m.py",
        "--- a/pkg/m.py",
        "+++ b/pkg/m.py",
        "@@ -1,4 +1,4 @@",
        " def f(n):",
        "-    if n >= 1:",
        "+    if n > 1:",
        "         return n",
        "-    return 0",
        "+    return None",
        "",
    ]
)
GITLAB_FILES = [
    {
        "old_path": PATH,
        "new_path": PATH,
        "diff": "@@ -1,2 +1,2 @@\n def f(n):\n-    if n >= 1:\n+    if n > 1:\n",
    }
]


def finding(message: str) -> Finding:
    return Finding(
        Location(PATH, Side.RIGHT, 2), Severity.WARNING, message, "review/bug", "review", confidence=0.3
    )


def github_comment(
    s: GitHubStandIn,
    repo: str,
    number: int,
    message: str,
    fact_kind: str = "comparison-operator",
    signer: Signer = SIGNER,
) -> int:
    f = finding(message)
    body = comment_body(f, f"{number:016x}", "1" * 16) + "\n" + about_marker(f.rule, fact_kind, f.confidence)
    s.add_review_comment(repo, number, signer.for_scope(f"{repo}#{number}").sign(body), BOT, PATH, 2)
    return s.review_comments[-1]["id"]


def gitlab_thread(s: GitLabStandIn, project: str, iid: int, message: str, signer: Signer = SIGNER) -> int:
    f = finding(message)
    body = (
        thread_body(f, f"{iid:016x}", "b" * 16)
        + "\n"
        + about_marker(f.rule, "comparison-operator", f.confidence)
    )
    mr = s.mrs[(project, iid)]
    position = {
        "position_type": "text",
        "new_path": PATH,
        "old_path": PATH,
        "new_line": 2,
        "head_sha": mr.versions[-1]["head_commit_sha"],
    }
    note = s._note(mr, signer.for_scope(f"{project}!{iid}").sign(body), position)
    mr.discussions.append({"id": f"d{note['id']}", "individual_note": False, "notes": [note]})
    return note["id"]


def github_reader(s: GitHubStandIn, repo: str, **kw) -> GitHubSignals:
    auth = {"Authorization": f"token {s.token}"}

    def post(query, variables):
        return httpx.post(
            f"{s.url}/graphql", json={"query": query, "variables": variables}, headers=auth
        ).json()

    def can_write(login):
        r = httpx.get(f"{s.url}/repos/{repo}/collaborators/{login}/permission", headers=auth)
        return r.status_code == 200 and r.json()["role_name"] in WRITE_ROLES

    def is_ours(body, number, author):
        return author == BOT.removesuffix("[bot]") and bool(
            SIGNER.for_scope(f"{repo}#{number}").findings(body)
        )

    return GitHubSignals(post, can_write, is_ours, **kw)


def _gitlab_can_write(s: GitLabStandIn):
    headers = {"PRIVATE-TOKEN": s.token}

    def can_write(username):
        users = httpx.get(s.url + "/users", params={"username": username}, headers=headers).json()
        if not users:
            return False
        r = httpx.get(f"{s.url}/projects/1/members/all/{users[0]['id']}", headers=headers)
        return r.status_code == 200 and r.json()["access_level"] >= 30  # Developer or above

    return can_write


def _gitlab_is_ours(s: GitLabStandIn, project: str):
    return lambda body, iid, author: (
        author == s.bot and bool(SIGNER.for_scope(f"{project}!{iid}").findings(body))
    )


def gitlab_graphql_reader(s: GitLabStandIn, project: str, **kw) -> GitLabGraphQLSignals:
    headers = {"PRIVATE-TOKEN": s.token}

    def post(query, variables):
        url = s.url.removesuffix("/v4") + "/graphql"
        return httpx.post(url, json={"query": query, "variables": variables}, headers=headers).json()

    return GitLabGraphQLSignals(
        post, _gitlab_can_write(s), _gitlab_is_ours(s, project), code_at=lambda _p: "if n > 1:", **kw
    )


def gitlab_reader(s: GitLabStandIn, project: str, **kw) -> GitLabSignals:
    headers = {"PRIVATE-TOKEN": s.token}

    def get(path, params):
        r = httpx.get(s.url + path, params=params, headers=headers)
        r.raise_for_status()
        return r.json(), "next" in r.links

    return GitLabSignals(
        get, _gitlab_can_write(s), _gitlab_is_ours(s, project), code_at=lambda _p: "if n > 1:", **kw
    )
