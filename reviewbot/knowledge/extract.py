"""Static extraction of a module's API: Python source is parsed with `ast`, never imported or run.

    api_entries(source, "urllib3.util.retry") -> ModuleApi(entries, aliases, stars)

`api_entries` gives what the documentation index holds for one module: the module, its classes,
functions and methods, each with its signature as written, its docstring, its parameters, and a
deprecation notice when the docstring says "deprecated" or the body calls
`warnings.warn(..., DeprecationWarning)` (or `PendingDeprecationWarning`, `FutureWarning`).
Re-exports are recorded as aliases (`from .util.retry import Retry` in `urllib3/__init__.py` makes
`urllib3.Retry` an alias of `urllib3.util.retry.Retry`; `import posixpath as path` in `os` makes
`os.path` one of `posixpath`), looking into `if`/`try`/`with` blocks at module level but not into
functions. The first binding wins (the `posix` branch of `os` comes first).

The chunks of the repository index are cut in `chunks.py`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

DEPRECATION_WARNINGS = ("DeprecationWarning", "PendingDeprecationWarning", "FutureWarning")


@dataclass(frozen=True, slots=True)
class ApiEntry:
    kind: str  # module | class | function | method
    name: str  # fully qualified: urllib3.util.retry.Retry.increment
    signature: str
    doc: str
    start: int
    end: int
    params: tuple[str, ...] | None = None  # None: unknown (a class without its own __init__)
    varkw: bool = False  # accepts **kwargs
    deprecated: str | None = None  # the sentence or warning text that says the object is deprecated
    param_notes: tuple[tuple[str, str], ...] = ()  # (parameter, the sentence saying it is deprecated)


@dataclass(frozen=True, slots=True)
class ModuleApi:
    entries: list[ApiEntry] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # qualified name -> qualified target
    stars: list[str] = field(default_factory=list)  # modules imported with `from X import *`


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`:*(\"'])|\n\s*\n")


def sentences(doc: str) -> list[str]:
    """A docstring's sentences (and paragraphs without a full stop), whitespace collapsed."""
    out = []
    for s in _SENTENCE_END.split(doc):
        s = " ".join(s.split())
        if s:
            out.append(s[:400])
    return out


_WHOLE = re.compile(
    r"^(\.\. deprecated::|deprecated\b"
    r"|(this|the) (function|method|class|module|alias|property|attribute)\b.*\bdeprecated)"
    r"|\b(is|are|has been) deprecated( since| as of| in favou?r| and will be removed|[.;,]|$)",
    re.IGNORECASE,
)


def _deprecation_in_doc(doc: str, params: tuple[str, ...] | None = ()) -> str | None:
    """The sentence saying the object itself is deprecated (not one of its options)."""
    for s in sentences(doc):
        if "deprecat" not in s.lower() or not _WHOLE.search(s):
            continue
        if any(re.search(rf"[`'\"]{re.escape(p)}[`'\"]|\b{re.escape(p)}=", s) for p in params or ()):
            continue  # about a parameter: see param_deprecations
        return s
    return None


def param_deprecations(doc: str, params: tuple[str, ...] | None) -> dict[str, str]:
    """Parameter -> the docstring sentence that says it is deprecated, renamed or removed."""
    out: dict[str, str] = {}
    for s in sentences(doc):
        low = s.lower()
        if not any(w in low for w in ("deprecat", "renamed", "removed", "no longer")):
            continue
        for p in params or ():
            if len(p) > 2 and re.search(rf"(?<![\w.]){re.escape(p.lstrip('*'))}(?!\w)", s):
                out.setdefault(p, s)
    return out


def _const_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{...}" for v in node.values)
    if isinstance(node, ast.BinOp):
        return _const_text(node.left) + _const_text(node.right)
    return ""


