"""`reviewbot learn`: what the team of one repository (GitHub) or project (GitLab) taught the review,
read through the host port as a review reads it, printed, and written as ``.reviewbot/learnings.yml``
with ``--write`` (commit it on the default branch: reviews read it from their base commit).

The tokens come from the environment, as `reviewbot github` and `reviewbot gitlab` take them:
``GITHUB_TOKEN`` (and ``GITHUB_API_URL``), ``GITLAB_TOKEN`` (and ``--api-url`` or ``CI_API_V4_URL``).
The bot's earlier comments are recognised by their signed markers: the marker key must be the one
the reviews used (``REVIEWBOT_MARKER_KEY``)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from ..errors import InputError, UsageError
from .shared import settings_for

LEARN_EXAMPLES = """\
examples:
  GITHUB_TOKEN=... reviewbot learn --repo octo/lib
  GITLAB_TOKEN=... reviewbot learn --project group/app --write   # then commit .reviewbot/learnings.yml
"""


def learn_parser(sub, settings_args) -> None:
    le = sub.add_parser(
        "learn",
        help="print what the team's verdicts on the bot's comments taught it; --write keeps it as a file",
        epilog=LEARN_EXAMPLES,
    )
    which = le.add_mutually_exclusive_group(required=True)
    which.add_argument("--repo", metavar="OWNER/NAME", help="a GitHub repository (token: GITHUB_TOKEN)")
    which.add_argument("--project", metavar="GROUP/NAME", help="a GitLab project (token: GITLAB_TOKEN)")
    le.add_argument(
        "--api-url", help="GitLab: the API root (default: $CI_API_V4_URL, else https://gitlab.com/api/v4)"
    )
    le.add_argument(
        "--write",
        action="store_true",
        help="also write .reviewbot/learnings.yml here (the lessons of an existing one are kept)",
    )
    settings_args(le)


def _name(text: str, flag: str, form: str) -> str:
    parts = text.split("/")
    if len(parts) < 2 or not all(parts) or any(p.strip() != p for p in parts):
        raise UsageError(f"{flag} wants {form}, got {text!r}")
    return text


def cmd_learn(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..learning.command import learn_command
    from ..learning.file import PATH, parse
    from ..routes.review import confidence_of

    settings = settings_for(args, None)
    if args.repo is not None:
        from . import github

        repo = _name(args.repo, "--repo", "OWNER/NAME")
        if repo.count("/") != 1:
            raise UsageError(f"--repo wants OWNER/NAME, got {args.repo!r}")
        host = github.host(settings, github.client(settings), repo, check_run=False)
    else:
        from . import gitlab

        repo = _name(args.project, "--project", "GROUP/NAME")
        host = gitlab.host(settings, gitlab.client(os.environ, args.api_url), repo)
    found, notes = host.signals(None, settings.learning.pull_requests, settings.learning.seconds)
    write = Path(PATH) if args.write else None
    committed = None
    if write is not None and write.is_file():
        try:
            text = write.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {write}: {getattr(exc, 'strerror', None) or exc}") from None
        committed = parse(text, str(write))
    said = learn_command(
        found,
        repo,
        today=datetime.now(UTC).date(),
        base_floor=confidence_of(settings.review.min_drop),
        committed=committed,
        write=write,
        notes=notes,
    )
    stdout.write(said)
    return 0
