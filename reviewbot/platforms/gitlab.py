"""The GitLab run behind ``reviewbot gitlab review`` (docs/gitlab.md).

Load the merge request (its latest version's diff; git on a collapsed one), read ``.reviewbot.yml``
as the MR's base commit holds it (never the head's: an MR cannot switch its own review off), review
only what changed since the last reviewed head, then post (``--post``) or print the threads it
would post. The Code Climate report and SARIF are written on request.

GitLab's CI variables are read here from the environment given: ``CI_API_V4_URL``,
``CI_MERGE_REQUEST_PROJECT_ID``, ``CI_MERGE_REQUEST_IID``, ``CI_MERGE_REQUEST_DIFF_BASE_SHA``; the
token is ``GITLAB_TOKEN`` (a project access token with the ``api`` scope, in a masked variable).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import CONFIG_FILE, RepoConfig
from ..diff import DiffIndex
from ..errors import SourceError, UsageError
from ..hosts.gitlab.client import GitLabClient
from ..hosts.gitlab.host import GitLabHost
from ..hosts.gitlab.post import Posted, plan_threads
from ..hosts.incremental import restrict, since_filter
from ..merge import fingerprint
from ..model import Anchored, ChangeSet, Result, Unanchored
from ..ports import Change, Prior, Review
from ..sources.git import GitSource

__all__ = [
    "Outcome",
    "Target",
    "base_config",
    "client",
    "env_target",
    "exit_code",
    "parse_target",
    "review_mr",
]

JOB_TOKEN_ONLY = (
    "CI_JOB_TOKEN cannot post notes on merge requests: set GITLAB_TOKEN to a project access token "
    "with the api scope (a masked CI/CD variable)"
)


@dataclass(frozen=True, slots=True)
class Target:
    project: str  # GROUP/PROJECT or the numeric id
    iid: int


def parse_target(text: str) -> Target:
    """``GROUP/PROJECT!IID``."""
    project, sep, iid = text.rpartition("!")
    if not sep or not project or "/" not in project or not iid.isdigit() or int(iid) < 1:
        raise UsageError(f"--mr wants GROUP/PROJECT!IID, got {text!r}")
    return Target(project, int(iid))


def env_target(environ: Mapping[str, str]) -> Target:
    """The MR of a merge-request pipeline (``CI_MERGE_REQUEST_PROJECT_ID``, ``CI_MERGE_REQUEST_IID``)."""
    project, iid = environ.get("CI_MERGE_REQUEST_PROJECT_ID"), environ.get("CI_MERGE_REQUEST_IID")
    if not project or not iid or not iid.isdigit():
        raise UsageError("no merge request: pass --mr GROUP/PROJECT!IID, or run in a merge request pipeline")
    return Target(project, int(iid))


def client(environ: Mapping[str, str], api_url: str | None = None, **kw: Any) -> GitLabClient:
    token = environ.get("GITLAB_TOKEN")
    if not token:
        if environ.get("CI_JOB_TOKEN"):
            raise UsageError(JOB_TOKEN_ONLY)
        raise UsageError("no GitLab token: set GITLAB_TOKEN (a project access token with the api scope)")
    url = api_url or environ.get("CI_API_V4_URL") or "https://gitlab.com/api/v4"
    return GitLabClient(token, url=url, **kw)


def base_config(gl: GitLabClient, project: str, change: Change) -> RepoConfig:
    """``.reviewbot.yml`` as the MR's base commit holds it (the target branch's, not the head's)."""
    base = change.changeset.base
    assert base is not None
    return RepoConfig(gl.file_at(project, CONFIG_FILE, base), f"{base[:12]}:{CONFIG_FILE}")


def base_note(environ: Mapping[str, str], change: Change) -> str | None:
    """A line when the pipeline's ``CI_MERGE_REQUEST_DIFF_BASE_SHA`` is not the latest version's base."""
    ci_base, base = environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"), change.changeset.base
    if ci_base and base and ci_base != base:
        return (f"the pipeline's diff base {ci_base[:12]} is not the MR's latest version's {base[:12]} "
                "(the target branch moved): reviewing the latest version")  # fmt: skip
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    posted: Posted | None
    payload: list[dict[str, Any]] | None  # the dry run's threads
    since: str | None


def _interdiff(checkout: Path | None, since: str, head: str):
    if checkout is None:
        return None
    try:
        return GitSource(checkout, f"{since}..{head}").load().files
    except SourceError:
        return None


def review_mr(
    gl_host: GitLabHost,
    change: Change,
    review: Callable[[ChangeSet], Result],
    *,
    post: bool,
    incremental: bool = True,
    reports: Mapping[str, Path | None] = {},
) -> Outcome:
    """Review ``change`` and post it (or plan it, for a dry run); ``reports``: codequality/sarif paths."""
    cs = change.changeset
    assert cs.head is not None
    prior = gl_host.prior(change) if post or incremental else Prior()
    inter = None
    if incremental and prior.head and prior.head != cs.head:
        inter = _interdiff(gl_host.checkout, prior.head, cs.head)
    result = review(restrict(cs, inter) if inter is not None else cs)
    items: tuple[Anchored | Unanchored, ...] = (*result.anchored, *result.unanchored)
    if inter is not None:
        items = tuple(since_filter(items, inter))
    since = prior.head if inter is not None else None
    _write_reports(result, reports)
    if not post:
        plan = plan_threads(items, DiffIndex(cs.files), gl_host.version(change), posted=prior.keys,
                            max_threads=gl_host.max_threads)  # fmt: skip
        payload = [{"position": pos, "body": body} for body, pos in plan.threads]
        return Outcome(result, None, payload, since)
    only = frozenset(fingerprint(i.finding) for i in items) if inter is not None else None
    return Outcome(result, gl_host.post(change, Review(result, only, since), prior), None, since)


def _write_reports(result: Result, reports: Mapping[str, Path | None]) -> None:
    from ..reporters import codequality, sarif

    render = {"codequality": codequality.render, "sarif": sarif.render}
    for name, path in reports.items():
        if path is not None:
            path.write_text(json.dumps(render[name](result), ensure_ascii=False) + "\n", encoding="utf-8")


def exit_code(result: Result, fail_on: str, *, model_fails: bool) -> int:
    """1 on findings at or above ``fail_on``; a model-only finding fails the job only with ``model_fails``."""
    return int(result.fails(fail_on, model_fails=model_fails))
