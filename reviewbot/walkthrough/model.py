"""The walkthrough's data: what a change does, per file. Frozen, built by ``walk``, rendered by
``reporters.walkthrough``."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import FileStatus, Skipped

__all__ = ["Detail", "FileWalk", "Symbol", "Walkthrough", "detail", "listing", "plain"]

# A phrase with code in it: prose and code alternate, prose at the even places
# (("default of ", "x", " changed from ", "1", " to ", "2", "")), so that each renderer quotes
# the code its own way and no code from the change is ever read as markup.
Detail = tuple[str, ...]


def detail(template: str, *code: str) -> Detail:
    """``template``'s ``{}`` places filled with ``code``: ``detail("parameter {} added", "x")``."""
    prose = template.split("{}")
    assert len(prose) == len(code) + 1, template
    out: list[str] = []
    for text, c in zip(prose, code, strict=False):
        out += [text, c]
    out.append(prose[-1])
    return tuple(out)


def listing(prefix: str, code: list[str] | tuple[str, ...]) -> Detail:
    """``prefix`` and the code items, comma-separated: ``listing("imports added: ", ["import x"])``."""
    return detail(prefix + ", ".join(["{}"] * len(code)), *code)


def plain(d: Detail) -> str:
    """The phrase with its code in backticks (JSON, logs)."""
    return "".join(part if i % 2 == 0 else f"`{part}`" for i, part in enumerate(d))


@dataclass(frozen=True, slots=True)
class Symbol:
    """A function or class the change added, removed, renamed or changed."""

    name: str  # qualified: "Flask.run", "outer.inner"
    kind: str  # "class", "function", "method" or "definition" (another language's def line)
    change: str  # "added", "removed", "renamed" or "changed"
    details: tuple[Detail, ...] = ()  # "parameter `x` added", "body changed", ...
    line: int | None = None  # its first line: in the old file when removed, else in the new one
    was: str | None = None  # the old name of a renamed definition

    @property
    def is_test(self) -> bool:
        last = self.name.rsplit(".", 1)[-1]
        return last.startswith("test") or (self.kind == "class" and last.startswith("Test"))


@dataclass(frozen=True, slots=True)
class FileWalk:
    path: str
    old_path: str | None
    status: FileStatus
    added: int  # lines
    removed: int
    role: str  # "code", "test", "dependencies", "ci", "build", "config", "docs" or "other"
    symbols: tuple[Symbol, ...] = ()
    details: tuple[Detail, ...] = ()  # file-level: imports added/removed, dependencies, module-level code
    basis: str = ""  # how it was walked: "old and new file", "the diff's lines", "line counts", ...
    skipped: str | None = None  # why the review left the file out (its symbols are not walked)


@dataclass(frozen=True, slots=True)
class Walkthrough:
    description: str  # the change: "git abc1234..def5678", "diff file x.diff"
    files: tuple[FileWalk, ...]
    not_reviewed: tuple[Skipped, ...]  # every file or item the review left out, with its reason

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        return tuple(s for f in self.files for s in f.symbols)
