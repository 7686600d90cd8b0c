"""Python definitions of a source text (``ast``), and what changed between two versions of one.

    definitions(source) -> {key: Definition} | None (None: the text does not parse)
    compare(old, new) -> (Symbols added, removed and changed, module-level details)

A definition is a ``def``, ``async def`` or ``class`` at any depth; its name is qualified by the
definitions around it (``Flask.run``, ``outer.inner``), and a later definition of the same name in
the same scope (a property's setter, an overload) gets ``#2``, ``#3`` in its key. Its *own* lines
are its source lines, decorators included, less the lines of the definitions nested in it: a
method that changed is named, and its class is named as well only when lines of the class itself
(its bases, decorators, attributes) changed. A definition whose own lines differ but whose syntax
tree does not is "changed (comments or formatting only)".
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .model import Detail, Symbol, detail

__all__ = ["Definition", "compare", "definitions", "signature_changes"]

_NEWLINE = re.compile(r"\r\n|\r|\n")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
DefNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True, slots=True)
class Definition:
    key: str  # the qualified name, with "#2"... for a later definition of the same name in a scope
    name: str  # the qualified name
    kind: str  # "class", "function" or "method"
    first: int  # its first line, decorators included
    last: int
    own: tuple[str, ...]  # its own source lines (nested definitions left out)
    node: DefNode


def split_lines(source: str) -> list[str]:
    """Lines as Python numbers them (not ``str.splitlines``, which also splits at form feeds)."""
    lines = _NEWLINE.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _kind(node: DefNode, in_class: bool) -> str:
    if isinstance(node, ast.ClassDef):
        return "class"
    return "method" if in_class else "function"


def _children(body: list[ast.stmt]) -> Iterator[DefNode]:
    """The definitions directly in a body, also inside if/try/with/for/while/match blocks."""
    for stmt in body:
        if isinstance(stmt, _DEFS):
            yield stmt
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                for part in inner:
                    if isinstance(part, ast.stmt):
                        yield from _children([part])
                    elif isinstance(part, (ast.ExceptHandler, ast.match_case)):
                        yield from _children(part.body)


def _span(node: DefNode) -> tuple[int, int]:
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return first, node.end_lineno or node.lineno


def definitions(source: str) -> dict[str, Definition] | None:
    """Every definition of ``source`` by key, in source order; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte
        return None
    lines = split_lines(source)
    out: dict[str, Definition] = {}

    def visit(body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        seen: dict[str, int] = {}
        for node in _children(body):
            name = prefix + node.name
            seen[name] = seen.get(name, 0) + 1
            key = name if seen[name] == 1 else f"{name}#{seen[name]}"
            first, last = _span(node)
            nested = [_span(c) for c in _children(node.body)]
            own = tuple(
                lines[i - 1]
                for i in range(first, last + 1)
                if i <= len(lines) and not any(a <= i <= b for a, b in nested)
            )
            out[key] = Definition(key, name, _kind(node, in_class), first, last, own, node)
            visit(node.body, name + ".", isinstance(node, ast.ClassDef))

    visit(tree.body, "", False)
    return out


def module_statements(source: str) -> list[str] | None:
    """The module's own top-level statements (not definitions, not imports), position-free."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    skip = (*_DEFS, ast.Import, ast.ImportFrom)
    return [ast.dump(s, annotate_fields=False) for s in tree.body if not isinstance(s, skip)]


def imports(source: str) -> set[str]:
    """The module-level imports of ``source`` as ``import x`` / ``from m import x`` texts."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    out: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Import):
            out.update(f"import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            mod = "." * stmt.level + (stmt.module or "")
            out.update(
                f"from {mod} import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in stmt.names
            )
        elif isinstance(stmt, (ast.If, ast.Try)):  # `if TYPE_CHECKING:`, `try: import x except ...`
            stack.extend(stmt.body)
            stack.extend(stmt.orelse)
            if isinstance(stmt, ast.Try):
                stack.extend(stmt.finalbody)
                for h in stmt.handlers:
                    stack.extend(h.body)
    return out


# ------------------------------------------------------------------------------------ signatures


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, str, ast.arg, ast.expr | None]]:
    """(name, kind, arg, default) of every parameter, in order."""
    a = node.args
    positional = a.posonlyargs + a.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [
        (p.arg, "positional-only" if i < len(a.posonlyargs) else "positional", p, d)
        for i, (p, d) in enumerate(zip(positional, defaults, strict=True))
    ]
    if a.vararg:
        out.append((a.vararg.arg, "*args", a.vararg, None))
    out += [(p.arg, "keyword-only", p, d) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    if a.kwarg:
        out.append((a.kwarg.arg, "**kwargs", a.kwarg, None))
    return out


def _text(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def signature_changes(old: DefNode, new: DefNode) -> list[Detail]:
    """What changed in a definition's signature: parameters, defaults, annotations, decorators,
    bases, ``async``; each as a short phrase with the code quoted in backticks."""
    out: list[Detail] = []
    if isinstance(old, ast.ClassDef) != isinstance(new, ast.ClassDef):
        return [detail("became a class" if isinstance(new, ast.ClassDef) else "became a function")]
    if isinstance(old, ast.AsyncFunctionDef) != isinstance(new, ast.AsyncFunctionDef):
        became = isinstance(new, ast.AsyncFunctionDef)
        out.append(detail("became {}" if became else "no longer {}", "async"))
    old_dec = [ast.unparse(d) for d in old.decorator_list]
    new_dec = [ast.unparse(d) for d in new.decorator_list]
    out += [detail("decorator {} added", "@" + d) for d in new_dec if d not in old_dec]
    out += [detail("decorator {} removed", "@" + d) for d in old_dec if d not in new_dec]
    if isinstance(old, ast.ClassDef) and isinstance(new, ast.ClassDef):
        ob = [ast.unparse(b) for b in old.bases] + [ast.unparse(k) for k in old.keywords]
        nb = [ast.unparse(b) for b in new.bases] + [ast.unparse(k) for k in new.keywords]
        if ob != nb:
            out.append(detail("bases {} became {}", f"({', '.join(ob)})", f"({', '.join(nb)})"))
        return out
    assert not isinstance(old, ast.ClassDef) and not isinstance(new, ast.ClassDef)
    op, np_ = _params(old), _params(new)
    onames, nnames = [p[0] for p in op], [p[0] for p in np_]
    renamed: dict[str, str] = {}
    if len(op) == len(np_) and onames != nnames:
        pairs = [(o, n) for o, n in zip(op, np_, strict=True) if o[0] != n[0]]
        if all(o[1] == n[1] and o[0] not in nnames and n[0] not in onames for o, n in pairs):
            renamed = {o[0]: n[0] for o, n in pairs}
    out += [detail("parameter {} renamed to {}", o, n) for o, n in renamed.items()]
    out += [detail("parameter {} added", n) for n in nnames if n not in onames and n not in renamed.values()]
    out += [detail("parameter {} removed", o) for o in onames if o not in nnames and o not in renamed]
    by_name = {p[0]: p for p in np_}
    for name, kind, arg, default in op:
        new_p = by_name.get(renamed.get(name, name))
        if new_p is None:
            continue
        shown = new_p[0]
        if kind != new_p[1]:
            out.append(detail(f"parameter {{}} became {new_p[1]} (was {kind})", shown))
        od, nd = _text(default), _text(new_p[3])
        if od != nd:
            if od is None:
                out.append(detail("parameter {} got the default {}", shown, str(nd)))
            elif nd is None:
                out.append(detail("parameter {} lost its default {}", shown, od))
            else:
                out.append(detail("default of {} changed from {} to {}", shown, od, nd))
        oa, na = _text(arg.annotation), _text(new_p[2].annotation)
        if oa != na:
            if oa and na:
                out.append(detail("annotation of {} changed from {} to {}", shown, oa, na))
            else:
                out.append(detail(f"annotation of {{}} {'added' if na else 'removed'}", shown))
    orr, nr = _text(old.returns), _text(new.returns)
    if orr != nr:
        if orr and nr:
            out.append(detail("return annotation changed from {} to {}", orr, nr))
        else:
            out.append(detail(f"return annotation {'added' if nr else 'removed'}"))
    return out


def _body(node: DefNode) -> str:
    """The node's body without its nested definitions, position-free: equal when only comments or
    formatting differ."""
    body = [ast.Pass() if isinstance(s, _DEFS) else s for s in node.body]
    return "\n".join(ast.dump(s, annotate_fields=False, include_attributes=False) for s in body)


def _shape(node: DefNode) -> str:
    """The node's syntax without its name (for renames)."""
    clone = type(node)(**{f: getattr(node, f, None) for f in node._fields})
    clone.name = "_"
    return ast.dump(clone, annotate_fields=False, include_attributes=False)


def compare(old: dict[str, Definition], new: dict[str, Definition]) -> list[Symbol]:
    """Definitions added, removed, renamed and changed from ``old`` to ``new``, in new-file order
    (removed ones after, in old-file order)."""
    added = [d for k, d in new.items() if k not in old]
    removed = [d for k, d in old.items() if k not in new]
    renames: dict[str, Definition] = {}  # new key -> old definition
    if added and removed:
        shapes: dict[str, list[Definition]] = {}
        for d in removed:
            shapes.setdefault(_shape(d.node), []).append(d)
        for d in added:
            same = shapes.get(_shape(d.node))
            if same and d.name.rpartition(".")[0] == same[0].name.rpartition(".")[0]:
                renames[d.key] = same.pop(0)
    renamed_old = {d.key for d in renames.values()}
    out: list[Symbol] = []
    for key, d in new.items():
        if key in renames:
            was = renames[key]
            out.append(
                Symbol(d.name, d.kind, "renamed", (detail("renamed from {}", was.name),), d.first, was.name)
            )
        elif key not in old:
            out.append(Symbol(d.name, d.kind, "added", (), d.first))
        else:
            o = old[key]
            if o.own == d.own:
                continue
            details = signature_changes(o.node, d.node)
            if _body(o.node) != _body(d.node):
                details.append(
                    detail("class-level statements changed" if d.kind == "class" else "body changed")
                )
            elif not details:
                details.append(detail("comments or formatting only"))
            out.append(Symbol(d.name, d.kind, "changed", tuple(details), d.first))
    for key, d in old.items():
        if key not in new and key not in renamed_old:
            out.append(Symbol(d.name, d.kind, "removed", (), d.first))
    return out
