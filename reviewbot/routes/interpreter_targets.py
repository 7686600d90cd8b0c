"""What the interpreter route tests: the changed definitions of a Python file, and the import lines
that bring one into a test module (see routes/interpreter.py, step 1 and 2)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = ["ChangedDefinition", "header", "module_of", "targets"]


@dataclass(frozen=True, slots=True)
class ChangedDefinition:
    qualname: str  # add, Stack.push, Stack
    import_name: str  # the top-level name to import: add, Stack
    line: int  # the first added line inside it: where the finding goes
    new: bool  # its def/class line is an added line
    changed: int  # added lines inside it
    code: str  # its source at head (for a method: the class header, __init__ and the method)


def _span(node: ast.AST) -> tuple[int, int]:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])  # type: ignore[attr-defined]
    return first, node.end_lineno or node.lineno  # type: ignore[attr-defined]


def _segment(lines: list[str], node: ast.AST) -> str:
    lo, hi = _span(node)
    return "\n".join(lines[lo - 1 : hi])


def targets(source: str, added: set[int]) -> list[ChangedDefinition]:
    """The definitions holding added lines, best first (see routes/interpreter.py, step 1)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: dict[str, ChangedDefinition] = {}

    def add(qual: str, imp: str, inside: list[int], new: bool, code: str) -> None:
        if inside:  # a name defined twice: the later definition is the one Python keeps
            found[qual] = ChangedDefinition(qual, imp, min(inside), new, len(inside), code)

    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, funcs):
            lo, hi = _span(node)
            add(
                node.name,
                node.name,
                [n for n in added if lo <= n <= hi],
                node.lineno in added,
                _segment(lines, node),
            )
        elif isinstance(node, ast.ClassDef):
            lo, hi = _span(node)
            in_class = [n for n in added if lo <= n <= hi]
            if not in_class:
                continue
            header_end = node.body[0].lineno - 1 if node.body else node.lineno
            header = "\n".join(lines[lo - 1 : max(lo, header_end)])
            init = next((m for m in node.body if isinstance(m, funcs) and m.name == "__init__"), None)
            rest = list(in_class)
            for m in node.body:
                if not isinstance(m, funcs):
                    continue
                mlo, mhi = _span(m)
                inside = [n for n in in_class if mlo <= n <= mhi]
                if not inside:
                    continue
                rest = [n for n in rest if n not in inside]
                dunder = m.name.startswith("__") and m.name.endswith("__")
                if dunder:
                    rest += inside
                    continue
                parts = [header]
                if init is not None:
                    parts.append(_segment(lines, init))
                parts.append(_segment(lines, m))
                add(f"{node.name}.{m.name}", node.name, inside, m.lineno in added, "\n    ...\n".join(parts))
            if rest:
                add(node.name, node.name, rest, node.lineno in added, _segment(lines, node))
    return sorted(found.values(), key=lambda t: (not t.new, -t.changed, t.line))


def module_of(path: str, exists: Any) -> tuple[str, str] | None:
    """(import root relative to the checkout, dotted module name) of a file, or None when it cannot
    be imported by name. The root is the directory above the outermost package (``__init__.py``)."""
    parts = PurePosixPath(path).with_suffix("").parts
    if not parts:
        return None
    dirs = list(parts[:-1])
    i = len(dirs)
    while i > 0 and exists("/".join([*dirs[:i], "__init__.py"])):
        i -= 1
    names = [*dirs[i:], parts[-1]]
    if names[-1] == "__init__":
        names = names[:-1]
    if not names or not all(n.isidentifier() for n in names):
        return None
    return "/".join(dirs[:i]), ".".join(names)


def header(root: str, module: str, name: str) -> str:
    lines = []
    if root:
        lines += [
            "import os, sys",
            f"sys.path.insert(0, os.path.join(os.environ['PYTHONPATH'].split(os.pathsep)[0], {root!r}))",
        ]
    lines.append(f"from {module} import {name}")
    return "\n".join(lines) + "\n"
