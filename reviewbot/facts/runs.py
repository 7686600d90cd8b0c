"""The facts of a run of changed lines: old and new lines aligned, each pair compared (``python``
for Python files where both lines parse, ``tokens`` otherwise), and the lines left over named as
removed or added statements."""

from __future__ import annotations

import difflib
import keyword
import re
from dataclasses import dataclass

from ..model import Hunk, Line, LineKind
from .describe import alone, describe
from .python import differences, parse_line
from .tokens import code_tokens, quotable, quote, same_python_code, token_change

MOST_PER_PAIR = 2  # a line pair that differs in more places is described by its first two


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing the change did. ``text`` is a full sentence quoting code exactly; ``consequence``,
    where there is one, follows from the kind of change alone."""

    kind: str
    text: str
    old: Line | None = None  # the removed line it is about
    new: Line | None = None  # the added line it is about
    consequence: str | None = None

    @property
    def sentence(self) -> str:
        if not self.consequence:
            return self.text
        return f"{self.text[:-1]}; {self.consequence}."

    def about(self, line: Line) -> bool:
        return line is self.old or line is self.new or line == self.old or line == self.new


def _is_python(path: str) -> bool:
    return path.endswith((".py", ".pyi"))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _pairs(removed: list[Line], added: list[Line]) -> list[tuple[Line | None, Line | None]]:
    """Old and new lines aligned: equal lines (whitespace aside) pair, then replaced blocks pair
    line by line in order where the lines are alike; the rest stand alone."""
    sm = difflib.SequenceMatcher(
        None, [_norm(x.text) for x in removed], [_norm(x.text) for x in added], False
    )
    out: list[tuple[Line | None, Line | None]] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        old, new = removed[i1:i2], added[j1:j2]
        if op == "equal" or op == "replace" and len(old) == len(new):
            out.extend(zip(old, new))
            continue
        j = 0
        for o in old:
            best, best_r = None, 0.5
            for k in range(j, len(new)):
                r = difflib.SequenceMatcher(None, _norm(o.text), _norm(new[k].text), False).ratio()
                r += 0.3 if _opener(o.text) and _opener(o.text) == _opener(new[k].text) else 0.0
                if r > best_r:
                    best, best_r = k, r
            if best is None:
                out.append((o, None))
                continue
            out.extend((None, n) for n in new[j:best])
            out.append((o, new[best]))
            j = best + 1
        out.extend((None, n) for n in new[j:])
    return out


def _opener(text: str) -> str:
    """The keyword a line opens with, when it is a statement keyword (two such lines pair)."""
    word = text.split(maxsplit=1)[0] if text.strip() else ""
    return word if keyword.iskeyword(word) and word not in ("not", "in", "is", "and", "or") else ""


def _pair_facts(o: Line, n: Line, path: str) -> list[Fact]:
    if o.text == n.text:
        return []
    if not o.text.strip() or not n.text.strip():  # a line replaced by a blank one: removed (or added)
        alone = _alone(n if not o.text.strip() else o, path)
        return [alone] if alone is not None else []
    if _norm(o.text) == _norm(n.text):
        if o.text.strip() == n.text.strip():
            wa, wb = len(o.text) - len(o.text.lstrip()), len(n.text) - len(n.text.lstrip())
            if _is_python(path) and wa != wb:
                return [
                    Fact(
                        "indentation",
                        f"The indentation of {_line_q(n)} changed from {wa} to {wb} columns.",
                        o,
                        n,
                    )
                ]
            return [Fact("whitespace", f"Only whitespace changed in {_line_q(n)}.", o, n)]
        return [Fact("whitespace", f"Only whitespace changed in {_line_q(n)}.", o, n)]
    if _is_python(path):
        a, b = parse_line(o.text, partial=True), parse_line(n.text, partial=True)
        if a is not None and b is not None and a.part == b.part:
            diffs = differences(a.node, b.node)[:MOST_PER_PAIR]
            said = [describe(x, y, a, b) for x, y in diffs]
            return [Fact(s.kind, s.text, o, n, s.consequence) for s in said]
    if code_tokens(o.text, path) == code_tokens(n.text, path):
        change = token_change(o.text, n.text, path)
        said = (
            f": {quote(change[0])} became {quote(change[1])}" if change and all(map(quotable, change)) else ""
        )
        return [Fact("comment", f"Only the comment changed{said}.", o, n)]
    change = token_change(o.text, n.text, path)
    if change is None:
        return [Fact("whitespace", f"Only whitespace changed in {_line_q(n)}.", o, n)]
    x, y = change
    if quotable(x) and quotable(y):
        return [Fact("changed", f"The code {quote(x)} became {quote(y)}.", o, n)]
    return [Fact("changed", "This line was rewritten.", o, n)]


def _one(removed: list[Line], added: list[Line]) -> str:
    """One changed line of a run, quoted: the first added line that is new, else a removed one."""
    old = {x.text for x in removed}
    new = {x.text for x in added}
    first = next((x for x in added if x.text not in old and x.text.strip()), None)
    if first is not None:
        return f"one now reads {_line_q(first)}"
    gone = next((x for x in removed if x.text not in new and x.text.strip()), None)
    return f"one was {_line_q(gone)}" if gone is not None else "blank lines"


LONG_LINE_START = 60  # a line too long to quote whole is quoted up to here, then "…"


def _line_q(ln: Line) -> str:
    """The line quoted exactly; a long one by its start (exact text of it) and "…"."""
    s = ln.text.strip()
    if quotable(s):
        return quote(s)
    start = s.splitlines()[0][:LONG_LINE_START] if s else ""
    start = start[: start.rfind(" ")] if " " in start[LONG_LINE_START // 2 :] else start
    return f"{quote(start.rstrip())}…" if start.strip() else "the line"


def _alone(ln: Line, path: str) -> Fact | None:
    removed = ln.kind is LineKind.REMOVED
    s = ln.text.strip()
    verb = "removed" if removed else "added"
    if not s:
        return None
    where = (ln, None) if removed else (None, ln)
    if _is_python(path):
        if s.startswith("#"):
            return Fact("comment", f"The comment {_line_q(ln)} was {verb}.", *where)
        stmt = parse_line(ln.text)
        if stmt is not None:
            said = alone(stmt, removed)
            return Fact(said.kind, said.text, *where, said.consequence)
    elif not code_tokens(s, path):
        return Fact("comment", f"The comment {_line_q(ln)} was {verb}.", *where)
    return Fact(f"line-{verb}", f"The line {_line_q(ln)} was {verb}.", *where)


def facts_for_run(removed: list[Line], added: list[Line], path: str) -> list[Fact]:
    """The facts of one run: the removed lines and the added lines that replace them."""
    old_text = "\n".join(x.text for x in removed)
    new_text = "\n".join(x.text for x in added)
    if (
        (removed or added)
        and old_text != new_text
        and code_tokens(old_text, path) == code_tokens(new_text, path)
    ):
        if _norm(old_text) == _norm(new_text) or "".join(old_text.split()) == "".join(new_text.split()):
            if not (_is_python(path) and _indents(removed) != _indents(added)):
                anchor_old, anchor_new = (removed or [None])[0], (added or [None])[0]
                return [
                    Fact(
                        "whitespace",
                        f"Only whitespace changed in these lines ({_one(removed, added)}); "
                        "the code is the same.",
                        anchor_old,
                        anchor_new,
                    )
                ]
        else:
            anchor_old, anchor_new = (removed or [None])[0], (added or [None])[0]
            return [
                Fact(
                    "comment",
                    f"Only comments changed in these lines ({_one(removed, added)}); the code is the same.",
                    anchor_old,
                    anchor_new,
                )
            ]
    facts: list[Fact] = []
    for o, n in _pairs(removed, added):
        if o is not None and n is not None:
            facts.extend(_pair_facts(o, n, path))
        else:
            fact = _alone(o or n, path)  # type: ignore[arg-type]
            if fact is not None:
                facts.append(fact)
    return facts


def changes_no_code(removed: list[Line], added: list[Line], path: str) -> bool:
    """True when a run of changed lines changes no code: only comments, blank lines or whitespace
    inside lines differ (in Python the code lines also keep their indentation, which is code), or in
    Python the quotes of a string whose value is the same (`'a'` became `"a"`)."""
    if not (removed or added):
        return False
    old_text = "\n".join(x.text for x in removed)
    new_text = "\n".join(x.text for x in added)
    old_tokens, new_tokens = code_tokens(old_text, path), code_tokens(new_text, path)
    if not _is_python(path):
        return old_tokens == new_tokens
    if not same_python_code(old_tokens, new_tokens):
        return False

    def code_indents(lines: list[Line]) -> list[int]:
        return _indents([x for x in lines if code_tokens(x.text, path)])

    return code_indents(removed) == code_indents(added)


def _indents(lines: list[Line]) -> list[int]:
    return [len(x.text) - len(x.text.lstrip()) for x in lines if x.text.strip()]


def runs_of(h: Hunk) -> list[tuple[list[Line], list[Line]]]:
    """Each run of changed lines of a hunk, as (removed, added)."""
    out: list[tuple[list[Line], list[Line]]] = []
    cur: tuple[list[Line], list[Line]] | None = None
    for ln in h.lines:
        if ln.kind is LineKind.CONTEXT:
            cur = None
            continue
        if cur is None:
            cur = ([], [])
            out.append(cur)
        (cur[0] if ln.kind is LineKind.REMOVED else cur[1]).append(ln)
    return out


def facts_for_hunk(h: Hunk, path: str) -> list[Fact]:
    """The facts of every run of a hunk, in order."""
    return [f for removed, added in runs_of(h) for f in facts_for_run(removed, added, path)]


def facts_at(facts: list[Fact], line: Line) -> list[Fact]:
    """The facts about one line (as old or new line of a pair, or alone)."""
    return [f for f in facts if f.about(line)]


MOST_NAMED = 3  # tokens named on each side by a naming fact


def naming_fact(line: Line, rows: list[Line], path: str) -> Fact | None:
    """A fact that names what the change adds or removes near ``line``, for a line whose own change
    names nothing (a bracket, a blank line, a keyword the other side also has): the tokens that
    only the removed lines (or only the added lines) have. Those of the run of ``line`` come first,
    and the other side of every changed line of ``rows`` is checked too (a block moved within the
    hunk adds nothing); else the changed lines of ``rows``; else the run alone. None when no token
    is only on one side."""
    removed, added = run_of(line, rows)
    all_removed = [x for x in rows if x.kind is LineKind.REMOVED]
    all_added = [x for x in rows if x.kind is LineKind.ADDED]
    tried = (
        ("In this block of changed lines", removed, added, all_removed, all_added),
        ("In the changed lines nearby", all_removed, all_added, all_removed, all_added),
        ("In this block of changed lines", removed, added, removed, added),
    )
    for where, old, new, old_all, new_all in tried:
        said = _only_on_one_side(old, new, old_all, new_all, path)
        if said:
            at = (line, None) if line.kind is LineKind.REMOVED else (None, line)
            return Fact("names", f"{where}, {said}.", *at)
    return None


def run_of(line: Line, rows: list[Line]) -> tuple[list[Line], list[Line]]:
    """The run of changed rows that holds ``line``, as (removed, added)."""
    i = rows.index(line)
    lo = hi = i
    while lo > 0 and rows[lo - 1].kind is not LineKind.CONTEXT:
        lo -= 1
    while hi < len(rows) - 1 and rows[hi + 1].kind is not LineKind.CONTEXT:
        hi += 1
    run = rows[lo : hi + 1]
    return [x for x in run if x.kind is LineKind.REMOVED], [x for x in run if x.kind is LineKind.ADDED]


def _only_on_one_side(
    removed: list[Line], added: list[Line], all_removed: list[Line], all_added: list[Line], path: str
) -> str:
    gone = _only_in(removed, all_added, path)
    new = _only_in(added, all_removed, path)
    parts = []
    if gone:
        parts.append(f"only the removed lines have {_listed(gone)}")
    if new:
        parts.append(f"only the added lines have {_listed(new)}")
    return " and ".join(parts)


def _only_in(side: list[Line], other: list[Line], path: str) -> list[str]:
    """Tokens of ``side``'s code that no line of ``other`` holds anywhere (not even in a comment or
    a string), names first, then keywords and operators, then short strings and numbers."""
    other_text = "\n".join(x.text for x in other)
    seen: list[str] = []
    for ln in side:
        for t in code_tokens(ln.text, path):
            if t in seen or t in _PUNCTUATION or not quotable(t) or len(t) > MOST_QUOTED_TOKEN:
                continue
            bounded = rf"(?<![\w$]){re.escape(t)}(?![\w$])" if _WORD.match(t) else re.escape(t)
            if not re.search(bounded, other_text):
                seen.append(t)
    return sorted(seen, key=_rank)[:MOST_NAMED]


MOST_QUOTED_TOKEN = 40
_PUNCTUATION = {"(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "=", "\\"}
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*$")


def _rank(t: str) -> int:
    if _WORD.match(t):
        return 1 if keyword.iskeyword(t) or t in ("self", "None", "True", "False") else 0
    return 2 if not t[0].isalnum() and t[0] not in "\"'`" else 3


def _listed(names: list[str]) -> str:
    q = [quote(x) for x in names]
    return q[0] if len(q) == 1 else f"{', '.join(q[:-1])} and {q[-1]}"
