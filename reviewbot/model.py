"""The data that flows through reviewbot: frozen dataclasses, no behaviour beyond small helpers.

source -> ChangeSet -> plan -> WorkItem -> route -> Finding -> anchor -> Anchored | Unanchored
-> Result -> reporters.  Nothing here imports anything else of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

# every route, in the order the router offers them; config and router import this one list
ROUTE_NAMES: tuple[str, ...] = ("review", "interpreter", "search", "tools", "repo_qa")


class Side(StrEnum):
    """GitHub's naming: RIGHT is the new file (added and context lines), LEFT the old (removed)."""

    LEFT = "LEFT"
    RIGHT = "RIGHT"

    def __str__(self) -> str:
        return self.value


class FileStatus(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    MODIFIED = "modified"
    RENAMED = "renamed"
    COPIED = "copied"

    def __str__(self) -> str:
        return self.value


class LineKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CONTEXT = "context"

    def __str__(self) -> str:
        return self.value


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Line:
    kind: LineKind
    old_no: int | None  # line number in the old file; None for added lines
    new_no: int | None  # line number in the new file; None for removed lines
    text: str  # without the leading '+', '-' or ' ' and without the newline

    @property
    def side(self) -> Side:
        return Side.LEFT if self.kind is LineKind.REMOVED else Side.RIGHT

    @property
    def number(self) -> int:
        """The number on this line's own side (old for removed lines, new otherwise)."""
        n = self.old_no if self.kind is LineKind.REMOVED else self.new_no
        assert n is not None
        return n


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # the text after the second @@, often the enclosing function
    lines: tuple[Line, ...]

    @property
    def added(self) -> int:
        return sum(1 for ln in self.lines if ln.kind is LineKind.ADDED)

    @property
    def removed(self) -> int:
        return sum(1 for ln in self.lines if ln.kind is LineKind.REMOVED)


@dataclass(frozen=True, slots=True)
class FileDiff:
    old_path: str | None  # None when the file is added
    new_path: str | None  # None when the file is deleted
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None  # rename/copy similarity index, percent

    @property
    def path(self) -> str:
        """The path a reviewer talks about: the new path, or the old one for deletions."""
        p = self.new_path or self.old_path
        assert p is not None
        return p

    @property
    def mode_changed(self) -> bool:
        return self.old_mode is not None and self.new_mode is not None and self.old_mode != self.new_mode

    @property
    def added(self) -> int:
        return sum(h.added for h in self.hunks)

    @property
    def removed(self) -> int:
        return sum(h.removed for h in self.hunks)


# Reads a file's text at the head revision; returns None when it does not exist there.
HeadReader = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class ChangeSet:
    files: tuple[FileDiff, ...]
    description: str  # where it came from: "diff file x.diff", "git main..HEAD"
    base: str | None = None
    head: str | None = None
    read_head: HeadReader | None = field(default=None, compare=False, repr=False)
    workdir: str | None = None  # a checkout at head, for tools that need files on disk

    def file(self, path: str) -> FileDiff | None:
        for f in self.files:
            if f.path == path or f.old_path == path:
                return f
        return None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file or work item that was not reviewed, and why. Reported, never dropped silently."""

    path: str
    reason: str
    stage: str = "plan"  # plan | model | route | anchor


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A piece of a change sized to the model's token budget: one file's hunks, or part of them."""

    id: str
    path: str
    file: FileDiff
    hunks: tuple[Hunk, ...]
    tokens: int  # the diff text's size in the model's tokens (or an estimate without a tokenizer)
    risk: float  # higher is reviewed first
    context: str | None = None  # extra text for the model (for example the enclosing code at head)
    at_head: bool = False  # a checkout at head is on disk (changeset.workdir): tools and tests can run
    question: str | None = None  # a question asked about the change (`--question`, an `/ask` comment)


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    side: Side
    line: int  # the last line of the range
    start_line: int | None = None  # first line when the finding covers several lines

    @property
    def first(self) -> int:
        return self.start_line if self.start_line is not None else self.line


@dataclass(frozen=True, slots=True)
class Finding:
    location: Location
    severity: Severity
    message: str
    rule: str  # e.g. "model/bug", "ruff/F401", "bandit/B602"
    route: str  # review | interpreter | search | tools | repo_qa | lint
    category: str = "bug"
    suggestion: str | None = None  # replacement text for location's RIGHT lines
    route_probability: float | None = None
    confidence: float | None = None
    source: str = "model"  # model | ruff | bandit | ...
    said: str | None = None  # a model finding: the model's own sentence, before the comment was composed
    fact: str = (
        ""  # a model finding: the change fact its message opens with (the bot's words, not the model's)
    )


class Mark(StrEnum):
    """Where a finding lies on the diff (``diff.marks``); reviewdog's filter modes show by it."""

    ADDED = "added"  # touches an added line
    CONTEXT = "diff_context"  # touches a line the diff shows, none of them added
    FILE = "file"  # in a changed file, outside the lines shown
    OUTSIDE = "outside"  # not in a file of the diff


@dataclass(frozen=True, slots=True)
class Anchored:
    """A finding placed on a valid diff position; `hunk` is the index of the hunk in its file."""

    finding: Finding
    hunk: int
    in_added: bool  # True when every line of the range is an added line
    mark: Mark | None = None  # set by the pipeline (None: not marked)


@dataclass(frozen=True, slots=True)
class Unanchored:
    finding: Finding
    reason: str
    mark: Mark | None = None  # set by the pipeline (None: not marked)


@dataclass(frozen=True, slots=True)
class Stats:
    files: int = 0
    work_items: int = 0
    reviewed_items: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    model_seconds: float = 0.0
    total_seconds: float = 0.0
    backend: str = "none"
    model: str | None = None


@dataclass(frozen=True, slots=True)
class RouteRun:
    """One route run on one work item: which, how sure the router was, what came of it."""

    item: str
    route: str
    probability: float | None  # the router's probability for this route; None without a router
    pinned: bool = False  # chosen by a `routes.pin` glob, not by the model
    second: bool = False  # run as the runner-up of a close call (routes.second_margin)
    findings: int = 0
    not_reviewed: int = 0
    seconds: float = 0.0  # in the route (the routing decision not included)
    fallback: bool = False  # run because the chosen route could not take the item (review only)


@dataclass(frozen=True, slots=True)
class Result:
    changeset: ChangeSet
    anchored: tuple[Anchored, ...]
    unanchored: tuple[Unanchored, ...]
    skipped: tuple[Skipped, ...]
    stats: Stats
    notes: tuple[str, ...] = ()  # named limits and degradations, printed in every report
    routes: tuple[RouteRun, ...] = ()  # every route run, in item order

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(a.finding for a in self.anchored)

    def fails(self, fail_on: str, *, model_fails: bool = False) -> bool:
        """Whether a finding at or above ``fail_on`` fails the run. A model's guess (source
        ``model``) fails it only with ``model_fails``: by default a job fails on evidence (a linter,
        a failing test, a sandboxed run, the docs), never on a guess. The one rule of every entry point."""
        if fail_on == "never":
            return False
        floor = Severity(fail_on).rank
        return any(f.severity.rank >= floor and (model_fails or f.source != "model") for f in self.findings)
