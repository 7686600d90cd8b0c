"""The tools route's base types: each tool is a name, a description, the JSON schema of its arguments
and a runner ``(changeset, arguments) -> ToolResult``; a Registry is an allow-list of them. Which
name builds which tool is compose.py's table (``compose.default_registry``).

    registry = compose.default_registry()
    result = registry.call("ruff", changeset, {"paths": ["pkg/app.py"]})
    result.findings, result.observation, result.skipped

- Arguments are checked against the tool's schema (jsonschema) before anything runs; an unknown tool
  or bad arguments come back as a ToolResult whose observation names the error (``error`` is set),
  so the route can feed it back to the model. Nothing here raises for a tool's failure.
- Tools run as subprocesses (runners/process.py: a clean environment, rlimits, a timeout and an
  output cap) on the head checkout. A tool that is not installed gives a Skipped "X is not
  installed", never a crash. pytest runs repository code, so it runs in the sandbox (pytest_tool.py).
- Linter findings are filtered to the change's added lines (``filter_to_diff(..., "added")``); the
  observation lists those only. A failing test is kept wherever it is (``ToolResult.anchored_only``).
- Paths a tool may be given are files of this change: repository-relative, no ``..``, never an
  option (no leading ``-``), and always passed after ``--``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from ..diff import filter_to_diff
from ..model import ChangeSet, FileStatus, Finding, Skipped
from ..runners.process import which

__all__ = [
    "PATHS_SCHEMA",
    "Registry",
    "Tool",
    "ToolResult",
    "failure",
    "installed",
    "lint_result",
    "needs_checkout",
    "no_files",
    "not_installed",
    "paths_argument",
    "paths_only",
    "render_findings",
    "select_paths",
    "short",
]

STAGE = "route"
ROUTE = "tools"
MAX_LISTED = 20  # findings listed in one observation

# A repository-relative path of this change; checked again in code (no '..' part).
PATH_PATTERN = r"^[^-/\x00-\x1f][^\x00-\x1f]*$"
PATHS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "changed files to check, repository-relative; default: the file under review",
    "items": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": PATH_PATTERN},
    "maxItems": 20,
}


@dataclass(frozen=True, slots=True)
class ToolResult:
    findings: tuple[Finding, ...] = ()
    observation: str = ""  # what the model reads back
    skipped: tuple[Skipped, ...] = ()
    anchored_only: bool = True  # False: keep the findings even off the changed lines (failing tests)
    error: bool = False  # the call itself was refused (unknown tool, bad arguments)
    notes: tuple[str, ...] = ()  # for the report: a sandbox limit that could not be applied here, ...


Runner = Callable[[ChangeSet, Mapping[str, Any]], ToolResult]


def _ready() -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON schema of the arguments object
    runner: Runner
    check: Callable[[], str | None] = _ready  # why it cannot run here, or None

    def spec(self) -> dict[str, Any]:
        """The tool as a chat template's ``tools`` entry (OpenAI / Qwen2.5 function format)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


class Registry:
    """An allow-list of tools by name."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            if t.name in self._tools:
                raise ValueError(f"tool {t.name!r} registered twice")
            jsonschema.Draft202012Validator.check_schema(t.parameters)
            self._tools[t.name] = t
        self._checked: dict[str, str | None] = {}

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def why_unavailable(self, name: str) -> str | None:
        """None when the tool can run here, else the reason (cached: the check may start a process)."""
        if name not in self._checked:
            self._checked[name] = self._tools[name].check()
        return self._checked[name]

    def available(self) -> Registry:
        """The tools that can run here (installed; pytest: the sandbox starts)."""
        sub = Registry(t for t in self if self.why_unavailable(t.name) is None)
        sub._checked = {n: None for n in sub.names}
        return sub

    def unavailable(self) -> tuple[tuple[str, str], ...]:
        """(name, reason) of each tool that cannot run here, for a report's notes."""
        out = []
        for t in self:
            reason = self.why_unavailable(t.name)
            if reason is not None:
                out.append((t.name, reason))
        return tuple(out)

    def validate(self, name: str, arguments: object) -> str | None:
        """The first problem with a call, as one line for the model; None when it may run."""
        tool = self._tools.get(name)
        if tool is None:
            return f"unknown tool {name!r}; the tools are: {', '.join(self.names)}"
        if not isinstance(arguments, Mapping):
            return f"{name}: arguments must be a JSON object"
        validator = jsonschema.Draft202012Validator(tool.parameters)
        errors = sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            where = ".".join(str(p) for p in e.absolute_path)
            return f"{name}: invalid arguments: {where + ': ' if where else ''}{short(e.message)}"
        return None

    def call(self, name: str, changeset: ChangeSet, arguments: object) -> ToolResult:
        """Validate, then run. Refusals and failures come back in the result, never as exceptions."""
        problem = self.validate(name, arguments)
        if problem is not None:
            return ToolResult(observation=problem, error=True)
        assert isinstance(arguments, Mapping)
        return self._tools[name].runner(changeset, arguments)


