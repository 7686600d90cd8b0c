"""The token-level account of a changed line, for any language: the smallest span of tokens that
differs, quoted exactly from each side ("`X` became `Y`"), and whether a run changed only comments
or whitespace."""

from __future__ import annotations

import ast
import functools
import re
import warnings

LONGEST_QUOTE = 100  # a quote longer than this is not written out

_REST = r"""
    | (?P<string>"(?:\\.|[^"\\])*"?|'(?:\\.|[^'\\])*'?|`[^`]*`?)
    | (?P<word>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<number>\d[\w.]*)
    | (?P<op>===|!==|\*\*=|//=|>>=|<<=|==|!=|<=|>=|&&|\|\||->|=>|::|\*\*|//|<<|>>|[-+*/%&|^@:]=|\S)
"""
_COMMENTS = {
    "#": r"(?P<comment>\#.*)",
    "--": r"(?P<comment>--\s.*)",
    "//": r"(?P<comment>//.*|/\*.*?(?:\*/|$))",
}


@functools.cache
def _pattern(mark: str) -> re.Pattern[str]:
    return re.compile(_COMMENTS[mark] + _REST, re.VERBOSE)


def comment_mark(path: str) -> str:
    """How a comment starts in the language of ``path``: ``#``, ``--`` or ``//`` (also ``/*``)."""
    if path.endswith((".py", ".pyi", ".sh", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".rb", ".pl", ".r")):
        return "#"
    if path.endswith((".sql", ".lua", ".hs")):
        return "--"
    return "//"


def tokens(text: str, path: str = "") -> list[tuple[str, int, int]]:
    """(token, start, end) of each token of one line; a comment is one token."""
    return [(m.group(0), m.start(), m.end()) for m in _pattern(comment_mark(path)).finditer(text)]


def code_tokens(text: str, path: str) -> list[str]:
    """The tokens of a block of lines that are code: comments and whitespace left out."""
    out: list[str] = []
    for line in text.splitlines():
        for m in _pattern(comment_mark(path)).finditer(line):
            if m.lastgroup != "comment":
                out.append(m.group(0))
    return out


def same_python_code(a: list[str], b: list[str]) -> bool:
    """Python code tokens that are the same program: equal, or equal once each complete string
    literal is read as its value (`'a'` and `"a"`; a prefix such as `b` or `f` is a token of its
    own and must agree)."""
    return len(a) == len(b) and all(
        x == y or _literal(x) is not None and _literal(x) == _literal(y) for x, y in zip(a, b)
    )


def _literal(token: str) -> str | bytes | None:
    if len(token) < 2 or token[0] not in "'\"" or token[-1] != token[0]:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an escape Python does not know, as in a regex: read as written
        try:
            value = ast.literal_eval(token)
        except (ValueError, SyntaxError):
            return None
    return value if isinstance(value, str | bytes) else None


def quote(code: str) -> str:
    """``code`` as a markdown code span, exactly: fenced by more backticks than it holds."""
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def quotable(code: str) -> bool:
    return 0 < len(code) <= LONGEST_QUOTE and "\n" not in code


def token_change(old: str, new: str, path: str = "") -> tuple[str, str] | None:
    """The smallest differing spans of two lines, each exact text of its line, widened by one token
    where one side would be empty (so that both quotes say something). None when the tokens agree."""
    a, b = tokens(old, path), tokens(new, path)
    if [t for t, _s, _e in a] == [t for t, _s, _e in b]:
        return None
    lo = 0
    while lo < min(len(a), len(b)) and a[lo][0] == b[lo][0]:
        lo += 1
    hi = 0
    while hi < min(len(a), len(b)) - lo and a[len(a) - 1 - hi][0] == b[len(b) - 1 - hi][0]:
        hi += 1
    ia, ja = lo, len(a) - hi
    ib, jb = lo, len(b) - hi
    if ia == ja or ib == jb:  # one side empty: take in the token before (or after) on both sides
        if lo > 0:
            ia, ib = ia - 1, ib - 1
        elif hi > 0:
            ja, jb = ja + 1, jb + 1
    if ia >= ja or ib >= jb:
        return old.strip(), new.strip()
    for _ in range(3):  # punctuation (or a number both sides share) says little: take in a name
        if _named(a[ia:ja]) and _named(b[ib:jb]) or _differ_in_value(a[ia:ja], b[ib:jb]):
            break
        if ia > 0 and ib > 0:
            ia, ib = ia - 1, ib - 1
        if ja < len(a) and jb < len(b):
            ja, jb = ja + 1, jb + 1
    return old[a[ia][1] : a[ja - 1][2]], new[b[ib][1] : b[jb - 1][2]]


_NAME = re.compile(r"[A-Za-z_$]")
_VALUE = re.compile(r"[0-9\"'`]")


def _named(span: list[tuple[str, int, int]]) -> bool:
    """The span holds a word (a name or keyword), not only punctuation and numbers."""
    return any(_NAME.match(t) for t, _s, _e in span)


def _differ_in_value(a: list[tuple[str, int, int]], b: list[tuple[str, int, int]]) -> bool:
    """The spans differ in a number or string (a changed constant is itself what changed)."""
    return {t for t, _s, _e in a if _VALUE.match(t)} != {t for t, _s, _e in b if _VALUE.match(t)}
