"""The GitHub runs behind ``reviewbot github review`` and ``reviewbot github publish`` (docs/github.md).

- ``review``: load the PR (API diff, git on 406), find what the bot said before, review only what
  changed since the last reviewed head (incremental), then post (``--post``), or print the review
  it would post (dry run), or write the findings as an artifact for a trusted job (forks).
- ``publish``: the trusted half of the fork pattern. It reads an artifact written by an unprivileged
  job as untrusted data: the PR's head must equal the head the trusted event names, every finding
  is re-anchored on the diff fetched here, and bodies, markers and fingerprints are rebuilt.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import RepoConfig, Settings
from ..errors import InputError, PublishError, UsageError
from ..hosts.github.client import GitHubClient, RetryPolicy
from ..hosts.github.host import GitHubHost, Options
from ..hosts.github.review import dumps
from ..model import ChangeSet, Result, Stats
from ..ports import Review, ServiceHost
from ..reporters import jsonout
from ..reporters.artifact import reanchor, untrusted_findings
from .flow import Outcome, base_config, learning_of, review_change
from .shared import marker_signer

__all__ = [
    "Connection",
    "Outcome",
    "Target",
    "client",
    "dumps",
    "event_target",
    "host",
    "parse_target",
    "publish_artifact",
    "review_pull",
]


@dataclass(frozen=True, slots=True)
class Target:
    repo: str
    number: int | None
    head: str | None = None  # the head the (trusted) event names


def parse_target(text: str) -> Target:
    """``OWNER/REPO#N``."""
    repo, sep, num = text.partition("#")
    if not sep or repo.count("/") != 1 or not all(repo.split("/")) or not num.isdigit() or int(num) < 1:
        raise UsageError(f"--pr wants OWNER/REPO#NUMBER, got {text!r}")
    return Target(repo, int(num))


def event_target(path: Path | None) -> Target:
    """The PR of a pull_request(_target) event, or the run of a workflow_run event ($GITHUB_EVENT_PATH)."""
    if path is None:
        raise UsageError(
            "no pull request: pass --pr OWNER/REPO#N, or run in GitHub Actions ($GITHUB_EVENT_PATH)"
        )
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the GitHub event ({exc})"[:300]) from exc
    repo = ((event.get("repository") or {}).get("full_name")) if isinstance(event, dict) else None
    if not repo:
        raise InputError(f"{path}: the event names no repository")
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return Target(repo, pr["number"], ((pr.get("head") or {}).get("sha")))
    run = event.get("workflow_run")
    if isinstance(run, dict) and run.get("head_sha"):
        prs = run.get("pull_requests") or []  # empty for PRs from forks
        number = prs[0].get("number") if prs and isinstance(prs[0], dict) else None
        return Target(repo, number, run["head_sha"])
    raise InputError(f"{path}: not a pull_request or workflow_run event; pass --pr OWNER/REPO#N")


def client(settings: Settings, policy: RetryPolicy | None = None, **kw: Any) -> GitHubClient:
    if settings.hosts.github.token is None:
        raise UsageError(
            "no GitHub token: set GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: ${{ github.token }})"
        )
    return GitHubClient(
        settings.hosts.github.token.get_secret_value(),
        base_url=settings.hosts.github.api_url,
        policy=policy,
        **kw,
    )


def host(
    settings: Settings, gh: GitHubClient, repo: str, *, checkout: Path | None = None, check_run: bool = True
) -> GitHubHost:
    """The repository's pull requests, posted on as the settings say."""
    options = Options(
        fail_on=settings.fail_on,
        fail_on_model=settings.fail_on_model,
        max_inline=settings.hosts.max_inline,
        check_run=check_run,
        step_summary=settings.hosts.github.step_summary,
        bot_login=settings.hosts.bot_login,
    )
    return GitHubHost(gh, repo, options, checkout=checkout, signer=marker_signer(settings)[0])


