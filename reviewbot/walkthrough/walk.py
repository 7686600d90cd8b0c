"""ChangeSet -> Walkthrough: what the change does, per file, deterministically (no model).

- Python: ``ast`` on the old and new file wherever the change gives both (``texts``: an added or
  deleted file, a file the diff shows whole, or the head through ``read_head`` with the hunks taken
  back for the base); otherwise the diff's own lines (``fragments``). Each file says which.
- Other languages: line counts, and the definition lines of common languages in the diff.
- Files the review leaves out (vendored, generated, lock and binary files...) are not walked; each
  keeps the reason. A deleted file is walked (what it removes is worth saying).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import ChangeSet, FileDiff, FileStatus, LineKind, Skipped
from .fragments import other_definitions, python_fragments
from .model import Detail, FileWalk, Symbol, Walkthrough, detail, listing
from .roles import requirements, role
from .symbols import compare, definitions, imports, module_statements
from .texts import context_width, texts

__all__ = ["walk"]

_PYTHON = (".py", ".pyi", ".pyw")
MAX_IMPORTS = 6  # import statements named per file and direction


def _grouped(names: list[str]) -> list[str]:
    """``from m import a`` and ``from m import b`` as ``from m import a, b``."""
    out: dict[str, list[str]] = {}
    for n in names:
        head, sep, name = n.partition(" import ")
        key = head if head.startswith("from ") else n
        out.setdefault(key, []).append(name if head.startswith("from ") else "")
    return [k + (" import " + ", ".join(v) if k.startswith("from ") else "") for k, v in out.items()]


def _imports(old: str, new: str) -> list[Detail]:
    before, after = imports(old), imports(new)
    out = []
    for what, names in (("added", after - before), ("removed", before - after)):
        if grouped := _grouped(sorted(names)):
            d = listing(f"imports {what}: ", grouped[:MAX_IMPORTS])
            more = len(grouped) - MAX_IMPORTS
            out.append(d[:-1] + (d[-1] + f" and {more} more",) if more > 0 else d)
    return out


def _python(f: FileDiff, read_head, width: int) -> tuple[list[Symbol], list[Detail], str]:
    """Python: ``ast`` where the texts are known, the diff's lines otherwise; code nested too deeply
    for Python's own recursion limit (untrusted input can be) gets its line counts only."""
    try:
        return _python_walk(f, read_head, width)
    except (RecursionError, MemoryError):
        return [], [], "line counts (the code is nested too deeply to walk)"


def _python_walk(f: FileDiff, read_head, width: int) -> tuple[list[Symbol], list[Detail], str]:
    got = texts(f, read_head, width)
    if got is not None:
        old, new, basis = got
        before, after = definitions(old), definitions(new)
        if before is not None and after is not None:
            whole = f.status in (FileStatus.ADDED, FileStatus.DELETED)  # its imports are no news
            details = [] if whole else _imports(old, new)
            moved = module_statements(old) != module_statements(new)
            if moved and f.status not in (FileStatus.ADDED, FileStatus.DELETED):
                details.append(detail("module-level statements changed"))
            return compare(before, after), details, basis + " (ast)"
        side = "old" if before is None else "new"
        found, details = python_fragments(f)
        return found, details, f"the diff's lines (the {side} file does not parse)"
    found, details = python_fragments(f)
    return found, details, "the diff's lines (the whole files are not in the change)"


def _file(f: FileDiff, skipped: str | None, read_head, width: int) -> FileWalk:
    path = f.path
    kinds = [ln.kind for h in f.hunks for ln in h.lines]  # one pass (a 300,000-line diff is walked too)
    base = dict(
        path=path,
        old_path=f.old_path,
        status=f.status,
        added=kinds.count(LineKind.ADDED),
        removed=kinds.count(LineKind.REMOVED),
        role=role(path),
        skipped=skipped,
    )
    if skipped is not None and f.status is not FileStatus.DELETED:
        return FileWalk(**base, basis="not walked (not reviewed)")
    if f.is_binary or not f.hunks:
        return FileWalk(**base, basis="no lines changed")
    details = requirements(f)
    if path.lower().endswith(_PYTHON):
        found, more, basis = _python(f, read_head, width)
        return FileWalk(**base, symbols=tuple(found), details=tuple(details + more), basis=basis)
    other = other_definitions(f)
    if other is not None:
        return FileWalk(
            **base, symbols=tuple(other), details=tuple(details), basis="the diff's definition lines"
        )
    return FileWalk(**base, details=tuple(details), basis="line counts")


def walk(cs: ChangeSet, skipped: Sequence[Skipped] = ()) -> Walkthrough:
    """The walkthrough of ``cs``; ``skipped``: what the review (or the plan) left out, and why."""
    why = {s.path: s.reason for s in skipped if s.stage == "plan"}
    width = context_width(cs.files)
    files = tuple(_file(f, why.get(f.path), cs.read_head, width) for f in cs.files)
    return Walkthrough(cs.description, files, tuple(skipped))
