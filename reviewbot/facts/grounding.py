"""Whether a sentence about a change is grounded in it: it names a token that the change adds or
removes, or an identifier of the flagged rows; it is a full sentence, not a fragment; it quotes no
code that the rows do not hold; it does not copy the instructions it was given.

The review route keeps a model's sentence only when it passes, and ``reviewbot eval`` counts, over
the posted comments, how many are grounded, fragments or copies of the prompt.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Line, LineKind
from .tokens import tokens

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
COMMON = set(keyword.kwlist) | {
    "self",
    "the",
    "a",
    "an",
    "is",
    "not",
    "to",
    "of",
    "in",
    "and",
    "or",
    "code",
    "function",
    "should",
    "be",
    "it",
    "this",
    "that",
    "if",
    "for",
    "with",
    "value",
    "return",
    "None",
    "True",
    "False",
}
_BRACKETS = {"(", ")", ",", ":", ".", "[", "]", "{", "}", ";"}
COPIED_RUN = 6  # a run of this many words of the instructions, in order, is a copy
_SENTENCE_END = re.compile(r"[.!?][\"')`]*$")


@dataclass(frozen=True, slots=True)
class Reading:
    """How one sentence reads against the change."""

    grounded: bool  # names a changed token or a flagged identifier (and is a sentence, not a copy)
    fragment: bool  # not a full sentence
    prompt_copy: bool  # repeats a run of the instructions
    foreign_quote: bool  # quotes code that the rows do not hold

    @property
    def kept(self) -> bool:
        return self.grounded and not (self.fragment or self.prompt_copy or self.foreign_quote)


def changed_tokens(rows: Iterable[Line], path: str = "") -> set[str]:
    """The tokens that the change adds or removes in these rows (brackets and commas aside)."""
    rows = list(rows)
    old = [t for ln in rows if ln.kind is LineKind.REMOVED for t, _s, _e in tokens(ln.text, path)]
    new = [t for ln in rows if ln.kind is LineKind.ADDED for t, _s, _e in tokens(ln.text, path)]
    return (set(old) ^ set(new)) - _BRACKETS


def identifiers(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w not in COMMON}


def is_fragment(text: str) -> bool:
    """Not a full sentence: under four words, no capital or quote to open it, or no full stop."""
    s = text.strip()
    if len(s.split()) < 4:
        return True
    if not (s[0].isupper() or s[0] in "`\"'"):
        return True
    return not _SENTENCE_END.search(s)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+", text.lower())


def copies(text: str, instructions: str, run: int = COPIED_RUN) -> bool:
    """True when ``text`` repeats ``run`` consecutive words of ``instructions``."""
    ws = _words(text)
    grams = {tuple(ws[i : i + run]) for i in range(len(ws) - run + 1)}
    if not grams:
        return False
    iw = _words(instructions)
    return any(tuple(iw[i : i + run]) in grams for i in range(len(iw) - run + 1))


def _norm(text: str) -> str:
    return " ".join(text.split())


def quotes_outside(text: str, rows: Iterable[Line]) -> bool:
    """True when a code span of ``text`` is not found in the rows."""
    shown = "\n".join(_norm(ln.text) for ln in rows)
    spans = [_norm(s) for s in re.findall(r"`+\s?([^`]+?)\s?`+", text)]
    return any(s and s not in shown for s in spans)


def read(text: str, rows: list[Line], flagged: Iterable[Line], instructions: str, path: str = "") -> Reading:
    """How ``text`` reads against the change shown in ``rows``; ``flagged`` are the rows it is on."""
    delta = changed_tokens(rows, path)
    names = identifiers(text)
    flagged_ids = set().union(*(identifiers(ln.text) for ln in flagged)) if flagged else set()
    on_change = bool(names & ({t for t in delta if WORD.fullmatch(t)} | flagged_ids))
    if not on_change:
        on_change = _quotes_a_change(text, delta, path)
    fragment = is_fragment(text)
    copy = copies(text, instructions)
    return Reading(on_change and not fragment and not copy, fragment, copy, quotes_outside(text, rows))


def names_change(text: str, rows: list[Line], path: str = "") -> bool:
    """True when ``text`` names a token that the change itself adds or removes (stricter than
    grounded: an identifier of an unchanged part of the row does not count)."""
    delta = changed_tokens(rows, path)
    if identifiers(text) & {t for t in delta if WORD.fullmatch(t)}:
        return True
    return _quotes_a_change(text, delta, path)


def _quotes_a_change(text: str, delta: set[str], path: str) -> bool:
    """True when a code span of ``text`` holds a token that the change adds or removes (keywords
    and operators included: a quoted `else:` or `>=` names what changed)."""
    return any(
        t in delta for span in re.findall(r"`+\s?([^`]+?)\s?`+", text) for t, _s, _e in tokens(span, path)
    )
