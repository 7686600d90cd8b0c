"""The seams between parts: Protocols of one or a few verbs, and the small values they pass.

The pipeline knows only these; `compose` picks the concrete classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .model import ChangeSet, FileDiff, Finding, Result, Skipped, WorkItem

Message = Mapping[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    prompt_tokens: int
    generated_tokens: int
    seconds: float
    # log-probability of each generated token, where the backend has them
    token_logprobs: tuple[float, ...] | None = None
    cached_tokens: int = 0  # prompt tokens taken from the backend's prefix cache (not prefilled again)


@dataclass(frozen=True, slots=True)
class Scored:
    """Log-probabilities of a given text's tokens, and where each token starts in that text."""

    logprobs: tuple[float, ...]
    offsets: tuple[int, ...]
    seconds: float = 0.0

    @property
    def mean(self) -> float:
        return sum(self.logprobs) / len(self.logprobs) if self.logprobs else 0.0


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    probability: float
    probabilities: Mapping[str, float]
    prompt_tokens: int
    seconds: float
    cached_tokens: int = 0  # prompt tokens taken from the backend's prefix cache (not prefilled again)


class ModelBackend(Protocol):
    """One model, three verbs. Implementations: local (transformers), fake, none."""

    name: str
    model_id: str | None

    def count_tokens(self, text: str) -> int: ...

    def generate(
        self, messages: Sequence[Message], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> Generation:
        """Continue the chat; with `schema`, the output is constrained to that JSON schema."""
        ...

    def choose(self, messages: Sequence[Message], labels: Sequence[str]) -> Choice:
        """Pick one label as the assistant's first token(s); probabilities sum to 1 over labels."""
        ...

    def score(self, messages: Sequence[Message], continuation: str) -> Scored | None:
        """Log-probability of each token of `continuation` as the assistant's answer; None if unsupported."""
        ...


class Source(Protocol):
    def load(self) -> ChangeSet: ...


@dataclass(frozen=True, slots=True)
class RouteOutcome:
    findings: tuple[Finding, ...] = ()
    not_reviewed: tuple[Skipped, ...] = ()
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # what the route did that the report should say (programs run, ...)
    declined: str | None = None  # why the route could not take the item (the review route may instead)


class Route(Protocol):
    name: str

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome: ...


class Linter(Protocol):
    name: str

    def lint(
        self, changeset: ChangeSet, paths: Sequence[str]
    ) -> tuple[tuple[Finding, ...], tuple[Skipped, ...]]: ...


@dataclass(frozen=True, slots=True)
class TestsOutcome:
    """What running the change's own tests found: failures the change causes, and what the report
    should say (which tests ran, what was left out, failures that are not the change's)."""

    __test__ = False  # not a pytest test class

    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()


class ChangeTests(Protocol):
    """The change's own tests, run beside the linters on a source with a checkout."""

    name: str

    def run(self, changeset: ChangeSet) -> TestsOutcome: ...


class Reporter(Protocol):
    def report(self, result: Result) -> None: ...


class Progress(Protocol):
    def __call__(self, done: int, total: int, label: str) -> None: ...


# ------------------------------------------------------------------------------------ code hosts


@dataclass(frozen=True, slots=True)
class Change:
    """A change request on a code host (a pull request, a merge request), fetched at one head."""

    number: int
    changeset: ChangeSet  # its files, base and head
    diff_version: str | None = None  # the host's own id of this diff, where it has one (GitLab's)
    diff_start: str | None = None  # where the host's diff starts, where it names it (GitLab's start_sha)


@dataclass(frozen=True, slots=True)
class Prior:
    """What the bot already posted on a change."""

    keys: frozenset[str] = frozenset()  # fingerprints and content keys of the findings it posted
    head: str | None = None  # the head its summary says it reviewed last
    summary_id: str | None = None  # its summary comment, edited in place


@dataclass(frozen=True, slots=True)
class Review:
    """One run's review, for a host to post."""

    result: Result  # all the run found: the summary and the checks show all of it
    only: frozenset[str] | None = None  # fingerprints of the findings to post (incremental); None: all
    since: str | None = None  # the head an incremental review started from


class Posting(Protocol):
    """What a host's ``post`` did."""

    @property
    def inline(self) -> int: ...
    @property
    def listed(self) -> int: ...
    @property
    def repeated(self) -> int: ...
    @property
    def errors(self) -> tuple[str, ...]: ...


class Host(Protocol):
    """A code host: fetch a change, read what the bot posted on it before, post a review on it.

    ``platforms/flow.py`` is the one review-and-post flow over it; a host package gives its client,
    its positions and its comment bodies."""

    name: str
    term: str  # what the host calls a change, for the bot's sentences: "pull request", "merge request"

    def fetch(self, number: int) -> Change: ...

    def file_at(self, path: str, ref: str) -> str | None:
        """A file of the repository at commit ``ref`` (the base's configuration); None when absent."""
        ...

    def signals(
        self, change: Change | None, limit: int, seconds: float
    ) -> tuple[Sequence[object], tuple[str, ...]]:
        """The team's verdicts on the bot's earlier comments in the repository (``learning.Signal``s),
        from the ``limit`` most recently updated changes, read for at most ``seconds``; and the notes
        on the reading (the limits reached, its cost). ``change``: the one under review, None for
        the repository alone. Raises ReviewbotError when the host fails."""
        ...

    def prior(self, change: Change) -> Prior: ...

    def interdiff(self, change: Change, since: str) -> Sequence[FileDiff] | None:
        """The files changed from ``since`` (the last reviewed head) to the change's head; None when
        the host cannot say (a force-push dropped ``since``): then the whole change is reviewed."""
        ...

    def dry_run(self, change: Change, review: Review, prior: Prior) -> object:
        """What ``post`` would send for ``review`` (JSON-able), posting nothing."""
        ...

    def post(self, change: Change, review: Review, prior: Prior) -> Posting:
        """Inline comments, a body for the rest, the summary edited in place; a failed step raises
        PublishError after the others were done."""
        ...


@dataclass(frozen=True, slots=True)
class OpenChange:
    """An open pull/merge request as the reconciler sees it."""

    number: int
    head: str  # the head commit SHA
    reviewed: bool  # the bot has posted a review (its summary marker) for this head


class ServiceHost(Protocol):
    """What the webhook service needs of a host beyond `Host`, for one repository/project:
    permission checks on commands, answers in a thread, and the open changes for the reconciler.
    Implementations live in hosts/github and hosts/gitlab; the model never sees their tokens."""

    name: str

    def can_write(self, user: str) -> bool:
        """True when `user` has write access (GitHub: admin/maintain/write; GitLab: Developer or above)."""
        ...

    def reply(self, number: int, thread: str | None, text: str) -> None:
        """Post `text` (already escaped and ours) on change `number`: in the discussion/comment
        thread `thread` where the host has threads, else as a new comment on the change."""
        ...

    def open_changes(self) -> list[OpenChange]: ...
