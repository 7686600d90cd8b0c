"""The external API uses in a work item: names resolved through the file's imports, read statically.

    api_uses(head_text, item, internal={"requests"}) -> [ApiUse("urllib3.util.retry.Retry", line=120, ...)]

With the file at head, its imports come from `ast` (module level, including `if`/`try` blocks) and
the uses are the dotted names on the item's added lines whose first part is an imported name:
`Retry(0, read=False)` after `from urllib3.util.retry import Retry` is `urllib3.util.retry.Retry`,
called with the keyword `read`. Relative imports and the repository's own top-level packages
(`internal`) are not external. Without the file (a bare diff), or when it does not parse, the same
is done with regular expressions over the diff's new-side lines. Method calls on objects
(`session.get(...)`) cannot be resolved without types and are not reported.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..diff import added_text
from ..model import LineKind, WorkItem


@dataclass(frozen=True, slots=True)
class ApiUse:
    name: str  # qualified through the imports: urllib3.util.retry.Retry
    written: str  # as written in the code: Retry
    line: int  # new-side line number
    keywords: tuple[str, ...] = ()  # keyword arguments passed
    called: bool = False
    code: str = ""  # the line's text


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def imports_of(tree: ast.Module, internal: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """Local name -> qualified name, for absolute imports of external modules at module level."""
    names: dict[str, str] = {}
    stack = list(tree.body)
    while stack:
        st = stack.pop(0)
        if isinstance(st, (ast.If, ast.Try, ast.With)):
            stack[:0] = [
                *st.body,
                *getattr(st, "orelse", []),
                *getattr(st, "finalbody", []),
                *(s for h in getattr(st, "handlers", []) for s in h.body),
            ]
        elif isinstance(st, ast.Import):
            for a in st.names:
                if a.name.split(".")[0] in internal:
                    continue
                if a.asname:
                    names.setdefault(a.asname, a.name)
                else:
                    top = a.name.split(".")[0]
                    names.setdefault(top, top)
        elif isinstance(st, ast.ImportFrom) and not st.level and st.module:
            if st.module.split(".")[0] in internal:
                continue
            for a in st.names:
                if a.name != "*":
                    names.setdefault(a.asname or a.name, f"{st.module}.{a.name}")
    return names


def _added_lines(item: WorkItem) -> dict[int, str]:
    return added_text(item.hunks)


def _qualify(written: str, imports: dict[str, str]) -> str | None:
    head, _, rest = written.partition(".")
    if head not in imports:
        return None
    return f"{imports[head]}.{rest}" if rest else imports[head]


def api_uses(
    head_text: str | None, item: WorkItem, internal: set[str] = frozenset(), limit: int = 12
) -> list[ApiUse]:  # type: ignore[assignment]
    added = _added_lines(item)
    if not added:
        return []
    tree = None
    if head_text is not None:
        try:
            tree = ast.parse(head_text)
        except (SyntaxError, ValueError, RecursionError):
            tree = None
    uses = _from_ast(tree, added, internal) if tree is not None else _from_text(item, added, internal)
    seen: dict[tuple[str, tuple[str, ...]], ApiUse] = {}
    for u in uses:
        seen.setdefault((u.name, u.keywords), u)
    ranked = sorted(seen.values(), key=lambda u: (not u.keywords, not u.called, u.line))
    return sorted(ranked[:limit], key=lambda u: u.line)


def _from_ast(tree: ast.Module, added: dict[int, str], internal: set[str]) -> list[ApiUse]:
    imports = imports_of(tree, internal)
    out: list[ApiUse] = []
    inner: set[int] = set()  # Attribute/Name nodes that are part of a larger chain or a call's func
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            inner.add(id(node.func))
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line not in added:
            continue
        if isinstance(node, ast.Call):
            written = _dotted(node.func)
            kws = tuple(k.arg for k in node.keywords if k.arg)
            called = True
        elif isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in inner:
            written, kws, called = _dotted(node), (), False
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                continue
        else:
            continue
        if written is None:
            continue
        name = _qualify(written, imports)
        if name is not None:
            out.append(ApiUse(name, written, line, kws, called, added[line].strip()))
    return out


_IMPORT = re.compile(r"^\s*import\s+([\w.]+)(?:\s+as\s+(\w+))?\s*$")
_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([\w\s,]+?)\)?\s*$")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\s*\(([^()]*)")
_KW = re.compile(r"(?<![=!<>])\b([A-Za-z_]\w*)\s*=(?!=)")


def _from_text(item: WorkItem, added: dict[int, str], internal: set[str]) -> list[ApiUse]:
    imports: dict[str, str] = {}
    for h in item.hunks:
        for ln in h.lines:
            if ln.kind is LineKind.REMOVED:
                continue
            if m := _IMPORT.match(ln.text):
                mod, alias = m.groups()
                if mod.split(".")[0] not in internal:
                    imports.setdefault(alias or mod.split(".")[0], mod if alias else mod.split(".")[0])
            elif (m := _FROM.match(ln.text)) and m.group(1).split(".")[0] not in internal:
                for part in m.group(2).split(","):
                    bits = part.split()
                    if bits:
                        imports.setdefault(bits[-1], f"{m.group(1)}.{bits[0]}")
    out = []
    for line, text in added.items():
        for m in _CALL.finditer(text):
            name = _qualify(m.group(1), imports)
            if name is not None:
                kws = tuple(dict.fromkeys(_KW.findall(m.group(2))))
                out.append(ApiUse(name, m.group(1), line, kws, True, text.strip()))
    return out
