"""What the diff's lines alone say about definitions, when the old and new files are not at hand.

Python: each hunk is read twice, as the old side (context and removed lines) and the new side
(context and added lines), keeping the stack of ``def``/``class`` lines that enclose each line by
indentation (lines inside brackets or triple-quoted strings do not close a block). A hunk that
starts inside a definition inherits it from its header (git puts the last top-level ``def`` or
``class`` line before the hunk there). So:

- a ``def``/``class`` line only added is an added definition, only removed a removed one; both
  under the same qualified name: a changed one, its signature compared when the whole header is
  shown (``ast`` on the header alone);
- an added or removed line inside a definition the diff shows (or the hunk header names) changes
  that definition; when a deeper definition may enclose it unseen, the symbol says so;
- a decorator line added or removed just above a shown ``def`` is named;
- other changed lines at column 0 are module-level; imports among them are named.

Other languages: lines that define a function, method, class or type in common languages
(JavaScript/TypeScript, Go, Rust, Java/Kotlin/C#/Scala, Ruby, PHP, shell) are named as added,
removed or changed (``definition`` kind): what the diff shows, nothing inferred.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field

from ..model import FileDiff, Hunk, LineKind
from .model import Detail, Symbol, detail, listing
from .symbols import signature_changes

__all__ = ["other_definitions", "python_fragments"]

_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?(?P<kw>def|class)[ \t]+(?P<name>[A-Za-z_]\w*)")
_IMPORT = re.compile(r"^(?:import[ \t]+\S|from[ \t]+\S+[ \t]+import[ \t])")


@dataclass(slots=True)
class _Open:
    indent: int
    name: str  # qualified
    kind: str
    origin: str  # "added", "removed", "context" or "header"
    header: list[str] = field(default_factory=list)  # the def's lines until its colon
    closed: bool = False  # the header's colon was reached


@dataclass(slots=True)
class _Side:
    """One side of a hunk as it is read: the enclosing definitions, brackets, strings."""

    name: str  # "old" or "new"
    stack: list[_Open]
    depth: int = 0  # open brackets
    quote: str | None = None  # the open triple quote
    decorators: list[tuple[int, str, LineKind]] = field(default_factory=list)
    statement: str = ""  # the first line of the statement being read
    fresh: bool = True  # no triple quote seen yet in this hunk
    colon: bool = False  # the last code line ended with ":"

    def line(self, text: str) -> tuple[bool, int]:
        """Feed one line; returns (whether it starts a statement, its indentation)."""
        starts = self.depth == 0 and self.quote is None
        indent = len(text) - len(text.lstrip(" \t"))
        stripped = text.strip()
        if self.fresh and self.quote is None and stripped[-3:] in ('"""', "'''"):
            # the first triple quote of a hunk, alone or after text, and not after a line ending in
            # ":" (a docstring's opening): it closes a string that began before the hunk
            alone = stripped == stripped[-3:] or stripped[:1] not in ('"', "'") and "=" not in stripped
            if alone and not self.colon and stripped.count(stripped[-3:]) == 1:
                self.fresh = False
                return False, indent
        i, n = 0, len(text)
        while i < n:
            if self.quote is not None:
                end = text.find(self.quote, i)
                if end < 0:
                    break
                i, self.quote = end + 3, None
                continue
            c = text[i]
            if c == "#":
                break
            if text.startswith(('"""', "'''"), i):
                self.fresh = False
                self.quote, i = text[i : i + 3], i + 3
                continue
            if c in "\"'":
                i += 1
                while i < n and text[i] != c:
                    i += 2 if text[i] == "\\" else 1
            elif c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        if stripped and not stripped.startswith("#"):
            self.colon = stripped.split("#", 1)[0].rstrip().endswith(":")
        return starts, indent


def _signature(header: list[str]) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None:
    text = textwrap.dedent("\n".join(header))
    try:
        tree = ast.parse(text + "\n    pass\n")
    except (SyntaxError, ValueError):
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None


