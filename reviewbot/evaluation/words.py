"""The words of the model's findings, beside detection: of the comments the review posted, how many
are grounded in the change, how many are fragments, how many copy the prompt (facts.grounding
says what each means). The model's own sentence, before the comment was composed, is read the
same way, so that one run shows both."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..diff.parse import parse_diff
from ..facts.grounding import Reading, read
from ..model import Finding, Hunk
from .cases import Case


@dataclass(frozen=True, slots=True)
class WordCounts:
    comments: int = 0
    grounded: int = 0
    fragments: int = 0
    prompt_copies: int = 0
    said_grounded: int = 0  # the model's own sentences (before composing) that read as grounded
    said_fragments: int = 0
    said_prompt_copies: int = 0
    sentences: int = 0  # comments whose model wrote a sentence of its own (the likelihood route asks none)


def _hunk_of(hunks: Iterable[Hunk], f: Finding) -> Hunk | None:
    for h in hunks:
        for ln in h.lines:
            if ln.side is f.location.side and ln.number == f.location.line:
                return h
    return None


def _reading(text: str, f: Finding, files: Sequence, instructions: str) -> Reading | None:
    fd = next((x for x in files if f.location.path in (x.new_path, x.old_path)), None)
    h = _hunk_of(fd.hunks, f) if fd is not None else None
    if h is None:
        return None
    line = next(ln for ln in h.lines if ln.side is f.location.side and ln.number == f.location.line)
    return read(text, list(h.lines), [line], instructions, f.location.path)


def count_words(rows: Iterable[tuple[Case, Sequence[Finding], str | None]], instructions: str) -> WordCounts:
    """Counts over every model finding of ``rows`` (the same rows that ``score`` reads)."""
    n = g = fr = cp = sg = sf = sc = said = 0
    for case, findings, _error in rows:
        model = [f for f in findings if f.source == "model" and f.rule.startswith("review/")]
        if not model:
            continue
        files = parse_diff(case.diff_text())
        for f in model:
            n += 1
            r = _reading(f.message, f, files, instructions)
            g += bool(r and r.kept)
            fr += bool(r is None or r.fragment)
            cp += bool(r and r.prompt_copy)
            s = _reading(f.said or "", f, files, instructions) if f.said is not None else None
            said += f.said is not None
            sg += bool(s and s.kept)
            sf += bool(s and s.fragment)
            sc += bool(s and s.prompt_copy)
    return WordCounts(n, g, fr, cp, sg, sf, sc, said)


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else f"{k}/0"


def format_words(w: WordCounts) -> str:
    """Two lines: the posted comments, and the model's own sentences before composing."""
    if not w.comments:
        return "model comments: none\n"
    return (
        f"model comments: {w.comments}; grounded {_pct(w.grounded, w.comments)}; "
        f"fragments {w.fragments}; prompt copies {w.prompt_copies}\n"
        + (
            f"  the model's own sentences (before the fact was put first): {w.sentences}; grounded "
            f"{_pct(w.said_grounded, w.sentences)}; fragments {w.said_fragments}; "
            f"prompt copies {w.said_prompt_copies}\n"
            if w.sentences
            else "  the model's own sentences: none (the model was asked for none)\n"
        )
        + "  grounded: names a token the change adds or removes or an identifier of the flagged row, a full "
        "sentence, quotes only code the hunk holds, copies no 6-word run of the instructions\n"
    )
