"""A model comment is the change fact first; the model's sentence follows only when grounded; a
suggestion only when it parses in place."""

from __future__ import annotations

import pytest

from reviewbot.model import Line, LineKind
from reviewbot.routes.review_comment import Words, compose, suggestion_fits

CTX = Line(LineKind.CONTEXT, 1, 1, "def allowed(x, limit):")
OLD = Line(LineKind.REMOVED, 2, None, "    return x <= limit")
NEW = Line(LineKind.ADDED, None, 2, "    return x < limit")
ROWS = [CTX, OLD, NEW]
FACT = (
    "The comparison operator `<=` became `<`: `x <= limit` became `x < limit`; where the two sides are "
    "equal it is now false."
)


@pytest.mark.parametrize(
    ("said", "kept"),
    [
        ("Values equal to `limit` are now rejected by `<`.", True),  # names the operator the change adds
        ("The return statement is not used.", False),  # names nothing the change adds or removes
        ("File:", False),  # a fragment
        ("the check `x < limit` drops equal values", False),  # no capital, no full stop: not a sentence
        ("Each row is numbered R1, R2, ...; `+` rows are added, `-` rows are removed.", False),  # the prompt
        ("Use `x < limit + 1` instead of `<`.", False),  # quotes code the rows do not hold
    ],
)
def test_the_fact_comes_first_and_the_sentence_only_when_grounded(said: str, kept: bool) -> None:
    words = Words()
    message, fact = compose("pkg/limits.py", NEW, ROWS, said, words)
    assert fact == FACT
    assert message == (f"{FACT} {said}" if kept else FACT)
    assert words.sentences_left_out == (0 if kept else 1)
    assert bool(words.notes()) is not kept


@pytest.mark.parametrize(
    ("suggestion", "path", "offered"),
    [
        ("    return x <= limit", "pkg/limits.py", True),
        ("return x <= limit", "pkg/limits.py", False),  # loses the line's indentation
        ("    return x <= (limit", "pkg/limits.py", False),  # does not parse
        ("    return x < limit", "pkg/limits.py", False),  # the line as it is
        ("    if x <= limit:", "pkg/limits.py", False),  # a block opener where a statement stood
        ("    return (x <= limit)", "pkg/limits.py", True),
        ("  return x <= limit;", "web/limits.js", False),  # nothing here can parse it: not offered
    ],
)
def test_a_suggestion_is_offered_only_when_it_parses_in_place(
    suggestion: str, path: str, offered: bool
) -> None:
    words = Words()
    assert suggestion_fits(suggestion, NEW, path, words) == (suggestion if offered else None)
    assert words.suggestions_left_out == (0 if offered else 1)


@pytest.mark.parametrize(
    ("original", "suggestion", "offered"),
    [
        ("class Hooks:", "class Hooks(object):", True),  # a block opener for a block opener
        ("class Hooks:", "class Hooks(object): pass", False),  # the body below would break
        ("def resolve(r, p):", "def resolve(r, p): return p.copy()", False),
        ("else:", "else:  # the default", True),  # a branch, as the line was
        ("except OSError:", "except (OSError, ValueError):", True),
        ("    and limit > 0)", "    and limit >= 0)", False),  # a continued line: nothing to parse it in
    ],
)
def test_a_suggestion_keeps_the_frame_of_the_line_it_replaces(
    original: str, suggestion: str, offered: bool
) -> None:
    line = Line(LineKind.ADDED, None, 5, original)
    assert suggestion_fits(suggestion, line, "pkg/m.py") == (suggestion if offered else None)


def test_under_the_likelihood_strategy_the_fact_stands_alone() -> None:
    """A grounded sentence can still be false; where nothing checks it, it is left out and counted."""
    words = Words(model_speaks=False)
    said = "The function `allowed` now wrongly rejects every value below `limit` with `<`."
    message, fact = compose("pkg/limits.py", NEW, ROWS, said, words)
    assert message == fact == FACT
    assert words.sentences_unchecked == 1 and words.sentences_left_out == 0
    assert any("likelihood strategy" in n for n in words.notes())
    message, _fact = compose("pkg/limits.py", NEW, ROWS, said, Words())
    assert message == f"{FACT} {said}"  # the same sentence where a check may have confirmed it


def test_a_line_whose_own_change_names_nothing_states_what_its_block_adds_and_removes() -> None:
    rows = [
        Line(LineKind.CONTEXT, 1, 1, "def total(items):"),
        Line(LineKind.REMOVED, 2, None, "    return sum("),
        Line(LineKind.REMOVED, 3, None, "        price for price in items"),
        Line(LineKind.REMOVED, 4, None, "    )"),
        Line(LineKind.ADDED, None, 2, "    return math.fsum(items)"),
    ]
    message, _fact = compose("pkg/cart.py", rows[3], rows, "")
    assert message == (
        "The line `)` was removed. In this block of changed lines, only the removed lines have `sum`, "
        "`price` and `for` and only the added lines have `math` and `fsum`."
    )
