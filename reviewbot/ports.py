"""The seams between parts: Protocols of one or a few verbs, and the small values they pass.

The pipeline knows only these; `compose` picks the concrete classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .model import ChangeSet, Finding, Result, Skipped, WorkItem

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

    def lint(self, changeset: ChangeSet, paths: Sequence[str]) -> tuple[tuple[Finding, ...], tuple[Skipped, ...]]: ...


class Reporter(Protocol):
    def report(self, result: Result) -> None: ...


class Progress(Protocol):
    def __call__(self, done: int, total: int, label: str) -> None: ...
