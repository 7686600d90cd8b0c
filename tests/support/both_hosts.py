"""One change posted on both hosts: the same diff served by the GitHub and the GitLab stand-ins,
reviewed, posted through each host's ``post``, and every body each stand-in received read back
(GitHub: the review, its inline comments, the summary comment, the check run's summary; GitLab:
every note, threads and the summary note), and apart from them the check run's annotations (plain
text fields, not Markdown comments)."""

from __future__ import annotations

from collections.abc import Callable

from support import github_helpers, gitlab_helpers
from support.github_standin import GitHubStandIn
from support.gitlab_standin import GitLabStandIn, gitlab_files

from reviewbot.hosts.github.host import GitHubHost
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.model import ChangeSet, Result
from reviewbot.ports import Review

BASE, HEAD = "a" * 40, "b" * 40
Reviewer = Callable[[ChangeSet], Result]


def github_bodies(diff: bytes, review: Reviewer) -> tuple[list[str], list[str]]:
    with GitHubStandIn() as s:
        s.add_pull("o/r", 1, base=BASE, head=HEAD, diff=diff)
        host = GitHubHost(github_helpers.client(s), "o/r")
        change = host.fetch(1)
        host.post(change, Review(review(change.changeset)), host.prior(change))
        bodies = [r["body"] for r in s.reviews] + [c["body"] for c in s.review_comments]
        bodies += [c["body"] for c in s.issue_comments] + [r["output"]["summary"] for r in s.check_runs]
        fields = ("message", "title", "raw_details")
        annotations = [a.get(k, "") for r in s.check_runs for a in r["annotations"] for k in fields]
        return bodies, annotations


def gitlab_bodies(diff: bytes, review: Reviewer) -> list[str]:
    with GitLabStandIn() as s:
        s.add_mr("g/p", 1, base=BASE, head=HEAD, files=gitlab_files(diff))
        host = GitLabHost(gitlab_helpers.client(s), "g/p")
        change = host.fetch(1)
        host.post(change, Review(review(change.changeset)), host.prior(change))
        mr = s.mrs[("g/p", 1)]
        return [n["body"] for n in mr.notes] + [d["note"] for d in mr.drafts]


def both_hosts(diff: bytes, review: Reviewer) -> dict[str, list[str]]:
    """Every body each host's stand-in received for ``review`` of ``diff`` ("github", "gitlab"),
    and GitHub's annotation fields ("annotations")."""
    github, annotations = github_bodies(diff, review)
    return {"github": github, "gitlab": gitlab_bodies(diff, review), "annotations": annotations}
