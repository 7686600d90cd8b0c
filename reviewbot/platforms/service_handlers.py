"""The one place a stored job of the webhook service becomes work, through the existing runners
(here, in platforms/, because only platforms/ may call them; service/worker.py calls ``run_job``).

- a review job: ``platforms.github.review_pull`` / ``platforms.gitlab.review_mr`` with ``post``,
  the settings remade from the repository's file at the change's base commit (never its head);
- a command job: run only when ``commands.allowed`` (write access, asked of the host's API);
  ``/review`` reviews the current head, ``/ask`` and ``/test`` review without posting (with the
  question for the repo_qa route, or every file pinned to the interpreter route) and answer in the
  comment's thread through the ServiceHost; ``/describe`` fetches the change and answers with its
  walkthrough (no model, no review).

The hosts' tokens stay here and in the host clients: the model only ever sees the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..config import RepoConfig, Settings
from ..errors import UsageError
from ..model import ChangeSet, Result, Stats
from ..ports import Change, ServiceHost
from ..service.commands import Command, allowed, answer_text, describe_text
from ..service.jobs import Job

__all__ = ["Clients", "Configure", "run_job", "service_host"]

if TYPE_CHECKING:
    from ..hosts.gitlab.host import GitLabHost

Configure = Callable[[RepoConfig | None], Settings]  # the service's settings over a repository's file
_Fetched = tuple["GitLabHost", Change]  # a merge request's host and its change, read once per job


class Clients:
    """The API clients of the hosts, as the service's settings say (kept for the worker's life)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._installations: Any = None
        self._gitlab: Any = None

    def github(self, installation: int | None) -> Any:
        """The App installation's client when an App is configured and the event named one, else
        the personal token's."""
        s = self.settings
        if s.github_app_id is not None and installation:
            if self._installations is None:
                from ..hosts.github.service import Installations

                key = s.github_app_key()
                assert key is not None, "github_app_key_path is needed with github_app_id"
                self._installations = Installations(s.github_app_id, key.reveal(), base_url=s.github_api_url)
            return self._installations.client(int(installation))
        from . import github as run

        return run.client(s)

    def gitlab(self) -> Any:
        if self._gitlab is None:
            from . import gitlab as run

            if self.settings.gitlab_token is None:
                raise UsageError("no GitLab token: set GITLAB_TOKEN (a project or group access token)")
            env = {"GITLAB_TOKEN": self.settings.gitlab_token.reveal()}
            self._gitlab = run.client(env, self.settings.service_gitlab_url)
        return self._gitlab


def service_host(clients: Clients, host: str, repo: str, installation: int | None = None) -> ServiceHost:
    """The ServiceHost of one repository or project (commands, replies, the reconciler)."""
    if host == "github":
        from ..hosts.github.service import GitHubServiceHost
        from . import github as run

        return GitHubServiceHost(run.host(clients.settings, clients.github(installation), repo))
    from ..hosts.gitlab.host import GitLabHost
    from ..hosts.gitlab.service import GitLabServiceHost

    return GitLabServiceHost(GitLabHost(clients.gitlab(), repo, bot_login=clients.settings.github_bot_login))


def _reviewer(progress: Any, question: str | None = None) -> Callable[[ChangeSet, Settings], Result]:
    from .. import pipeline
    from .shared import review_parts, with_config_notes

    def review(cs: ChangeSet, s: Settings) -> Result:
        return with_config_notes(pipeline.run(cs, review_parts(s, progress, question)), s)

    return review


def _github(clients: Clients, configure: Configure, job: Job, arg: dict[str, Any], progress: Any,
            *, head: str | None, post: bool, question: str | None = None,
            pins: tuple[tuple[str, str], ...] = ()) -> Result:  # fmt: skip
    from . import github as run

    def settings_of(rc: RepoConfig | None) -> Settings:
        s = configure(rc)
        return replace(s, route_pins=pins) if pins else s

    out = run.review_pull(
        clients.settings, clients.github(arg.get("installation")), run.Target(job.repo, job.number, head),
        _reviewer(progress, question), configure=settings_of, checkout=None, post=post, incremental=post,
    )  # fmt: skip
    return out.result


def _gitlab_fetch(clients: Clients, job: Job) -> _Fetched:
    """The merge request's host and its change (the MR, its latest version and its diffs)."""
    from ..hosts.gitlab.host import GitLabHost

    gl_host = GitLabHost(clients.gitlab(), job.repo, bot_login=clients.settings.github_bot_login)
    return gl_host, gl_host.fetch(job.number)