def _own_nodes(fn: ast.AST):
    """The nodes of a function's body, not descending into nested functions or classes."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _warn_text(node: ast.AST) -> str | None:
    """The message of a `warnings.warn(msg, DeprecationWarning)`-like call, else None."""
    if not isinstance(node, ast.Call):
        return None
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    if name not in ("warn", "_warn", "warn_explicit", "_deprecated"):
        return None
    cats = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "category")]
    cat_names = {c.attr if isinstance(c, ast.Attribute) else getattr(c, "id", "") for c in cats}
    if name != "_deprecated" and not cat_names & set(DEPRECATION_WARNINGS):
        return None
    text = _const_text(node.args[0]) if node.args else ""
    return " ".join(text.split())[:400] or "calls warnings.warn(..., DeprecationWarning)"


def _deprecation_warnings(fn: ast.AST, params: tuple[str, ...]) -> tuple[str | None, dict[str, str]]:
    """(a warning the function always gives, {parameter: the warning given when it is passed})."""
    whole: str | None = None
    by_param: dict[str, str] = {}
    body = getattr(fn, "body", [])
    for st in body:
        if isinstance(st, ast.Expr) and whole is None:
            whole = _warn_text(st.value)
    for node in _own_nodes(fn):
        if not isinstance(node, ast.If):
            continue
        names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)} & {
            p.lstrip("*") for p in params
        }
        if not names:
            continue
        for inner in node.body:
            for sub in ast.walk(inner):
                text = _warn_text(sub)
                if text:
                    for p in names:
                        by_param.setdefault(p, text)
    return whole, by_param


def _params(args: ast.arguments) -> tuple[tuple[str, ...], bool]:
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    return tuple(names), args.kwarg is not None


def _signature(node: ast.AST) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        return f"{prefix} {node.name}({ast.unparse(node.args)}){ret}"
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in (*node.bases, *node.keywords))
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    return ""


def start_line(node: ast.AST) -> int:
    decos = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decos)])  # type: ignore[attr-defined]


def _module_level(body: list[ast.stmt]):
    """Statements run at import time: the body and the bodies of if/try/with blocks in it."""
    for st in body:
        yield st
        if isinstance(st, (ast.If, ast.Try, ast.With)):
            yield from _module_level(st.body)
            for extra in ("orelse", "finalbody"):
                yield from _module_level(getattr(st, extra, []))
            for h in getattr(st, "handlers", []):
                yield from _module_level(h.body)


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(level - 1):
        base = base.rpartition(".")[0]
    return ".".join(p for p in (base, target) if p)


def api_entries(
    source: str, module: str, *, is_package: bool = False, end_line: int | None = None
) -> ModuleApi:
    """The documented API of one module's source; raises SyntaxError (or ValueError) when it does not
    parse."""
    tree = ast.parse(source)
    n_lines = end_line or source.count("\n") + 1
    api = ModuleApi()
    doc = ast.get_docstring(tree) or ""
    api.entries.append(
        ApiEntry("module", module, f"module {module}", doc, 1, n_lines, deprecated=_deprecation_in_doc(doc))
    )
    for st in _module_level(tree.body):
        if isinstance(st, ast.ImportFrom):
            src = (
                _resolve_relative(module, is_package, st.level, st.module) if st.level else (st.module or "")
            )
            for a in st.names:
                if a.name == "*":
                    api.stars.append(src)
                else:
                    api.aliases.setdefault(f"{module}.{a.asname or a.name}", f"{src}.{a.name}")
        elif isinstance(st, ast.Import):
            for a in st.names:
                if a.asname:
                    api.aliases.setdefault(f"{module}.{a.asname}", a.name)
        elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            api.entries.append(_function_entry(st, f"{module}.{st.name}", "function"))
        elif isinstance(st, ast.ClassDef):
            api.entries.extend(_class_entries(st, f"{module}.{st.name}"))
    return api


def _function_entry(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str, kind: str) -> ApiEntry:
    doc = ast.get_docstring(node) or ""
    params, varkw = _params(node.args)
    warned, by_param = _deprecation_warnings(node, params)
    notes = {**by_param, **param_deprecations(doc, params)}
    deprecated = _deprecation_in_doc(doc, params) or warned
    end = node.end_lineno or node.lineno
    sig = _signature(node)
    return ApiEntry(
        kind, name, sig, doc, start_line(node), end, params, varkw, deprecated, tuple(notes.items())
    )


def _class_entries(node: ast.ClassDef, name: str) -> list[ApiEntry]:
    doc = ast.get_docstring(node) or ""
    methods = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
    init = next((m for m in methods if m.name == "__init__"), None)
    params, varkw = _params(init.args) if init is not None else (None, False)
    if params and params[0] == "self":
        params = params[1:]
    warned, by_param = _deprecation_warnings(init, params or ()) if init is not None else (None, {})
    sig = _signature(node)
    if init is not None:
        sig += f"\n    {_signature(init)}"
        doc = doc + ("\n\n" + ast.get_docstring(init) if ast.get_docstring(init) else "")
    notes = {**by_param, **param_deprecations(doc, params)}
    deprecated = _deprecation_in_doc(doc, params) or warned
    end = node.end_lineno or node.lineno
    out = [
        ApiEntry(
            "class", name, sig, doc, start_line(node), end, params, varkw, deprecated, tuple(notes.items())
        )
    ]
    for m in methods:
        if m.name.startswith("_") and m.name != "__call__":
            continue
        out.append(_function_entry(m, f"{name}.{m.name}", "method"))
    return out
