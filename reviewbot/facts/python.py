"""The Python account of a changed line: each side parsed as one statement (a block opener such as
``if x:``, ``elif``, ``else:``, ``except``, a decorator or a ``def`` header is completed so that it
parses, and nothing of the line itself is altered) and the two trees compared down to their
smallest differences (``describe`` names each by its kind). Quotes are source segments of the
line, so they are exact."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .tokens import quotable, quote

# Completions that make one line of a block parse; the line keeps its own characters and offsets.
_WRAPS = (
    ("elif ", lambda s: "if  " + s[4:] + "\n    pass"),
    ("else", lambda s: "if _:\n    pass\n" + s + "\n    pass"),
    ("except", lambda s: "try:\n    pass\n" + s + "\n    pass"),
    ("finally", lambda s: "try:\n    pass\n" + s + "\n    pass"),
    ("@", lambda s: s + "\ndef _():\n    pass"),
    ("try", lambda s: s + "\n    pass\nfinally:\n    pass"),
)


@dataclass(frozen=True, slots=True)
class Stmt:
    node: ast.AST  # the statement (or except handler) the line is
    src: str  # the text it was parsed from; segments of it are exact text of the line
    line: str  # the line, stripped
    part: str = ""  # "params" or "args" when the line is only part of a definition's or call's list


def parse_line(text: str, partial: bool = False) -> Stmt | None:
    """One line as a statement, or None when it is not one on its own (part of a longer one).
    ``partial``: a line that is not a statement may still be read as part of the parameters of a
    definition or of the arguments of a call that spans several lines."""
    s = text.strip()
    if not s or s.startswith("#"):
        return None
    srcs = [s]
    for prefix, wrap in _WRAPS:
        if s.startswith(prefix) and s.endswith(":") or prefix == "@" and s.startswith("@"):
            srcs = [wrap(s)]
            break
    else:
        if s.endswith(":"):
            srcs.append(s + "\n    pass")
    for src in srcs:
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError):
            continue
        if len(tree.body) != 1:
            return None
        node = tree.body[0]
        if s.startswith(("except", "finally")) and isinstance(node, ast.Try):
            node = node.handlers[0] if node.handlers else node
        return Stmt(node, src, s)
    if partial:
        for part, src in (("params", f"def _(\n{s}\n): pass"), ("args", f"_(\n{s}\n)")):
            try:
                tree = ast.parse(src)
            except (SyntaxError, ValueError):
                continue
            return Stmt(tree.body[0], src, s, part)
    return None


def segment(stmt: Stmt, node: ast.AST) -> str | None:
    try:
        seg = ast.get_source_segment(stmt.src, node)
    except (AttributeError, TypeError):
        return None
    if seg is None or seg not in stmt.line:
        return None
    return seg


def quote_of(stmt: Stmt, node: ast.AST) -> str:
    seg = segment(stmt, node)
    return quote(seg) if seg and quotable(seg) else quote(stmt.line) if quotable(stmt.line) else "it"


def same(a: ast.AST | None, b: ast.AST | None) -> bool:
    if a is None or b is None:
        return a is b
    return ast.dump(a) == ast.dump(b)


_WHOLE = (ast.Compare, ast.Slice, ast.Return, ast.Import, ast.ImportFrom, ast.arguments)


def differences(a: ast.AST, b: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """The smallest pairs of subtrees where two trees differ (a node of a kind that is described as
    a whole, such as a comparison or a call to ``range``, is not split further)."""
    if same(a, b):
        return []
    if type(a) is not type(b) or isinstance(a, _WHOLE) or is_range(a):
        return [(a, b)]
    if isinstance(a, ast.ExceptHandler) and isinstance(b, ast.ExceptHandler) and not same(a.type, b.type):
        return [(a, b)]
    if isinstance(a, ast.BoolOp) and isinstance(b, ast.BoolOp):
        if type(a.op) is not type(b.op) or len(a.values) != len(b.values):
            return [(a, b)]
    if isinstance(a, ast.Subscript) and isinstance(b, ast.Subscript) and same(a.value, b.value):
        if isinstance(a.slice, ast.Slice) or isinstance(b.slice, ast.Slice):
            return [(a, b)]
    if (
        isinstance(a, ast.Call)
        and isinstance(b, ast.Call)
        and (
            len(a.args) != len(b.args)
            or [k.arg for k in a.keywords] != [k.arg for k in b.keywords]
            or not same(a.func, b.func)
            and all(same(x, y) for x, y in zip(a.args, b.args))
        )
    ):
        return [(a, b)]
    out: list[tuple[ast.AST, ast.AST]] = []
    for name in a._fields:
        va, vb = getattr(a, name, None), getattr(b, name, None)
        if isinstance(va, list) and isinstance(vb, list):
            if len(va) != len(vb):
                return [(a, b)]
            for x, y in zip(va, vb):
                if isinstance(x, ast.AST) and isinstance(y, ast.AST):
                    out.extend(differences(x, y))
                elif x != y:
                    return [(a, b)]
        elif isinstance(va, ast.AST) and isinstance(vb, ast.AST):
            if not isinstance(va, ast.expr_context):
                out.extend(differences(va, vb))
        elif va != vb and not (isinstance(va, ast.AST) or isinstance(vb, ast.AST)):
            return [(a, b)]
        elif (va is None) != (vb is None):
            return [(a, b)]
    if isinstance(a, ast.Call) and len(out) > 1 and swapped(a, b):
        return [(a, b)]
    return out or [(a, b)]


def is_range(n: ast.AST) -> bool:
    return isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "range"


def swapped(a: ast.Call, b: ast.Call) -> bool:
    da, db = [ast.dump(x) for x in a.args], [ast.dump(x) for x in b.args]
    return len(da) > 1 and da != db and sorted(da) == sorted(db)
