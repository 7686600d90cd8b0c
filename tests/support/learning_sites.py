"""One repository on each host's stand-in for the learning tests: merge (pull) requests 1-5 with the
same change, the bot's real command (`reviewbot github|gitlab review --post`) with the
OpenAI-compatible stand-in as the model (a scripted answer: one finding on the changed
comparison), and what people do on the bot's threads (👍/👎, resolving, pushing a fix)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from support.github_helpers import client as github_client
from support.github_standin import BOT, GitHubStandIn, react, resolve_as, set_permission
from support.gitlab_standin import GitLabStandIn, award, gitlab_files
from support.gitlab_standin import resolve_as as gitlab_resolve
from support.openai_standin import StandIn, review_answer

from reviewbot.hosts.github.host import GitHubHost
from reviewbot.hosts.gitlab.client import GitLabClient
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.hosts.markers import Signer
from reviewbot.platforms.cli import main

KEY = "k" * 64  # REVIEWBOT_MARKER_KEY: the same in every run, so earlier comments are the bot's
BASE = "b" * 40
CODE = "def f(n):\n    if n > 1:\n        return n\n"


def head(n: int) -> str:
    return f"{n:040x}"


def diff(line: str) -> bytes:
    return (
        "diff --git a/pkg/m.py b/pkg/m.py\n--- a/pkg/m.py\n+++ b/pkg/m.py\n"
        f"@@ -1,3 +1,3 @@\n def f(n):\n-    if n >= 1:\n+{line}\n         return n\n"
    ).encode()


COMMENT = {
    "row": 3,
    "severity": "warning",
    "category": "bug",
    "message": "The boundary moved: n == 1 is no longer taken.",
    "code": "if n > 1:",
    "suggestion": None,
    "confidence": 0.8,
}
one_finding = review_answer(COMMENT, reason="The rows show the change doing this.")
no_finding = review_answer()


def signer() -> Signer:
    return Signer(hashlib.sha256(KEY.encode()).digest())  # as installation_key makes it from KEY


class Site:
    """A host's stand-in, the model's, and the bot's command on them. ``ann`` may write, ``rita``
    may only read."""

    name = ""
    args: tuple[str, ...] = ()

    def __init__(self, llm: StandIn) -> None:
        self.llm = llm

    def review(self, n: int) -> None:
        out, err = io.StringIO(), io.StringIO()
        argv = [*self.args, self.target(n), "--post", "--backend", "openai", "--base-url", self.llm.url]
        code = main([*argv, "--no-progress", "--fail-on", "never"], out, err)
        assert code == 0, err.getvalue()

    def down_on_two(self, who: str) -> None:
        """The bot's comment on #1 and #2, each marked 👎 by ``who``."""
        for n in (1, 2):
            self.review(n)
            (c,) = self.inline(n)
            self.mark(n, c["id"], who, up=False)

    # each host's own
    def target(self, n: int) -> str: ...
    def inline(self, n: int) -> list[dict[str, Any]]: ...  # the bot's thread openers: id, body, resolved
    def summary(self, n: int) -> str: ...
    def mark(self, n: int, comment: int, who: str, *, up: bool) -> None: ...
    def resolve(self, n: int, comment: int, who: str) -> None: ...
    def push(self, n: int, line: str) -> None: ...
    def put(self, ref: str, path: str, text: str) -> None: ...
    def host(self) -> GitHubHost | GitLabHost: ...
    def signal_reads(self) -> int: ...  # requests that read signals so far


class GitHubSite(Site):
    name, repo = "github", "octo/lib"
    args = ("github", "review", "--pr")

    def __init__(self, llm: StandIn, gh: GitHubStandIn) -> None:
        super().__init__(llm)
        self.s = gh
        for n in range(1, 6):
            gh.add_pull(self.repo, n, base=BASE, head=head(n), diff=diff("    if n > 1:"))
        set_permission(gh, self.repo, "ann", "write")
        set_permission(gh, self.repo, "rita", "read")
        self.env = {"GITHUB_TOKEN": gh.token, "GITHUB_API_URL": gh.url}

    def target(self, n: int) -> str:
        return f"{self.repo}#{n}"

    def inline(self, n: int) -> list[dict[str, Any]]:
        return [c for c in self.s.comments_of(self.repo, n) if c["user"]["login"] == BOT]

    def summary(self, n: int) -> str:
        (body,) = [c["body"] for c in self.s.issue_comments if c["number"] == n and c["user"]["login"] == BOT]
        return body

    def mark(self, n: int, comment: int, who: str, *, up: bool) -> None:
        react(self.s, comment, who, "THUMBS_UP" if up else "THUMBS_DOWN")

    def resolve(self, n: int, comment: int, who: str) -> None:
        resolve_as(self.s, comment, who)

    def push(self, n: int, line: str) -> None:
        self.s.push(self.repo, n, head="c" * 40, diff=diff(line))

    def put(self, ref: str, path: str, text: str) -> None:
        self.s.contents[(self.repo, ref, path)] = text

    def host(self) -> GitHubHost:
        return GitHubHost(github_client(self.s), self.repo, signer=signer())

    def signal_reads(self) -> int:
        return self.s.__dict__.get("thread_reads", 0)


class GitLabSite(Site):
    name, repo = "gitlab", "group/app"
    args = ("gitlab", "review", "--mr")

    def __init__(self, llm: StandIn, gl: GitLabStandIn) -> None:
        super().__init__(llm)
        self.s = gl
        for n in range(1, 6):
            gl.add_mr(self.repo, n, base=BASE, head=head(n), files=gitlab_files(diff("    if n > 1:")))
            gl.files[(self.repo, head(n), "pkg/m.py")] = CODE
        gl.add_member(self.repo, "ann", 30)  # Developer
        gl.add_member(self.repo, "rita", 20)  # Reporter: no write access
        self.env = {"GITLAB_TOKEN": gl.token, "CI_API_V4_URL": gl.url}

    def target(self, n: int) -> str:
        return f"{self.repo}!{n}"

    def inline(self, n: int) -> list[dict[str, Any]]:
        return [t["notes"][0] for t in self.s.threads(self.repo, n)]

    def summary(self, n: int) -> str:
        (note,) = self.s.summaries(self.repo, n)
        return note["body"]

    def mark(self, n: int, comment: int, who: str, *, up: bool) -> None:
        award(self.s, self.repo, n, comment, who, "thumbsup" if up else "thumbsdown")

    def resolve(self, n: int, comment: int, who: str) -> None:
        gitlab_resolve(self.s, self.repo, n, comment, who)

    def push(self, n: int, line: str) -> None:
        self.s.add_version(self.repo, n, base=BASE, head="c" * 40, files=gitlab_files(diff(line)))

    def put(self, ref: str, path: str, text: str) -> None:
        self.s.files[(self.repo, ref, path)] = text

    def host(self) -> GitLabHost:
        return GitLabHost(GitLabClient(self.s.token, url=self.s.url), self.repo, signer=signer())

    def signal_reads(self) -> int:
        return sum(p.endswith(("/graphql", "/merge_requests", "/award_emoji")) for _, p, _ in self.s.log)
