"""`reviewbot learn`: what the team of one repository taught the review, read from its host.

    reviewbot learn --repo OWNER/NAME       GitHub: GITHUB_TOKEN, GITHUB_API_URL
    reviewbot learn --project GROUP/NAME    GitLab: GITLAB_TOKEN, CI_API_V4_URL or --api-url

The repository's settings come from its ``.reviewbot.yml`` on the default branch (``learning.*``,
``github.bot_login``), the signals from the host (``Host.signals``: the bot's signed threads of the
most recently updated pull or merge requests), the committed lessons from
``.reviewbot/learnings.yml`` on the default branch. ``learning.command`` turns them into the text
(or JSON) and writes the file with ``--write``. Bad input (no token, a malformed name, a host that
cannot be reached, a repository it does not have) is one line and exit 2.
"""

from __future__ import annotations

import argparse
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .. import config
from ..errors import PublishError, SourceError, UsageError
from ..retry import RetryPolicy
from .shared import StderrProgress, marker_signer, settings_for

__all__ = ["cmd_learn", "learn_parser"]

# an interactive read: a host that does not answer is said in seconds, not after GitHub's 15 minutes
POLICY = RetryPolicy(attempts=3, base_s=0.5, max_backoff_s=5.0, budget_s=60.0)
GITHUB_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+")
GITLAB_PROJECT = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+")
NO_SIGNALS = (
    "no signals read: no one gave a verdict on the bot's comments yet, or none was recognised as the "
    "bot's (they are known by their signed markers: run with the REVIEWBOT_MARKER_KEY the reviews sign "
    "with, and --bot-login the login they post as)"
)
LEARN_EXAMPLES = """\
examples:
  GITHUB_TOKEN=... reviewbot learn --repo octo/app
  GITLAB_TOKEN=... reviewbot learn --project team/app --api-url https://gitlab.example.com/api/v4
  reviewbot learn --repo octo/app --write        # .reviewbot/learnings.yml here: review it, commit it
  reviewbot learn --repo octo/app --pull-requests 200 --seconds 60 --format json
"""


def learn_parser(sub: Any, settings_args: Any) -> None:
    lp = sub.add_parser(
        "learn",
        help="what a repository's team taught the review (👍/👎, resolutions, fixes); --write the file",
        description="Read the team's verdicts on the bot's earlier comments in a repository's recent pull "
        "(merge) requests, and the committed .reviewbot/learnings.yml of its default branch, and print "
        "what the review learned from them (docs/learning.md).",
        epilog=LEARN_EXAMPLES,
    )
    which = lp.add_mutually_exclusive_group(required=True)
    which.add_argument("--repo", metavar="OWNER/NAME", help="a GitHub repository (token: GITHUB_TOKEN)")
    which.add_argument("--project", metavar="GROUP/NAME", help="a GitLab project (token: GITLAB_TOKEN)")
    lp.add_argument(
        "--api-url",
        help="the API root (GitHub default: $GITHUB_API_URL, else https://api.github.com; GitLab: "
        "$CI_API_V4_URL, else https://gitlab.com/api/v4)",
    )
    lp.add_argument(
        "--pull-requests",
        type=int,
        metavar="N",
        help="read the N most recently updated pull (merge) requests (default: learning.pull_requests, 50)",
    )
    lp.add_argument(
        "--seconds",
        type=float,
        metavar="S",
        help="no new call to the host after S seconds (default: learning.seconds)",
    )
    lp.add_argument(
        "--bot-login",
        help="the login the reviews post as (default: $REVIEWBOT_BOT_LOGIN, the configuration's, else "
        "the token's user; GitHub Actions posts as github-actions[bot])",
    )
    lp.add_argument(
        "--write",
        type=Path,
        nargs="?",
        const=Path(".reviewbot/learnings.yml"),
        metavar="PATH",
        help="also write what was learned there (default: .reviewbot/learnings.yml under this folder)",
    )
    lp.add_argument(
        "--format",
        dest="learn_format",
        choices=("text", "json"),
        default="text",
        help="output format (default: text)",
    )
    settings_args(lp)


