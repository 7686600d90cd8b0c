"""Stable identities for findings, and the merge of findings that say the same thing.

The pipeline merges with ``dedupe`` here; reporters and hosts take ``fingerprint``, ``content_key``
and ``keys_of`` from here.

``fingerprint`` names a finding across runs (the hidden marker in posted comments, SARIF's
``partialFingerprints``, the JSON ``fingerprint`` field): sha256 over the path, rule, side, line
and the normalized message, cut to 16 hex digits. Rewording the message beyond case, whitespace
and trailing punctuation, or moving the finding to another line, gives a new fingerprint.

``content_key`` names a finding by what it says about which code: sha256 over the path, rule,
side, normalized message and the text of its lines (not their numbers), so it survives code moving
up or down. Posted comments carry both (``keys_of`` gives both for a run's findings).

``dedupe`` merges findings that two sources (the model and ruff, say) reported for the same code.
Two findings are duplicates when all of these hold:

1. same path and same side;
2. their line ranges (``start_line..line``) overlap;
3. they mean the same thing: the normalized messages are equal, or both come from the same
   non-model source with the same rule (``ruff/F401`` twice; not two tests: each failing test
   is its own check, named in its message), or their messages share most of their words
   (Jaccard similarity of word stems >= ``SIMILAR``, 0.6).

A model rule such as ``model/bug`` is a category, not a check, so two model findings with the same
rule and different messages are both kept. Of a group of duplicates the first one in the input
wins; callers put the findings they trust most first (deterministic tools before the model).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from .diff import DiffIndex
from .model import Anchored, Finding, Unanchored

SIMILAR = 0.6

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9_]+")
# fmt: off
_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "for", "from", "has", "have", "in",
        "into", "is", "it", "its", "may", "might", "of", "on", "or", "should", "that", "the", "this", "to",
        "was", "were", "will", "with",
    }
)
# fmt: on


def normalize_message(message: str) -> str:
    """Case-folded, whitespace collapsed, without trailing punctuation."""
    return _WS.sub(" ", message).strip().casefold().rstrip(".!;: ")


def fingerprint(f: Finding) -> str:
    """16 hex digits identifying `f` across runs (see the module docstring for what goes in)."""
    loc = f.location
    parts = (loc.path, f.rule, loc.side.value, str(loc.line), normalize_message(f.message))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def content_key(f: Finding, index: DiffIndex) -> str:
    """16 hex digits over path, rule, message and the text of the finding's lines (not their numbers)."""
    loc = f.location
    texts = []
    for n in range(loc.first, loc.line + 1):
        ln = index.line_at(loc.path, loc.side, n)
        texts.append(ln.text.strip() if ln is not None else "")
    parts = (loc.path, f.rule, loc.side.value, normalize_message(f.message), "\n".join(texts))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def keys_of(items: Iterable[Anchored | Unanchored], index: DiffIndex) -> frozenset[str]:
    """Fingerprints and content keys of findings: what the current run still says."""
    out: set[str] = set()
    for item in items:
        out.add(fingerprint(item.finding))
        out.add(content_key(item.finding, index))
    return frozenset(out)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _words(message: str) -> frozenset[str]:
    return frozenset(
        _stem(w) for w in _WORD.findall(message.casefold()) if w not in _STOP and (len(w) > 1 or w.isdigit())
    )


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two messages' word stems (0 when either has none)."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def _overlap(a: Finding, b: Finding) -> bool:
    la, lb = a.location, b.location
    return la.first <= lb.line and lb.first <= la.line


def same_meaning(a: Finding, b: Finding) -> bool:
    if normalize_message(a.message) == normalize_message(b.message):
        return True
    if a.rule == b.rule and a.source == b.source and a.source not in ("model", "pytest"):
        return True
    return similarity(a.message, b.message) >= SIMILAR


def is_duplicate(a: Finding, b: Finding) -> bool:
    la, lb = a.location, b.location
    return la.path == lb.path and la.side is lb.side and _overlap(a, b) and same_meaning(a, b)


def dedupe(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Keep the first of each group of duplicates (the rule is in the module docstring), in order."""
    kept: list[Finding] = []
    by_file: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        bucket = by_file.setdefault((f.location.path, f.location.side.value), [])
        if any(is_duplicate(k, f) for k in bucket):
            continue
        bucket.append(f)
        kept.append(f)
    return tuple(kept)
