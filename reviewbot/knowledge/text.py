"""Words for full-text search: identifiers split at case changes, underscores and dots.

    words("HTTPAdapter.send_request") -> ["httpadapter", "http", "adapter", "send_request", "send", "request"]

The FTS5 tables use the `porter unicode61` tokenizer on top, so `retries` finds `retry`. A query
is the question's content words (stopwords dropped), each quoted and joined with OR: BM25 ranks
the chunks that hold more of the rarer words first. `fts_query` never lets FTS5 syntax through.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

STOPWORDS = frozenset(
    """a an and are as at be but by can do does did for from has have how i if in into is it its of on
    or so that the their them then there these this those to was were what when where which who why will
    with would should could you your we our they not no yes any all some get gets set sets use used uses
    using there here about find code file files function functions class method methods module repository
    repo project handle handled handles happen happens done make made via one two also only other than
    me my may might must shall each per whose""".split()
)


def split_identifier(name: str) -> list[str]:
    """`sendRequest_v2` -> [send, request, v, 2] (lower case); the parts of a dotted or snake name."""
    return [p.lower() for p in _PART.findall(name)]


def words(text: str) -> list[str]:
    """Every identifier in `text`, whole and split into its parts, lower case, in order."""
    out: list[str] = []
    for ident in _IDENT.findall(text):
        low = ident.lower()
        parts = split_identifier(ident)
        out.append(low)
        if len(parts) > 1 or (parts and parts[0] != low):
            out.extend(parts)
    return out


def keywords(text: str) -> list[str]:
    """The content words of a question, without stopwords or duplicates, in order."""
    seen: dict[str, None] = {}
    for w in words(text):
        if len(w) > 1 and w not in STOPWORDS and not w.isdigit():
            seen.setdefault(w, None)
    return list(seen)


def fts_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: each term quoted (no operators can get in), joined with OR."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
