"""What a changed Python line did, named by kind: each smallest difference of the two parsed
statements (``python.differences``) described with exact quotes, or a statement added or removed
alone, with its consequence where it holds without guessing."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .python import Stmt, differences, is_range, quote_of, same, swapped
from .tokens import quotable, quote


@dataclass(frozen=True, slots=True)
class Said:
    kind: str
    text: str
    consequence: str | None = None


_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_NEGATED = {frozenset(p) for p in ((ast.Eq, ast.NotEq), (ast.Is, ast.IsNot), (ast.In, ast.NotIn))}
_EQUAL_SIDES = {
    (ast.GtE, ast.Gt): "where the two sides are equal it is now false",
    (ast.LtE, ast.Lt): "where the two sides are equal it is now false",
    (ast.Gt, ast.GtE): "where the two sides are equal it is now true",
    (ast.Lt, ast.LtE): "where the two sides are equal it is now true",
}
INVERTED = "the test is inverted: it is now true exactly where it was false"


def describe(a: ast.AST, b: ast.AST, old: Stmt, new: Stmt) -> Said:
    """One difference, named by its kind."""
    qa, qb = quote_of(old, a), quote_of(new, b)
    became = f"{qa} became {qb}"
    if isinstance(a, ast.Compare) and isinstance(b, ast.Compare):
        return _compare(a, b, became)
    if isinstance(a, ast.BoolOp) or isinstance(b, ast.BoolOp):
        said = _boolop(a, b, old, new, became)
        if said:
            return said
    if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.Not) and same(a.operand, b):
        return Said("negation-dropped", f"The negation was dropped: {became}.", INVERTED)
    if isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.Not) and same(b.operand, a):
        return Said("negation-added", f"The test is now negated: {became}.", INVERTED)
    if isinstance(a, ast.Await) and same(a.value, b):
        return Said("await-dropped", f"`await` was dropped: {became}.", f"{qb} is no longer awaited here")
    if isinstance(b, ast.Await) and same(b.value, a):
        return Said("await-added", f"`await` was added: {became}.")
    if isinstance(a, (ast.Yield, ast.YieldFrom)) and a.value is not None and same(a.value, b):
        return Said("yield-dropped", f"The `yield` was dropped: {became}.")
    if isinstance(a, ast.Call) and any(same(x, b) for x in a.args):
        return Said(
            "call-replaced-by-argument",
            f"The call was replaced by its argument: {became}.",
            f"{quote_of(old, a.func)} is no longer called here",
        )
    if isinstance(b, ast.Call) and any(same(x, a) for x in b.args):
        return Said("call-wrapped", f"The value is now passed through a call: {became}.")
    if isinstance(a, ast.Call) and isinstance(b, ast.Call):
        return _call(a, b, old, new, became)
    if isinstance(a, (ast.Slice, ast.Subscript)) and isinstance(b, (ast.Slice, ast.Subscript)):
        return Said("slice-changed", f"The slice bounds changed: {became}.")
    if isinstance(a, ast.Return) and isinstance(b, ast.Return):
        return _return(a, b, old, new, became)
    if isinstance(a, (ast.Import, ast.ImportFrom)) and isinstance(b, (ast.Import, ast.ImportFrom)):
        return _imports(a, b, old, new)
    if isinstance(a, ast.arguments) and isinstance(b, ast.arguments):
        return _params(a, b, old, new)
    if isinstance(a, ast.Constant) and isinstance(b, ast.Constant):
        return Said("constant-changed", f"The constant {qa} became {qb}.")
    if isinstance(a, ast.keyword) and isinstance(b, ast.keyword):
        return Said("argument-changed", f"The keyword argument {became}.")
    if isinstance(a, ast.ExceptHandler) and isinstance(b, ast.ExceptHandler) and a.type and b.type:
        return Said(
            "except-changed",
            f"The exception handler now catches {quote_of(new, b.type)} instead of {quote_of(old, a.type)}.",
        )
    if isinstance(a, ast.stmt) and isinstance(b, ast.stmt) and type(a) is not type(b):
        if isinstance(a, ast.Return):
            return Said(
                "return-removed",
                f"The return statement {qa} was replaced by {qb}.",
                "this line no longer returns",
            )
        if isinstance(a, ast.Raise):
            return Said(
                "raise-removed",
                f"The raise statement {qa} was replaced by {qb}.",
                "this line no longer raises",
            )
        return Said("statement-replaced", f"The statement {qa} was replaced by {qb}.")
    return Said("changed", f"The code {became}.")


def _compare(a: ast.Compare, b: ast.Compare, became: str) -> Said:
    same_operands = (
        same(a.left, b.left)
        and len(a.comparators) == len(b.comparators)
        and all(same(x, y) for x, y in zip(a.comparators, b.comparators))
    )
    if not same_operands:
        return Said("comparison-changed", f"The comparison {became}.")
    changed = [(type(x), type(y)) for x, y in zip(a.ops, b.ops) if type(x) is not type(y)]
    if len(changed) == 1:
        x, y = changed[0]
        if frozenset((x, y)) in _NEGATED:
            return Said("comparison-negated", f"The comparison was negated: {became}.", INVERTED)
        return Said(
            "comparison-operator",
            f"The comparison operator `{_OPS[x]}` became `{_OPS[y]}`: {became}.",
            _EQUAL_SIDES.get((x, y)),
        )
    return Said("comparison-operator", f"The comparison operators changed: {became}.")


def _boolop(a: ast.AST, b: ast.AST, old: Stmt, new: Stmt, became: str) -> Said | None:
    if isinstance(a, ast.BoolOp) and isinstance(b, ast.BoolOp) and type(a.op) is not type(b.op):
        if len(a.values) == len(b.values) and all(same(x, y) for x, y in zip(a.values, b.values)):
            if isinstance(a.op, ast.And):
                return Said(
                    "boolean-operator",
                    f"`and` became `or`: {became}.",
                    "the condition now holds when any operand is true, not only when all are",
                )
            return Said(
                "boolean-operator",
                f"`or` became `and`: {became}.",
                "the condition now holds only when every operand is true",
            )
        return None
    av = a.values if isinstance(a, ast.BoolOp) else [a]
    bv = b.values if isinstance(b, ast.BoolOp) else [b]
    op = (a if isinstance(a, ast.BoolOp) else b).op
    if isinstance(a, ast.BoolOp) and isinstance(b, ast.BoolOp) and type(a.op) is not type(b.op):
        return None
    da, db = [ast.dump(x) for x in av], [ast.dump(x) for x in bv]
    word = "and" if isinstance(op, ast.And) else "or"
    if len(db) < len(da) and _subsequence(db, da):
        gone = [x for x in av if ast.dump(x) not in db]
        names = ", ".join(quote_of(old, x) for x in gone)
        one = len(gone) == 1
        if word == "and":
            then = f"the condition no longer requires {names}"
        else:
            then = f"{names} {'no longer makes' if one else 'no longer make'} the condition true"
        return Said(
            "operand-dropped",
            f"{'An operand was' if one else 'Operands were'} dropped from the condition: {became}.",
            then,
        )
    if len(da) < len(db) and _subsequence(da, db):
        new_ops = [x for x in bv if ast.dump(x) not in da]
        names = ", ".join(quote_of(new, x) for x in new_ops)
        one = len(new_ops) == 1
        then = f"the condition now also requires {names}" if word == "and" else None
        return Said(
            "operand-added",
            f"{'An operand was' if one else 'Operands were'} added to the condition: {became}.",
            then,
        )
    return None


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(x in it for x in small)


def _call(a: ast.Call, b: ast.Call, old: Stmt, new: Stmt, became: str) -> Said:
    if not same(a.func, b.func):
        same_args = len(a.args) == len(b.args) and all(same(x, y) for x, y in zip(a.args, b.args))
        what = "another function is called" if same_args else "the call changed"
        return Said("call-replaced", f"{what[0].upper()}{what[1:]}: {became}.")
    if is_range(a):
        return Said("range-changed", f"The `range` bounds changed: {became}.")
    if swapped(a, b):
        return Said("arguments-swapped", f"The arguments were reordered: {became}.")
    ka = {k.arg: k for k in a.keywords}
    kb = {k.arg: k for k in b.keywords}
    gone = [k for name, k in ka.items() if name not in kb]
    added = [k for name, k in kb.items() if name not in ka]
    if len(a.args) == len(b.args) and (gone or added) and all(same(x, y) for x, y in zip(a.args, b.args)):
        parts = []
        if gone:
            parts.append(f"the keyword argument {', '.join(quote_of(old, k) for k in gone)} was removed")
        if added:
            parts.append(f"the keyword argument {', '.join(quote_of(new, k) for k in added)} was added")
        text = " and ".join(parts)
        return Said("argument-changed", f"In the call to {quote_of(old, a.func)}, {text}.")
    values_a = sorted(ast.dump(x) for x in (*a.args, *(k.value for k in a.keywords)))
    values_b = sorted(ast.dump(x) for x in (*b.args, *(k.value for k in b.keywords)))
    if values_a == values_b:
        return Said("argument-changed", f"The same values are passed another way: {became}.")
    if len(a.args) > len(b.args):
        return Said("argument-removed", f"An argument was removed from the call: {became}.")
    if len(a.args) < len(b.args):
        return Said("argument-added", f"An argument was added to the call: {became}.")
    return Said("argument-changed", f"The call's arguments changed: {became}.")


def _return(a: ast.Return, b: ast.Return, old: Stmt, new: Stmt, became: str) -> Said:
    then = None
    if isinstance(b.value, ast.Constant) and not isinstance(a.value, ast.Constant):
        then = f"this statement now returns the constant {quote_of(new, b.value)} whatever the input"
    if a.value is not None and b.value is not None:
        inner = differences(a.value, b.value)
        if len(inner) == 1:  # a comparison, an operand, a call...: said as what it is, if it has a name
            said = describe(*inner[0], old, new)
            if said.kind not in ("changed", "constant-changed"):
                return said
        return Said(
            "return-value",
            f"The return value {quote_of(old, a.value)} became {quote_of(new, b.value)}.",
            then,
        )
    return Said("return-value", f"The return value was replaced: {became}.", then)


def _names(n: ast.Import | ast.ImportFrom) -> tuple[str, set[str]]:
    module = n.module or "" if isinstance(n, ast.ImportFrom) else ""
    return module, {a.asname or a.name for a in n.names}


def _imports(a: ast.AST, b: ast.AST, old: Stmt, new: Stmt) -> Said:
    ma, na = _names(a)  # type: ignore[arg-type]
    mb, nb = _names(b)  # type: ignore[arg-type]
    gone, added = sorted(na - nb), sorted(nb - na)
    if ma == mb and (gone or added):
        parts = []
        if gone:
            parts.append(
                f"{', '.join(quote(x) for x in gone)} {'is' if len(gone) == 1 else 'are'} no longer imported"
            )
        if added:
            parts.append(
                f"{', '.join(quote(x) for x in added)} {'is' if len(added) == 1 else 'are'} now imported"
            )
        kind = (
            "import-removed"
            if gone and not added
            else "import-added"
            if added and not gone
            else "import-changed"
        )
        where = f" from {quote(ma)}" if ma else ""
        return Said(kind, f"{' and '.join(parts)[0].upper()}{' and '.join(parts)[1:]}{where}.")
    return Said("import-changed", f"The import {quote_of(old, a)} became {quote_of(new, b)}.")


def _params(a: ast.arguments, b: ast.arguments, old: Stmt, new: Stmt) -> Said:
    names_a = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names_b = [x.arg for x in (*b.posonlyargs, *b.args, *b.kwonlyargs)]
    if names_a == names_b:
        da = [*a.defaults, *(d for d in a.kw_defaults if d is not None)]
        db = [*b.defaults, *(d for d in b.kw_defaults if d is not None)]
        if len(da) == len(db):
            positional = [*a.posonlyargs, *a.args][len([*a.posonlyargs, *a.args]) - len(a.defaults) :]
            keyword = [x for x, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            owners = [*positional, *keyword]
            changed = [(p, x, y) for p, x, y in zip(owners, da, db) if not same(x, y)]
            if len(changed) == 1:
                p, x, y = changed[0]
                return Said(
                    "default-changed",
                    f"The default of {quote(p.arg)} became {quote_of(new, y)} (it was {quote_of(old, x)}).",
                )
    return Said(
        "signature-changed",
        f"The parameters changed: {quote(old.line)} became {quote(new.line)}."
        if quotable(old.line) and quotable(new.line)
        else "The parameters changed.",
    )


_BLOCKS = {
    ast.If: "the check",
    ast.While: "the loop",
    ast.For: "the loop",
    ast.AsyncFor: "the loop",
    ast.With: "the with block",
    ast.AsyncWith: "the with block",
    ast.Try: "the try block",
    ast.ExceptHandler: "the exception handler",
    ast.Return: "the return statement",
    ast.Raise: "the raise statement",
    ast.Assert: "the assertion",
    ast.FunctionDef: "the function",
    ast.AsyncFunctionDef: "the function",
    ast.ClassDef: "the class",
    ast.Delete: "the del statement",
    ast.Continue: "the continue statement",
    ast.Break: "the break statement",
}
_KINDS = {
    ast.If: "guard",
    ast.Return: "return",
    ast.Raise: "raise",
    ast.Try: "try",
    ast.ExceptHandler: "except",
    ast.With: "with",
    ast.AsyncWith: "with",
    ast.Import: "import",
    ast.ImportFrom: "import",
}


def alone(stmt: Stmt, removed: bool) -> Said:
    """A statement with no counterpart on the other side: removed or added."""
    verb = "removed" if removed else "added"
    node = stmt.node
    line = quote(stmt.line) if quotable(stmt.line) else None
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return Said(f"import-{verb}", f"The import {line or 'here'} was {verb}.")
    if stmt.line.startswith("@"):
        return Said(f"decorator-{verb}", f"The decorator {line or 'here'} was {verb}.")
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return Said(f"string-{verb}", f"The string {line or 'here'} was {verb}.")
    if stmt.line.startswith("else") and stmt.line.rstrip(":").strip() == "else":
        return Said(f"else-{verb}", f"The `else:` branch was {verb}.")
    if stmt.line.startswith("elif "):
        return Said(f"branch-{verb}", f"The branch {line or 'here'} was {verb}.")
    if stmt.line.startswith("finally"):
        return Said(f"finally-{verb}", f"The `finally:` block was {verb}.")
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Await):
        return Said(f"statement-{verb}", f"The awaited statement {line or ''} was {verb}.".replace("  ", " "))
    what = next((w for t, w in _BLOCKS.items() if isinstance(node, t)), "the statement")
    kind = next((k for t, k in _KINDS.items() if isinstance(node, t)), "statement")
    text = (
        f"{what[0].upper()}{what[1:]} {line} was {verb}."
        if line
        else f"{what[0].upper()}{what[1:]} was {verb}."
    )
    return Said(f"{kind}-{verb}", text)
