"""The words of a model comment: the change fact first, then the model's sentence, kept only when it
is grounded in the change; a suggestion only when it is code that parses where it would go.

The fact (reviewbot.facts) is an exact, deterministic account of what the change did on the line
the comment stands on, with its consequence where the kind of change implies one. The model's
sentence follows only when it names a token that the change adds or removes, is a full sentence,
quotes no code that the rows do not hold and copies none of the instructions; otherwise the fact
stands alone and the notes count the sentences left out.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from .. import prompts
from ..facts import facts_at, facts_for_run
from ..facts.grounding import names_change, read
from ..facts.tokens import quotable, quote
from ..model import Line, LineKind

FACTS_PER_COMMENT = 2
LAYOUT = ("comment", "whitespace", "indentation")  # kinds of fact that change no code on their line
INSTRUCTION_TEMPLATES = ("review_system", "review_user", "review_generative_user", "review_check_user")


def instructions() -> str:
    """The text of every instruction the review's model is given (to tell a copy of it)."""
    return "\n".join(prompts.template(name).template for name in INSTRUCTION_TEMPLATES)


@dataclass(slots=True)
class Words:
    """What composing the comments of one review left out, for the notes."""

    sentences_left_out: int = 0
    suggestions_left_out: int = 0

    def notes(self) -> tuple[str, ...]:
        out = []
        if self.sentences_left_out:
            out.append(
                f"review: {self.sentences_left_out} model sentence(s) left out, not grounded in the change "
                "(the comment states the change fact alone)"
            )
        if self.suggestions_left_out:
            out.append(
                f"review: {self.suggestions_left_out} suggestion(s) left out, not code that parses there"
            )
        return tuple(out)


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


def fact_text(path: str, line: Line, rows: list[Line]) -> str:
    """The change facts about ``line`` (or its run), as sentences."""
    if line.kind is LineKind.CONTEXT:
        return ""
    removed, added = run_of(line, rows)
    facts = facts_for_run(removed, added, path)
    chosen = (facts_at(facts, line) or facts)[:FACTS_PER_COMMENT]
    if chosen and all(f.kind in LAYOUT for f in chosen):  # the line only moved or its comment changed:
        chosen += [f for f in facts if f.kind not in LAYOUT][:1]  # say what else the run did
    if chosen:
        return " ".join(f.sentence for f in chosen)
    text = line.text.strip()
    if not text:
        return "Only blank lines changed here."
    verb = "removed" if line.kind is LineKind.REMOVED else "added"
    return f"The line {quote(text) if quotable(text) else ''} was {verb}.".replace("  ", " ")


def compose(
    path: str, line: Line, rows: list[Line], message: str, words: Words | None = None
) -> tuple[str, str]:
    """The comment and the fact it opens with: the fact, then the model's sentence when it is
    grounded (else counted)."""
    fact = fact_text(path, line, rows) or "This line changed."
    sentence = " ".join(message.split())
    reading = read(sentence, rows, [line], instructions(), path)
    if reading.kept and names_change(sentence, rows, path) and sentence not in fact:
        return f"{fact} {sentence}", fact
    if words is not None and sentence:
        words.sentences_left_out += 1
    return fact, fact


def suggestion_fits(suggestion: str | None, line: Line, path: str, words: Words | None = None) -> str | None:
    """The suggestion when it is code that parses in place of ``line`` (Python only: for other
    languages nothing here can check it, so it is not offered)."""
    if not suggestion or not suggestion.strip():
        return None
    ok = (
        path.endswith((".py", ".pyi"))
        and suggestion.rstrip("\n") != line.text
        and _parses_in_place(suggestion, line.text)
    )
    if not ok and words is not None:
        words.suggestions_left_out += 1
    return suggestion if ok else None


def _parses_in_place(suggestion: str, original: str) -> bool:
    lines = suggestion.rstrip("\n").splitlines()
    indent = original[: len(original) - len(original.lstrip())]
    first = lines[0]
    if first[: len(first) - len(first.lstrip())] != indent:
        return False
    body = textwrap.dedent("\n".join(lines))
    for src in (
        body,
        body + "\n    pass",
        "if _:\n    pass\n" + body + "\n    pass",
        "try:\n    pass\n" + body + "\n    pass",
    ):
        try:
            ast.parse(src)
        except (SyntaxError, ValueError):
            continue
        return True
    return False