def _checked(args: argparse.Namespace) -> tuple[str, str]:
    """(host, repository) as the flags name them, and the bounds checked, before any request."""
    if args.pull_requests is not None and not 1 <= args.pull_requests <= 1000:
        raise UsageError(f"--pull-requests must be 1 to 1000, got {args.pull_requests}")
    if args.seconds is not None and not 0 < args.seconds <= 3600:
        raise UsageError(f"--seconds must be more than 0 and at most 3600, got {args.seconds:g}")
    if args.repo is not None:
        if not GITHUB_REPO.fullmatch(args.repo):
            raise UsageError(f"--repo wants OWNER/NAME, got {args.repo!r}")
        return "github", args.repo
    if not GITLAB_PROJECT.fullmatch(args.project):
        raise UsageError(f"--project wants GROUP/NAME, got {args.project!r}")
    return "gitlab", args.project


def _settings(args: argparse.Namespace, rc: config.RepoConfig | None = None) -> config.Settings:
    """Flags over the environment over ``--config``, else over the repository's file (``rc``)."""
    settings = settings_for(args, None, repo_config=rc)
    changes: dict[str, Any] = {}
    if args.api_url and args.repo is not None:
        changes["hosts.github.api_url"] = args.api_url.rstrip("/")
    if args.bot_login:
        changes["hosts.bot_login"] = args.bot_login
    return settings.updated(changes) if changes else settings


def _client(host: str, args: argparse.Namespace, settings: config.Settings) -> Any:
    if host == "github":
        from . import github

        return github.client(settings, POLICY)
    from . import gitlab

    if not os.environ.get("GITLAB_TOKEN") and os.environ.get("CI_JOB_TOKEN"):
        raise UsageError(
            "CI_JOB_TOKEN cannot read merge requests' threads: set GITLAB_TOKEN to an access token "
            "with the read_api scope"
        )
    return gitlab.client(os.environ, args.api_url, policy=POLICY)


def _host(host: str, client: Any, repo: str, settings: config.Settings) -> Any:
    """The repository's ``ports.Host``, signing and recognising markers as ``settings`` say."""
    if host == "github":
        from . import github

        return github.host(settings, client, repo)
    from . import gitlab

    return gitlab.host(settings, client, repo)


def cmd_learn(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        return _learn(args, stdout, stderr)
    except (SourceError, PublishError) as exc:  # the host could not be reached, or refused
        raise UsageError(str(exc)) from exc


def _learn(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..learning.command import learn_command
    from ..learning.file import PATH, parse
    from ..routes.review import confidence_of

    host_name, repo = _checked(args)
    settings = _settings(args)  # flags, environment, --config: enough to reach the host
    client = _client(host_name, args, settings)
    branch = client.default_branch(repo)  # one request, which also proves the repository is there
    if branch is None:
        where = f"GitHub ({settings.hosts.github.api_url})" if host_name == "github" else "GitLab"
        raise UsageError(f"{where} has no repository {repo}, or the token cannot see it (HTTP 404)")
    notes: list[str] = []
    if branch:
        text = _host(host_name, client, repo, settings).file_at(config.CONFIG_FILE, branch)
        origin = f"{branch}:{config.CONFIG_FILE} (the default branch)"
        settings = _settings(args, config.RepoConfig(text, origin))
    else:
        notes.append("the repository is empty: no configuration and no committed lessons read")
    if not settings.learning.enabled:
        origin = settings.config_origin or "the configuration"
        notes.append(f"learning.enabled is false in {origin}: the reviews use none of this")
    if marker_note := marker_signer(settings)[1]:
        notes.append(marker_note)
    host = _host(host_name, client, repo, settings)
    limit = args.pull_requests or settings.learning.pull_requests
    seconds = args.seconds or settings.learning.seconds
    progress = StderrProgress(stderr, settings.progress)
    progress.status(f"reading the signals of {repo}'s {limit} most recently updated {host.term}s")
    signals, read_notes = host.signals(None, limit, seconds)  # the repository alone: no change left out
    notes += read_notes
    if not signals:
        notes.append(NO_SIGNALS)
    committed = None
    if branch and (text := host.file_at(PATH, branch)) is not None:
        committed = parse(text, f"{branch}:{PATH} (the default branch)")
    out = learn_command(
        list(signals),
        repo,
        today=datetime.now(UTC).date(),
        base_floor=confidence_of(settings.review.min_drop),
        committed=committed,
        write=args.write,
        notes=tuple(notes),
        as_json=args.learn_format == "json",
    )
    stdout.write(out)
    return 0
