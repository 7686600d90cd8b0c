"""How much a new finding resembles an earlier comment: a light measure on words and code tokens.

The message's words (lower-cased, code quotes included) and the commented line's code tokens are
compared as sets (Jaccard), and the two are averaged. No model: it needs no extra. Measured
against the MiniLM vectors of the ``vectors`` extra on review-bugs (``bench/learning_similarity.py``,
docs/benchmarks.md), it groups comments by their kind of change fact twice as well.
"""

from __future__ import annotations

import re

from .signals import Subject

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]{1,3}")
RESEMBLES = 0.5  # at or above this, a finding resembles an earlier comment


def tokens(text: str) -> frozenset[str]:
    return frozenset(t.lower() for t in _WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def similarity(a: Subject, b: Subject) -> float:
    """0..1: the mean of the messages' and the code lines' token overlaps."""
    return (jaccard(tokens(a.message), tokens(b.message)) + jaccard(tokens(a.code), tokens(b.code))) / 2
