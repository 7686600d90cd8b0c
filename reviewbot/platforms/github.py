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

from ..config import CONFIG_FILE, RepoConfig, Settings
from ..diff import DiffIndex
from ..errors import InputError, PublishError, UsageError
from ..hosts.github.client import GitHubClient, RetryPolicy
from ..hosts.github.fetch import interdiff
from ..hosts.github.host import GitHubHost, Options
from ..hosts.github.plan import dumps, plan_review, review_payload
from ..hosts.github.post import Posted
from ..hosts.incremental import restrict, since_filter
from ..merge import fingerprint
from ..model import Anchored, ChangeSet, Result, Stats, Unanchored
from ..ports import Prior, Review
from ..reporters import jsonout
from ..reporters.artifact import reanchor, untrusted_findings
from .shared import marker_signer

__all__ = [
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
        fail_on=settings.fail_on, fail_on_model=settings.fail_on_model, max_inline=settings.hosts.max_inline, check_run=check_run,
        step_summary=settings.hosts.github.step_summary, bot_login=settings.hosts.bot_login,
    )  # fmt: skip
    return GitHubHost(gh, repo, options, checkout=checkout, signer=marker_signer(settings)[0])


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    items: tuple[Anchored | Unanchored, ...]  # what was (or would be) published
    posted: Posted | None
    payload: dict[str, Any] | None  # the dry run's review
    since: str | None
    settings: Settings | None = None  # the settings the review ran with (the base's configuration)


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
    cs = change.changeset
    assert cs.head is not None
    if configure is not None and cs.base is not None:
        origin = f"{cs.base[:7]}:{CONFIG_FILE} (the pull request's base)"
        settings = configure(RepoConfig(gh.file_text(target.repo, CONFIG_FILE, cs.base), origin))
        gh_host = host(settings, gh, target.repo, checkout=checkout, check_run=check_run)
    prior = gh_host.prior(change) if post or incremental else Prior()
    inter = None
    if incremental and prior.head and prior.head != cs.head:
        inter = interdiff(gh, target.repo, prior.head, cs.head, checkout)
    result = review(restrict(cs, inter) if inter is not None else cs, settings)
    items: tuple[Anchored | Unanchored, ...] = (*result.anchored, *result.unanchored)
    if inter is not None:
        items = tuple(since_filter(items, inter))
    since = prior.head if inter is not None else None
    if findings_out is not None:
        doc = {"pull": {"repo": target.repo, "number": target.number, "head": cs.head},
               "report": jsonout.render(result)}  # fmt: skip
        findings_out.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    if sarif_out is not None:  # for code scanning (github/codeql-action/upload-sarif)
        from ..reporters import sarif

        sarif_out.write_text(json.dumps(sarif.render(result), ensure_ascii=False) + "\n", encoding="utf-8")
    if not post:
        index = DiffIndex(cs.files)
        plan = plan_review(items, index, posted=prior.keys, max_inline=settings.hosts.max_inline)
        return Outcome(result, items, None, review_payload(plan, result, cs.head), since, settings)
    only = frozenset(fingerprint(i.finding) for i in items) if inter is not None else None
    if note := marker_signer(settings)[1]:
        result = replace(result, notes=(*result.notes, note))
    done = gh_host.post(change, Review(result, only, since), prior)
    return Outcome(result, items, done, None, since, settings)


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
            f"{trusted.repo}#{number} is at {str(cs.head)[:12]}, not at the head {trusted.head[:12]} that the "
            "workflow run reviewed: refusing to post (the artifact may name another PR, or the PR moved on)"
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