def short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# helpers for runners


def paths_argument(arguments: Mapping[str, Any]) -> list[str] | None:
    paths = arguments.get("paths")
    return [str(p) for p in paths] if paths else None


def _safe(path: str) -> bool:
    return bool(path) and not os.path.isabs(path) and ".." not in path.replace("\\", "/").split("/")


def select_paths(
    changeset: ChangeSet, requested: Sequence[str] | None, suffixes: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The changed files (existing at head, ending in one of ``suffixes``) to check, and notes on
    requested paths that were left out. Without a request: every such changed file."""
    changed = [
        f.new_path
        for f in changeset.files
        if f.new_path is not None and f.status is not FileStatus.DELETED and not f.is_binary
    ]
    if requested is None:
        return [p for p in changed if p.endswith(tuple(suffixes))], []
    chosen: list[str] = []
    notes: list[str] = []
    for p in requested:
        p = p.strip().removeprefix("./")
        if not _safe(p) or p not in changed:
            notes.append(f"{p}: not a file of this change")
        elif not p.endswith(tuple(suffixes)):
            notes.append(f"{p}: not a {'/'.join(suffixes)} file")
        elif p not in chosen:
            chosen.append(p)
    return chosen, notes


def render_findings(findings: Sequence[Finding], limit: int = MAX_LISTED) -> str:
    lines = []
    for f in findings[:limit]:
        loc = f.location
        where = f"{loc.path}:{loc.start_line}-{loc.line}" if loc.start_line else f"{loc.path}:{loc.line}"
        lines.append(f"{where}: {f.severity} {f.rule.split('/', 1)[-1]}: {short(f.message, 300)}")
    if len(findings) > limit:
        lines.append(f"... and {len(findings) - limit} more")
    return "\n".join(lines)


def lint_result(
    name: str,
    changeset: ChangeSet,
    findings: Iterable[Finding],
    skipped: Iterable[Skipped] = (),
    *,
    checked: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> ToolResult:
    """Findings kept on added lines, stamped with the tools route, and an observation for the model."""
    stamped = [dataclasses.replace(f, route=ROUTE) for f in findings]
    kept, dropped = filter_to_diff(stamped, changeset.files, "added")
    skipped = tuple(Skipped(s.path, s.reason, STAGE) for s in skipped)
    lines = list(notes)
    if checked:
        shown = ", ".join(checked[:5]) + (f" and {len(checked) - 5} more" if len(checked) > 5 else "")
        lines.append(f"{name} checked {shown}")
    lines += [s.reason for s in skipped]
    if kept:
        lines.append(f"{len(kept)} finding(s) on changed lines:")
        lines.append(render_findings(kept))
    elif checked:
        lines.append("no findings on changed lines")
    if dropped:
        lines.append(f"({dropped} more on unchanged lines, not shown)")
    return ToolResult(kept, "\n".join(lines), skipped)


def no_files(name: str, notes: Sequence[str], what: str) -> ToolResult:
    return ToolResult(observation="\n".join([*notes, f"{name}: no changed {what} files to check"]))


def failure(reason: str) -> ToolResult:
    """A tool that could not run: the reason for the model, and a Skipped for the report."""
    return ToolResult(observation=reason, skipped=(Skipped("*", reason, STAGE),))


def not_installed(name: str) -> ToolResult:
    return failure(f"{name} is not installed")


def needs_checkout(name: str) -> ToolResult:
    return failure(f"{name} needs a checkout of the head revision (a git source with a clean work tree)")


def installed(executable: str) -> Callable[[], str | None]:
    def check() -> str | None:
        return None if which(executable) is not None else f"{os.path.basename(executable)} is not installed"

    return check


def paths_only(description: str) -> dict[str, Any]:
    """The arguments schema of a tool that takes only ``paths``."""
    return {
        "type": "object",
        "description": description,
        "properties": {"paths": PATHS_SCHEMA},
        "additionalProperties": False,
    }
