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

from ..config import Settings
from ..errors import UsageError
from ..hosts.gitlab.client import GitLabClient
from ..hosts.gitlab.host import GitLabHost
from ..model import ChangeSet, Result
from ..ports import Change, ServiceHost
from .flow import Learning, Outcome, review_change
from .shared import marker_signer

__all__ = [
    "Connection",
    "Target",
    "client",
    "host",
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


def host(settings: Settings, gl: GitLabClient, project: str, *, checkout: Path | None = None) -> GitLabHost:
    """The project's merge requests, posted on as the settings say."""
    return GitLabHost(
        gl,
        project,
        checkout=checkout,
        bot_login=settings.hosts.bot_login,
        max_threads=settings.hosts.max_inline,
        signer=marker_signer(settings)[0],
    )


class Connection:
    """GitLab for the webhook service: one client (the service's token), kept for the worker's life."""

    name = GitLabHost.name

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: GitLabClient | None = None

    def client(self) -> GitLabClient:
        if self._client is None:
            gitlab = self.settings.hosts.gitlab
            if gitlab.token is None:
                raise UsageError("no GitLab token: set GITLAB_TOKEN (a project or group access token)")
            self._client = client({"GITLAB_TOKEN": gitlab.token.get_secret_value()}, gitlab.url)
        return self._client

    def host(self, settings: Settings, repo: str, installation: int | None) -> GitLabHost:
        return host(settings, self.client(), repo)

    def service_host(self, repo: str, installation: int | None) -> ServiceHost:
        from ..hosts.gitlab.service import GitLabServiceHost

        return GitLabServiceHost(self.host(self.settings, repo, installation))


def base_note(environ: Mapping[str, str], change: Change) -> str | None:
    """A line when the pipeline's ``CI_MERGE_REQUEST_DIFF_BASE_SHA`` is not the latest version's base."""
    ci_base, base = environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"), change.changeset.base
    if ci_base and base and ci_base != base:
        return (
            f"the pipeline's diff base {ci_base[:12]} is not the MR's latest version's {base[:12]} "
            "(the target branch moved): reviewing the latest version"
        )
    return None


def review_mr(
    gl_host: GitLabHost,
    change: Change,
    review: Callable[[ChangeSet], Result],
    *,
    post: bool,
    incremental: bool = True,
    reports: Mapping[str, Path | None] = {},
    learning: Learning | None = None,
) -> Outcome:
    """Review ``change`` and post it (or plan it, for a dry run); ``reports``: codequality/sarif paths;
    ``learning``: what the team taught, applied (``flow.learning_of``)."""
    return review_change(
        gl_host,
        change,
        review,
        post=post,
        incremental=incremental,
        reports=lambda result: _write_reports(result, reports),
        learning=learning,
    )


def _write_reports(result: Result, reports: Mapping[str, Path | None]) -> None:
    from ..reporters import codequality, sarif

    render = {"codequality": codequality.render, "sarif": sarif.render}
    for name, path in reports.items():
        if path is not None:
            path.write_text(json.dumps(render[name](result), ensure_ascii=False) + "\n", encoding="utf-8")


def exit_code(result: Result, fail_on: str, *, model_fails: bool) -> int:
    """1 on findings at or above ``fail_on``; a model-only finding fails the job only with ``model_fails``."""
    return int(result.fails(fail_on, model_fails=model_fails))