class _Walk:
    def __init__(self) -> None:
        self.defs: dict[str, dict[str, _Open]] = {"added": {}, "removed": {}}
        self.changed: dict[str, list[Detail]] = {}  # name -> details
        self.kinds: dict[str, str] = {}
        self.lines: dict[str, int] = {}
        self.imports: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
        self.shown: dict[str, dict[str, _Open]] = {"old": {}, "new": {}}  # context definitions' headers
        self.inner: dict[str, dict[str, _Open]] = {"added": {}, "removed": {}}  # nested in added/removed
        self.inner_context: dict[str, dict[str, _Open]] = {"added": {}, "removed": {}}  # ... on context lines
        self.module = False
        self.unknown = False  # changed lines whose enclosing block the diff does not show

    def hunk(self, h: Hunk) -> None:
        start: list[_Open] = []
        m = _DEF.match(h.section)
        first = next((ln for ln in h.lines if ln.text.strip()), None)
        if m and first is not None and first.text[:1] in (" ", "\t"):
            indent = len(m.group("indent"))
            # an indented header (a diff driver for Python) names a definition whose parents are unseen
            start.append(
                _Open(
                    indent,
                    m.group("name"),
                    "class" if m.group("kw") == "class" else "function",
                    "header",
                    closed=True,
                )
            )
        old, new = _Side("old", list(start)), _Side("new", list(start))
        old.fresh, new.fresh = h.old_start > 1, h.new_start > 1  # from line 1 nothing comes before
        for ln in h.lines:
            sides = {LineKind.CONTEXT: (old, new), LineKind.ADDED: (new,), LineKind.REMOVED: (old,)}[ln.kind]
            for side in sides:
                self._feed(side, ln.text, ln.kind, ln.new_no if side is new else ln.old_no)

    def _feed(self, side: _Side, text: str, kind: LineKind, number: int | None) -> None:
        top = side.stack[-1] if side.stack else None
        if top is not None and not top.closed:  # a header that spans lines
            top.header.append(text)
            side.line(text)
            top.closed = side.depth == 0
            return
        starts, indent = side.line(text)
        stripped = text.strip()
        if starts:
            side.statement = stripped if indent == 0 else ""
        elif kind is not LineKind.CONTEXT and _IMPORT.match(side.statement):
            self.imports["changed"].append(side.statement)  # a name in a parenthesized import
            return
        if not stripped or stripped.startswith("#"):
            if stripped and kind is not LineKind.CONTEXT:
                self._changed(side, indent, kind, comment=True)
            return
        if starts:
            while side.stack and side.stack[-1].indent >= indent:
                side.stack.pop()
            m = _DEF.match(text)
            if stripped.startswith("@"):
                side.decorators.append((indent, stripped, kind))
                if kind is not LineKind.CONTEXT:
                    self._changed(side, indent, kind, decorator=True)
                return
            if m:
                self._define(side, m, text, kind, number)
                return
            side.decorators.clear()
        if kind is LineKind.CONTEXT:
            return
        if starts and indent == 0 and _IMPORT.match(stripped):
            self.imports[str(kind)].append(stripped)
        else:
            self._changed(side, indent, kind)

    def _define(self, side: _Side, m: re.Match[str], text: str, kind: LineKind, number: int | None) -> None:
        parent = side.stack[-1] if side.stack else None
        name = (parent.name + "." if parent else "") + m.group("name")
        what = (
            "class"
            if m.group("kw") == "class"
            else ("method" if parent and parent.kind == "class" else "function")
        )
        origin = {LineKind.ADDED: "added", LineKind.REMOVED: "removed", LineKind.CONTEXT: "context"}[kind]
        if parent is not None and parent.origin in ("added", "removed"):
            origin = parent.origin  # inside a definition that is itself added or removed
        d = _Open(len(m.group("indent")), name, what, origin, [text], closed=side.depth == 0)
        side.stack.append(d)
        self.kinds.setdefault(name, what)
        if number is not None and (origin != "removed" or name not in self.lines):
            self.lines[name] = number
        if origin in ("added", "removed") and (
            parent is None or parent.origin == "context" or parent.origin == "header"
        ):
            self.defs[origin].setdefault(name, d)
        elif origin in ("added", "removed"):
            (self.inner if kind is not LineKind.CONTEXT else self.inner_context)[origin].setdefault(name, d)
        decorators = [(t, k) for i, t, k in side.decorators if i == len(m.group("indent"))]
        side.decorators.clear()
        if origin == "context":
            self.shown[side.name].setdefault(name, d)
            for t, k in decorators:
                if k is not LineKind.CONTEXT:
                    what = "decorator {} added" if k is LineKind.ADDED else "decorator {} removed"
                    self.changed.setdefault(name, []).append(detail(what, t))

    def _changed(
        self, side: _Side, indent: int, kind: LineKind, decorator: bool = False, comment: bool = False
    ) -> None:
        if decorator:
            return  # named with the definition it decorates (or part of an added/removed one)
        top = side.stack[-1] if side.stack else None
        if top is None:
            if indent == 0:
                self.module = self.module or not comment
            else:
                self.unknown = True
            return
        if top.origin in ("added", "removed"):
            return
        details = self.changed.setdefault(top.name, [])
        self.kinds.setdefault(top.name, top.kind)
        deeper = top.origin == "header" and top.kind == "class" and indent > top.indent + 4
        if comment:
            note = detail("comment lines changed")
        elif deeper:
            note = detail("lines changed inside it (the diff does not show in which method)")
        else:
            note = detail("class-level statements changed" if top.kind == "class" else "body changed")
        if note not in details:
            details.append(note)

    def _inside(self, parent: str, change: str) -> list[Symbol]:
        """The definitions inside an added (removed) one: added (removed) with it."""
        found = self.inner[change]
        line = self.lines.get if change == "added" else (lambda _: None)
        return [
            Symbol(n, d.kind, change, (), line(n)) for n, d in found.items() if n.startswith(parent + ".")
        ]

    def _rewritten(self, parent: str) -> list[Symbol]:
        """The definitions inside one whose definition line was removed and added again: each
        named when its ancestors below ``parent`` are on both sides too."""
        added, removed = self.inner["added"], self.inner["removed"]
        new_side = {**self.inner_context["added"], **added}  # every definition line seen on each side
        old_side = {**self.inner_context["removed"], **removed}
        out = []
        for name in dict.fromkeys([*added, *removed]):
            if not name.startswith(parent + "."):
                continue
            middle = name[len(parent) + 1 :].split(".")[:-1]
            ancestors = [parent + "." + ".".join(middle[: i + 1]) for i in range(len(middle))]
            one_side = next((a for a in ancestors if (a in new_side) != (a in old_side)), None)
            if one_side is not None:  # inside a definition only added (removed): added (removed) with it
                change = "added" if one_side in added else "removed"
                if name in (added if change == "added" else removed):
                    out.append(Symbol(name, (added if change == "added" else removed)[name].kind, change))
                continue
            if name in added and name in removed:
                old_node, new_node = _signature(removed[name].header), _signature(added[name].header)
                details = signature_changes(old_node, new_node) if old_node and new_node else []
                if removed[name].header != added[name].header and not details:
                    details = [detail("signature lines changed")]
                details = details or [detail("its lines were removed and added again")]
                out.append(Symbol(name, added[name].kind, "changed", tuple(details), self.lines.get(name)))
            elif name in added:
                out.append(Symbol(name, added[name].kind, "added", (), self.lines.get(name)))
            else:
                out.append(Symbol(name, removed[name].kind, "removed", (), None))
        return out

    def symbols(self) -> list[Symbol]:
        out: list[Symbol] = []
        added, removed = self.defs["added"], self.defs["removed"]
        for name, d in added.items():
            if name in removed:
                o = removed[name]
                old_node, new_node = _signature(o.header), _signature(d.header)
                details = signature_changes(old_node, new_node) if old_node and new_node else []
                details = details or [detail("definition line rewritten")]
                details += [x for x in self.changed.get(name, []) if x not in details]
                out.append(Symbol(name, d.kind, "changed", tuple(details), self.lines.get(name)))
                out += self._rewritten(name)
            else:
                out.append(Symbol(name, d.kind, "added", (), self.lines.get(name)))
                out += self._inside(name, "added")
        for name, d in removed.items():
            if name not in added:
                out.append(Symbol(name, d.kind, "removed", (), None))
                out += self._inside(name, "removed")
        for name, d in self.shown["new"].items():
            o = self.shown["old"].get(name)
            if o is None or o.header == d.header:
                continue
            old_node, new_node = _signature(o.header), _signature(d.header)
            details = signature_changes(old_node, new_node) if old_node and new_node else []
            found = self.changed.setdefault(name, [])
            found[:0] = [x for x in details or [detail("signature lines changed")] if x not in found]
        for name, details in self.changed.items():
            if name in added or name in removed or any(name.startswith(a + ".") for a in (*added, *removed)):
                continue
            out.append(
                Symbol(
                    name, self.kinds.get(name, "function"), "changed", tuple(details), self.lines.get(name)
                )
            )
        return out