def _gitlab(clients: Clients, configure: Configure, job: Job, progress: Any, *, post: bool,
            question: str | None = None, pins: tuple[tuple[str, str], ...] = (),
            fetched: _Fetched | None = None) -> Result:  # fmt: skip
    from . import gitlab as run
    from .shared import marker_signer

    gl_host, change = fetched or _gitlab_fetch(clients, job)
    s = configure(run.base_config(clients.gitlab(), job.repo, change))
    s = replace(s, route_pins=pins) if pins else s
    gl_host.max_threads = s.github_max_comments
    gl_host.signer = marker_signer(s)[0]
    review = _reviewer(progress, question)
    return run.review_mr(gl_host, change, lambda cs: review(cs, s), post=post, incremental=post).result


def run_job(job: Job, clients: Clients, configure: Configure, progress: Any) -> str:
    """Do what ``job`` asks; returns a short word for the log. Errors propagate (the worker retries)."""
    arg: dict[str, Any] = json.loads(job.arg) if job.arg else {}

    def review(*, head: str | None, post: bool, question: str | None = None,
               pins: tuple[tuple[str, str], ...] = (), fetched: _Fetched | None = None) -> Result:  # fmt: skip
        if job.host == "github":
            return _github(clients, configure, job, arg, progress, head=head, post=post, question=question,
                           pins=pins)  # fmt: skip
        return _gitlab(clients, configure, job, progress, post=post, question=question, pins=pins,
                       fetched=fetched)  # fmt: skip

    if job.kind == "review":
        why, fetched = _not_needed(clients, job, arg)
        if why:
            return why
        review(head=job.head or None, post=True, fetched=fetched)
        return "reviewed"
    cmd = Command(arg["name"], arg.get("arg", ""))
    host = service_host(clients, job.host, job.repo, arg.get("installation"))
    if not allowed(host, arg.get("user", ""), clients.settings.github_bot_login):
        return "ignored (no write access)"
    if cmd.name == "review":
        review(head=None, post=True)
        return "reviewed (/review)"
    if cmd.name == "describe":
        text = describe_text(cmd, _walkthrough(clients, configure, job, arg), user=arg.get("user"))
        host.reply(job.number, arg.get("thread"), text)
        return "answered /describe"
    if cmd.name == "ask":
        result = review(head=None, post=False, question=cmd.arg)
    else:  # /test: every file to the interpreter route (it writes and runs tests in the sandbox)
        result = review(head=None, post=False, pins=(("*", "interpreter"),))
    host.reply(job.number, arg.get("thread"), answer_text(cmd, _answer(result), user=arg.get("user")))
    return f"answered /{cmd.name}"


def _not_needed(clients: Clients, job: Job, arg: dict[str, Any]) -> tuple[str | None, _Fetched | None]:
    """Why a review job is skipped: its change moved on to a newer head (that head's own job, or the
    reconciler, reviews it), or the bot's summary already names its head (a worker that died after
    posting, before marking the job done). With it, a merge request already fetched (its diffs are
    read once per job); a pull request's check reads its head only, and the review fetches the diff."""
    fetched = None
    if job.host == "github":
        from . import github as run

        gh = clients.github(arg.get("installation"))
        now = gh.pull(job.repo, job.number).head_sha
        reviewer = run.host(clients.settings, gh, job.repo).reviewer(job.number)
    else:
        fetched = _gitlab_fetch(clients, job)
        now = fetched[1].changeset.head
        reviewer = fetched[0].reviewer(job.number)
    if job.head and now != job.head:
        return f"skipped: moved on to {str(now)[:12]}", None
    if reviewer.previous()[1] == job.head:
        return "skipped: already reviewed", None
    return None, fetched


def _walkthrough(clients: Clients, configure: Configure, job: Job, arg: dict[str, Any]) -> str:
    """The change's walkthrough as Markdown, with what the base's configuration leaves out."""
    from ..config import CONFIG_FILE
    from ..model import Skipped
    from ..plan import skip_reason
    from ..reporters import markdown
    from ..service.commands import LIMIT

    if job.host == "github":
        from . import github as run

        gh = clients.github(arg.get("installation"))
        cs = run.host(clients.settings, gh, job.repo).fetch(job.number).changeset
        origin = f"{str(cs.base)[:7]}:{CONFIG_FILE} (the pull request's base)"
        text = gh.file_text(job.repo, CONFIG_FILE, cs.base) if cs.base else None
        settings = configure(RepoConfig(text, origin))
    else:
        from . import gitlab as run

        _, change = _gitlab_fetch(clients, job)
        cs = change.changeset
        settings = configure(run.base_config(clients.gitlab(), job.repo, change))
    skipped = tuple(
        Skipped(f.path, reason)
        for f in cs.files
        if (reason := skip_reason(f, settings.exclude, settings.include_vendored))
    )
    result = Result(cs, (), (), skipped, Stats(files=len(cs.files)))
    return markdown.walkthrough_section(result, limit=LIMIT - 500)


def _answer(result: Result) -> str:
    """The route's findings and notes as plain text (``answer_text`` escapes it)."""
    lines = [f"{f.location.path}:{f.location.line}: {f.message}" for f in result.findings]
    lines += list(result.notes)
    return "\n".join(lines) or "nothing to report"
