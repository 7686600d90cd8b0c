"""The one place a stored job of the webhook service becomes work, through the one review flow
(here, in platforms/, because only platforms/ may call it; service/worker.py calls ``run_job``).

- a review job: ``flow.review_change`` with ``post``, the settings remade from the repository's
  file at the change's base commit (never its head);
- a command job: run only when ``commands.allowed`` (write access, asked of the host's API);
  ``/review`` reviews the current head, ``/ask`` and ``/test`` review without posting (with the
  question for the repo_qa route, or every file pinned to the interpreter route) and answer in the
  comment's thread through the ServiceHost; ``/describe`` fetches the change and answers with its
  walkthrough (no model, no review).

Every step goes through ``ports.Host`` and ``ports.ServiceHost``; the job's host names which
``Connection`` (``platforms/github.py``, ``platforms/gitlab.py``) makes them. The hosts' tokens stay
in the connections and the host clients: the model only ever sees the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from ..config import RepoConfig, Settings
from ..errors import UsageError
from ..learning.cache import SignalCache
from ..model import ChangeSet, Result, Stats
from ..ports import Change, Host, ServiceHost
from ..service.commands import Command, allowed, answer_text, describe_text
from ..service.jobs import Job
from .flow import base_config, learning_of, review_change

__all__ = ["Clients", "Configure", "run_job", "service_host"]

Configure = Callable[[RepoConfig | None], Settings]  # the service's settings over a repository's file


class Connection(Protocol):
    """One code host for the service: its hosts of a repository, made with the given settings."""

    name: str

    def host(self, settings: Settings, repo: str, installation: int | None) -> Host: ...

    def service_host(self, repo: str, installation: int | None) -> ServiceHost: ...


class Clients:
    """The code hosts' connections, as the service's settings say (kept for the worker's life), and
    the repositories' signals read for learning (``signals``: one cache per worker process, shared
    by its workers, in its memory only)."""

    def __init__(self, settings: Settings, signals: SignalCache | None = None) -> None:
        self.settings = settings
        self.signals = signals if signals is not None else SignalCache()
        self._connections: dict[str, Connection] | None = None

    def connection(self, host: str) -> Connection:
        if self._connections is None:
            from . import github, gitlab

            made = (github.Connection(self.settings), gitlab.Connection(self.settings))
            self._connections = {c.name: c for c in made}
        if host not in self._connections:
            raise UsageError(f"no code host named {host!r}")
        return self._connections[host]


def service_host(clients: Clients, host: str, repo: str, installation: int | None = None) -> ServiceHost:
    """The ServiceHost of one repository or project (commands, replies, the reconciler)."""
    return clients.connection(host).service_host(repo, installation)


def _reviewer(progress: Any, question: str | None = None) -> Callable[[ChangeSet, Settings], Result]:
    from .. import pipeline
    from .shared import review_parts, with_config_notes

    def review(cs: ChangeSet, s: Settings) -> Result:
        return with_config_notes(pipeline.run(cs, review_parts(s, progress, question)), s)

    return review


class _Job:
    """One job's repository on its host: the change fetched once, its settings from its base."""

    def __init__(self, job: Job, clients: Clients, configure: Configure) -> None:
        arg: dict[str, Any] = json.loads(job.arg) if job.arg else {}
        self.job, self.arg, self.configure = job, arg, configure
        self.settings, self.signals = clients.settings, clients.signals
        self.connection = clients.connection(job.host)
        self.host = self.connection.host(clients.settings, job.repo, arg.get("installation"))
        self._change: Change | None = None

    def change(self) -> Change:
        if self._change is None:
            self._change = self.host.fetch(self.job.number)
        return self._change

    def configured(self) -> Settings:
        return self.configure(base_config(self.host, self.change()))

    def review(
        self,
        progress: Any,
        *,
        post: bool,
        question: str | None = None,
        pins: tuple[tuple[str, str], ...] = (),
    ) -> Result:
        from .shared import marker_signer

        s = self.configured()
        s = s.updated({"routes.pin": pins}) if pins else s
        host = self.connection.host(s, self.job.repo, self.arg.get("installation"))
        review = _reviewer(progress, question)
        out = review_change(
            host,
            self.change(),
            lambda cs: review(cs, s),
            post=post,
            incremental=post,
            note=marker_signer(s)[1],
            learning=learning_of(
                s, review, cache=self.signals, repository=f"{self.job.host}:{self.job.repo}"
            ),
        )
        return out.result


def run_job(job: Job, clients: Clients, configure: Configure, progress: Any) -> str:
    """Do what ``job`` asks; returns a short word for the log. Errors propagate (the worker retries)."""
    work = _Job(job, clients, configure)
    arg = work.arg
    if job.kind == "review":
        why = _not_needed(work)
        if why:
            return why
        work.review(progress, post=True)
        return "reviewed"
    cmd = Command(arg["name"], arg.get("arg", ""))
    host = service_host(clients, job.host, job.repo, arg.get("installation"))
    if not allowed(host, arg.get("user", ""), clients.settings.hosts.bot_login):
        return "ignored (no write access)"
    if cmd.name == "review":
        work.review(progress, post=True)
        return "reviewed (/review)"
    if cmd.name == "describe":
        text = describe_text(cmd, _walkthrough(work), user=arg.get("user"))
        host.reply(job.number, arg.get("thread"), text)
        return "answered /describe"
    if cmd.name == "ask":
        result = work.review(progress, post=False, question=cmd.arg)
    else:  # /test: every file to the interpreter route (it writes and runs tests in the sandbox)
        result = work.review(progress, post=False, pins=(("*", "interpreter"),))
    host.reply(job.number, arg.get("thread"), answer_text(cmd, _answer(result), user=arg.get("user")))
    return f"answered /{cmd.name}"


def _not_needed(work: _Job) -> str | None:
    """Why a review job is skipped: its change moved on to a newer head (that head's own job, or the
    reconciler, reviews it), or the bot's summary already names its head (a worker that died after
    posting, before marking the job done). The change is fetched once, for this check and the review."""
    job = work.job
    now = work.change().changeset.head
    if job.head and now != job.head:
        return f"skipped: moved on to {str(now)[:12]}"
    if work.host.prior(work.change()).head == job.head:
        return "skipped: already reviewed"
    return None


def _walkthrough(work: _Job) -> str:
    """The change's walkthrough as Markdown, with what the base's configuration leaves out."""
    from ..model import Skipped
    from ..plan import skip_reason
    from ..reporters import markdown
    from ..service.commands import LIMIT

    cs = work.change().changeset
    settings = work.configured()
    skipped = tuple(
        Skipped(f.path, reason)
        for f in cs.files
        if (reason := skip_reason(f, settings.plan.exclude, settings.plan.include_vendored))
    )
    result = Result(cs, (), (), skipped, Stats(files=len(cs.files)))
    return markdown.walkthrough_section(result, limit=LIMIT - 500)


def _answer(result: Result) -> str:
    """The route's findings and notes as plain text (``answer_text`` escapes it)."""
    lines = [f"{f.location.path}:{f.location.line}: {f.message}" for f in result.findings]
    lines += list(result.notes)
    return "\n".join(lines) or "nothing to report"