def python_fragments(f: FileDiff) -> tuple[list[Symbol], list[Detail]]:
    """(symbols, file-level details) of a Python file from its diff lines alone."""
    w = _Walk()
    for h in f.hunks:
        w.hunk(h)
    details: list[Detail] = []
    for kind in ("added", "removed"):
        names = [i for i in w.imports[kind] if i not in w.imports["removed" if kind == "added" else "added"]]
        if names:
            details.append(listing(f"imports {kind}: ", list(dict.fromkeys(names))))
    if w.imports["changed"]:
        details.append(listing("imports changed: ", list(dict.fromkeys(w.imports["changed"]))))
    if w.module:
        details.append(detail("module-level statements changed"))
    if w.unknown:
        details.append(detail("lines changed in blocks whose start the diff does not show"))
    return w.symbols(), details


# ------------------------------------------------------------------------------- other languages

_OTHER: dict[str, list[re.Pattern[str]]] = {}
MAX_DEFINITION_LINE = 400  # characters


def _patterns(*exts: str, rules: tuple[str, ...]) -> None:
    for ext in exts:
        _OTHER[ext] = [re.compile(r) for r in rules]


_patterns(
    ".js",
    ".jsx",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    rules=(
        r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(?P<name>[A-Za-z_$][\w$]*)\s*[<(]",
        r"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(?P<name>[A-Za-z_$][\w$]*)",
        r"^\s*(?:export\s+)?(?:const|let|var)\s+(?P<name>[A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)",
        r"^\s*(?:export\s+)?(?:interface|type|enum)\s+(?P<name>[A-Za-z_$][\w$]*)",
    ),
)
_patterns(
    ".go",
    rules=(
        r"^func\s+(?:\([^)]*\)\s*)?(?P<name>[A-Za-z_]\w*)\s*[\[(]",
        r"^type\s+(?P<name>[A-Za-z_]\w*)\s+(?:struct|interface)\b",
    ),
)
_patterns(
    ".rs",
    rules=(
        r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+|async\s+|unsafe\s+|extern\s+\"[^\"]*\"\s+)*fn\s+(?P<name>[A-Za-z_]\w*)",
        r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:struct|enum|trait|union)\s+(?P<name>[A-Za-z_]\w*)",
    ),
)
_patterns(
    ".java",
    ".kt",
    ".cs",
    ".scala",
    rules=(
        r"^\s*(?:(?:public|private|protected|internal|static|final|abstract|sealed|data|open|partial)\s+)*(?:class|interface|enum|record|object|trait|struct)\s+(?P<name>[A-Za-z_]\w*)",
        r"^\s*(?:(?:public|private|protected|internal|static|final|abstract|override|suspend|open|virtual|async|synchronized)\s+)+(?:fun\s+|def\s+)?(?:<[^>]*>\s*)?(?:[\w.<>\[\],?]+\s+)?(?P<name>[A-Za-z_]\w*)\s*\(",
        r"^\s*(?:fun|def)\s+(?P<name>[A-Za-z_]\w*)\s*[(\[]",
    ),
)
_patterns(
    ".rb",
    rules=(
        r"^\s*def\s+(?:self\.)?(?P<name>[A-Za-z_]\w*[?!=]?)",
        r"^\s*(?:class|module)\s+(?P<name>[A-Z]\w*)",
    ),
)
_patterns(
    ".php",
    rules=(
        r"^\s*(?:(?:public|private|protected|static|final|abstract)\s+)*function\s+(?P<name>[A-Za-z_]\w*)",
        r"^\s*(?:(?:final|abstract)\s+)?(?:class|interface|trait|enum)\s+(?P<name>[A-Za-z_]\w*)",
    ),
)
_patterns(
    ".sh",
    ".bash",
    rules=(r"^\s*(?:function\s+(?P<name>[A-Za-z_][\w-]*)|(?P<name2>[A-Za-z_][\w-]*)\s*\(\)\s*\{?)",),
)


