"""Repository files cut into chunks for the repository index (static: nothing is imported or run).

    chunks(text, "requests/adapters.py") -> [Chunk(kind, name, start, end, text, doc), ...]

Python at function and class boundaries (a class's header and docstring, then each method),
module-level code between them in windows; Markdown and reStructuredText by heading; any other
text in windows of lines.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .extract import start_line

WINDOW = 60  # lines in a window of module-level code or plain text


@dataclass(frozen=True, slots=True)
class Chunk:
    kind: str  # function | class | method | module | section | text
    name: str
    start: int  # 1-based, inclusive
    end: int
    text: str
    doc: str = ""


def chunks(text: str, path: str) -> list[Chunk]:
    low = path.lower()
    if low.endswith((".py", ".pyi")):
        try:
            return python_chunks(text)
        except (SyntaxError, ValueError, RecursionError):
            return line_chunks(text)
    if low.endswith((".md", ".markdown")):
        return markdown_chunks(text)
    if low.endswith((".rst", ".txt")) and _RST_UNDERLINE.search(text):
        return rst_chunks(text)
    return line_chunks(text)


def _lines_text(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start - 1 : end])


def line_chunks(
    text: str, kind: str = "text", name: str = "", first: int = 1, last: int | None = None
) -> list[Chunk]:
    lines = text.splitlines()
    last = len(lines) if last is None else last
    out = []
    for s in range(first, last + 1, WINDOW):
        e = min(last, s + WINDOW - 1)
        body = _lines_text(lines, s, e)
        if body.strip():
            out.append(Chunk(kind, name or f"lines {s}-{e}", s, e, body))
    return out


def python_chunks(text: str) -> list[Chunk]:
    tree = ast.parse(text)
    lines = text.splitlines()
    out: list[Chunk] = []
    covered: list[tuple[int, int]] = []

    def add(kind: str, name: str, node: ast.AST, start: int | None = None, end: int | None = None) -> None:
        s = start if start is not None else start_line(node)
        e = end if end is not None else (node.end_lineno or node.lineno)  # type: ignore[attr-defined]
        out.append(Chunk(kind, name, s, e, _lines_text(lines, s, e), ast.get_docstring(node) or ""))  # type: ignore[arg-type]
        covered.append((s, e))

    for st in tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            add("function", st.name, st)
        elif isinstance(st, ast.ClassDef):
            methods = [m for m in st.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            head_end = (start_line(methods[0]) - 1) if methods else (st.end_lineno or st.lineno)
            add("class", st.name, st, end=max(head_end, st.lineno))
            for m in methods:
                add("method", f"{st.name}.{m.name}", m)
            tail_s = (methods[-1].end_lineno or 0) + 1 if methods else None
            if tail_s is not None and tail_s <= (st.end_lineno or 0):
                covered.append((tail_s, st.end_lineno or tail_s))  # after the last method: class body
    # module-level code between the definitions, in windows; the module docstring leads the first
    taken = [False] * (len(lines) + 2)
    for s, e in covered:
        for i in range(s, e + 1):
            if i < len(taken):
                taken[i] = True
    doc = ast.get_docstring(tree) or ""
    runs: list[list[int]] = []
    for i in range(1, len(lines) + 1):
        if taken[i]:
            continue
        if runs and runs[-1][1] == i - 1 and i - runs[-1][0] < WINDOW:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    for s, e in runs:
        body = _lines_text(lines, s, e)
        if body.strip():
            first = not any(c.kind == "module" for c in out)
            out.append(Chunk("module", "module", s, e, body, doc if first else ""))
    out.sort(key=lambda c: c.start)
    return out


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`*+#:.])\1{2,}\s*$", re.MULTILINE)


def _sections(lines: list[str], heads: list[tuple[int, int, str]]) -> list[Chunk]:
    """heads: (line, level, title); a section runs to the next heading; long ones in windows."""
    out: list[Chunk] = []
    path: list[tuple[int, str]] = []
    bounds = [*heads, (len(lines) + 1, 0, "")]
    if heads and heads[0][0] > 1:
        out.extend(line_chunks("\n".join(lines), "section", "(top)", 1, heads[0][0] - 1))
    elif not heads:
        return line_chunks("\n".join(lines), "section", "(top)")
    for (ln, level, title), (nxt, _, _) in zip(bounds, bounds[1:]):
        path = [(lv, t) for lv, t in path if lv < level] + [(level, title)]
        name = " > ".join(t for _, t in path)
        out.extend(line_chunks("\n".join(lines), "section", name, ln, nxt - 1))
    return out


def markdown_chunks(text: str) -> list[Chunk]:
    lines = text.splitlines()
    heads = []
    fence = False
    for i, line in enumerate(lines, 1):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else _MD_HEADING.match(line)
        if m:
            heads.append((i, len(m.group(1)), m.group(2)))
    return _sections(lines, heads)


def rst_chunks(text: str) -> list[Chunk]:
    lines = text.splitlines()
    heads = []
    levels: list[str] = []
    for i in range(1, len(lines)):
        title, under = lines[i - 1].strip(), lines[i]
        m = _RST_UNDERLINE.match(under)
        if title and m and len(under.strip()) >= len(title) and not _RST_UNDERLINE.match(lines[i - 1]):
            over = i >= 2 and _RST_UNDERLINE.match(lines[i - 2]) is not None
            style = ("o" if over else "") + m.group(1)
            if style not in levels:
                levels.append(style)
            start = i - 1 if over else i
            heads.append((start, levels.index(style) + 1, title))
    return _sections(lines, heads)