class Connection:
    """GitHub for the webhook service: the App installation's client when an App is configured and the
    event named one, else the token's; the installations' clients are kept for the worker's life."""

    name = GitHubHost.name

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._installations: Any = None

    def client(self, installation: int | None) -> GitHubClient:
        gh = self.settings.hosts.github
        if gh.app_id is None or not installation:
            return client(self.settings)
        if self._installations is None:
            from ..hosts.github.service import Installations

            key = gh.app_key()
            assert key is not None, "hosts.github.app_key_path is needed with hosts.github.app_id"
            self._installations = Installations(gh.app_id, key.get_secret_value(), base_url=gh.api_url)
        return self._installations.client(int(installation))

    def host(self, settings: Settings, repo: str, installation: int | None) -> GitHubHost:
        return host(settings, self.client(installation), repo)

    def service_host(self, repo: str, installation: int | None) -> ServiceHost:
        from ..hosts.github.service import GitHubServiceHost

        return GitHubServiceHost(self.host(self.settings, repo, installation))


def review_pull(
    settings: Settings,
    gh: GitHubClient,
    target: Target,
    review: Callable[[ChangeSet, Settings], Result],
    *,
    configure: Callable[[RepoConfig | None], Settings] | None = None,
    checkout: Path | None,
    post: bool,
    incremental: bool = True,
    check_run: bool = True,
    findings_out: Path | None = None,
    sarif_out: Path | None = None,
) -> Outcome:
    """Review one pull request. With `configure`, the settings are remade from the repository's
    configuration file at the PR's base commit (read through the API): never from its head."""
    assert target.number is not None
    gh_host = host(settings, gh, target.repo, checkout=checkout, check_run=check_run)
    change = gh_host.fetch(target.number, event_head=target.head)
    if configure is not None and change.changeset.base is not None:
        settings = configure(base_config(gh_host, change))
        gh_host = host(settings, gh, target.repo, checkout=checkout, check_run=check_run)

    def reports(result: Result) -> None:
        if findings_out is not None:
            pull = {"repo": target.repo, "number": target.number, "head": change.changeset.head}
            doc = {"pull": pull, "report": jsonout.render(result)}
            findings_out.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
        if sarif_out is not None:  # for code scanning (github/codeql-action/upload-sarif)
            from ..reporters import sarif

            sarif_out.write_text(
                json.dumps(sarif.render(result), ensure_ascii=False) + "\n", encoding="utf-8"
            )

    note = marker_signer(settings)[1]
    out = review_change(
        gh_host,
        change,
        lambda cs: review(cs, settings),
        post=post,
        incremental=incremental,
        reports=reports,
        note=note,
        learning=learning_of(settings, review),
    )
    return replace(out, settings=settings)


def publish_artifact(
    settings: Settings, gh: GitHubClient, trusted: Target, artifact: Path, *, check_run: bool = True
) -> Outcome:
    """Post the findings of an untrusted artifact on the PR the trusted event names (workflow_run)."""
    if trusted.head is None:
        raise UsageError("publish needs the trusted head SHA: --head-sha, or a workflow_run event")
    try:
        data = artifact.read_bytes()
    except OSError as exc:
        raise InputError(f"{artifact}: cannot read the findings artifact ({exc.strerror or exc})") from exc
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{artifact}: not JSON") from exc
    pull = doc.get("pull") if isinstance(doc, dict) else None
    number = trusted.number
    if number is None:  # fork PRs: workflow_run.pull_requests is empty; the number comes from the artifact
        n = pull.get("number") if isinstance(pull, dict) else None
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InputError(f"{artifact}: no pull request number in the artifact")
        number = n
    _, findings = untrusted_findings(json.dumps(doc.get("report")).encode("utf-8"))
    gh_host = host(settings, gh, trusted.repo, check_run=check_run)
    change = gh_host.fetch(number)
    cs = change.changeset
    if cs.head != trusted.head:
        raise PublishError(
            f"{trusted.repo}#{number} is at {str(cs.head)[:12]}, "
            f"not at the head {trusted.head[:12]} that the workflow run reviewed: "
            "refusing to post (the artifact may name another PR, or the PR moved on)"
        )
    base = Result(
        cs,
        (),
        (),
        (),
        Stats(files=len(cs.files), backend="artifact"),
        ("findings from an untrusted artifact, re-anchored here",),
    )
    result = reanchor(findings, base)
    done = gh_host.post(change, Review(result), gh_host.prior(change))
    return Outcome(result, (*result.anchored, *result.unanchored), done, None, None)