def _defined(patterns: list[re.Pattern[str]], text: str) -> str | None:
    for p in patterns:
        m = p.match(text)
        if m:
            return m.group("name") or (m.groupdict().get("name2"))
    return None


def other_definitions(f: FileDiff) -> list[Symbol] | None:
    """Definition lines added or removed in a file of a common language; None for other files."""
    dot = f.path.rfind(".")
    patterns = _OTHER.get(f.path[dot:].lower() if dot >= 0 else "")
    if patterns is None:
        return None
    found: dict[str, dict[str, int | None]] = {"added": {}, "removed": {}}
    for h in f.hunks:
        for ln in h.lines:
            if ln.kind is LineKind.CONTEXT or len(ln.text) > MAX_DEFINITION_LINE:
                continue  # a definition line is short; a long one (minified code) is not searched
            name = _defined(patterns, ln.text)
            if name:
                side = "added" if ln.kind is LineKind.ADDED else "removed"
                found[side].setdefault(name, ln.number)
    out = []
    for name, line in found["added"].items():
        if name in found["removed"]:
            out.append(Symbol(name, "definition", "changed", (detail("its definition line changed"),), line))
        else:
            out.append(Symbol(name, "definition", "added", (), line))
    out += [
        Symbol(n, "definition", "removed", (), line)
        for n, line in found["removed"].items()
        if n not in found["added"]
    ]
    return out
