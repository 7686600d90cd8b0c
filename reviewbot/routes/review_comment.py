"""The words of a model comment: the change fact first, then the model's sentence, kept only when it
is grounded in the change; a suggestion only when it is code that parses where it would go.

The fact (reviewbot.facts) is an exact, deterministic account of what the change did on the line
the comment stands on, with its consequence where the kind of change implies one. The model's
sentence follows only when it names a token that the change adds or removes, is a full sentence,
quotes no code that the rows do not hold and copies none of the instructions; otherwise the fact
stands alone and the notes count the sentences left out.

Grounded is not true: a sentence can name the changed token and still be false ("`counts` is
incorrectly updated"). Under the likelihood strategy (the embedded 0.5B model's, whose sentences
were false or beside the point in most of a judged sample, and no better than the fact in the rest)
nothing checks the sentence, and no rule here can tell a true one from a false one, so the fact
stands alone there (``Words(model_speaks=False)``) and the notes count the sentences left out.
The generative strategy keeps grounded sentences: a second pass of its model confirms each
finding first.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from .. import prompts
from ..facts import facts_at, facts_for_run, naming_fact, run_of
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

    model_speaks: bool = True  # False: the model's sentence never follows the fact (nothing checks it true)
    sentences_left_out: int = 0
    sentences_unchecked: int = 0  # left out because the model does not speak (model_speaks=False)
    suggestions_left_out: int = 0

    def notes(self) -> tuple[str, ...]:
        out = []
        if self.sentences_left_out:
            out.append(
                f"review: {self.sentences_left_out} model sentence(s) left out, not grounded in the change "
                "(the comment states the change fact alone)"
            )
        if self.sentences_unchecked:
            out.append(
                f"review: {self.sentences_unchecked} model sentence(s) left out: under the likelihood "
                "strategy nothing checks the model's sentence true, so the comment states the change "
                "fact alone"
            )
        if self.suggestions_left_out:
            out.append(
                f"review: {self.suggestions_left_out} suggestion(s) left out, not code that parses there"
            )
        return tuple(out)


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
        said = " ".join(f.sentence for f in chosen)
    elif not line.text.strip():
        said = "Only blank lines changed here."
    else:
        verb = "removed" if line.kind is LineKind.REMOVED else "added"
        said = f"The line {quote(line.text.strip()) if quotable(line.text.strip()) else ''} was {verb}."
        said = said.replace("  ", " ")
    if read(said, rows, [line], "", path).grounded:
        return said
    named = naming_fact(line, rows, path)  # the line's own change names nothing that changed here
    return f"{said} {named.sentence}" if named is not None else said


def compose(
    path: str, line: Line, rows: list[Line], message: str, words: Words | None = None
) -> tuple[str, str]:
    """The comment and the fact it opens with: the fact, then the model's sentence when it is
    grounded and the model speaks (else counted)."""
    fact = fact_text(path, line, rows) or "This line changed."
    sentence = " ".join(message.split())
    if words is not None and not words.model_speaks:
        words.sentences_unchecked += bool(sentence)
        return fact, fact
    reading = read(sentence, rows, [line], instructions(), path)
    if reading.kept and names_change(sentence, rows, path) and sentence not in fact:
        return f"{fact} {sentence}", fact
    if words is not None and sentence:
        words.sentences_left_out += 1
    return fact, fact


def suggestion_fits(suggestion: str | None, line: Line, path: str, words: Words | None = None) -> str | None:
    """The suggestion when it is code that parses in place of ``line``: in the frame the line
    itself parses in (a statement, a block's opening line, an ``else:`` or ``except:``), so that a
    block opener is replaced by a block opener and a statement by statements (Python only: for
    other languages nothing here can check it, so it is not offered)."""
    if not suggestion or not suggestion.strip():
        return None
    frame = _frame(line.text.strip())
    ok = (
        path.endswith((".py", ".pyi"))
        and frame is not None
        and suggestion.rstrip("\n") != line.text
        and _parses_in_place(suggestion, line.text, frame)
    )
    if not ok and words is not None:
        words.suggestions_left_out += 1
    return suggestion if ok else None


# where a line of Python can stand: alone, as a block's opening line, as a branch of an if or a try
_FRAMES = (
    lambda b: b,
    lambda b: b + "\n    pass",
    lambda b: "if _:\n    pass\n" + b + "\n    pass",
    lambda b: "try:\n    pass\n" + b + "\n    pass",
)


def _parses(src: str) -> bool:
    try:
        ast.parse(src)
    except (SyntaxError, ValueError):
        return False
    return True


def _frame(text: str) -> int | None:
    """The first of `_FRAMES` that ``text`` parses in; None for a fragment (a continued line)."""
    return next((i for i, wrap in enumerate(_FRAMES) if _parses(wrap(text))), None)


def _parses_in_place(suggestion: str, original: str, frame: int) -> bool:
    lines = suggestion.rstrip("\n").splitlines()
    indent = original[: len(original) - len(original.lstrip())]
    first = lines[0]
    if first[: len(first) - len(first.lstrip())] != indent:
        return False
    return _parses(_FRAMES[frame](textwrap.dedent("\n".join(lines))))
