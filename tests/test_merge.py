from __future__ import annotations

import pytest
from support.samples import finding

from reviewbot.merge import dedupe, fingerprint, normalize_message, similarity
from reviewbot.model import Side


def test_fingerprint_is_pinned() -> None:
    # Changing this value breaks de-duplication against comments posted by earlier versions.
    f = finding("src/app.py", 11, rule="model/bug", message="Possible off-by-one in the loop bound")
    assert fingerprint(f) == PINNED


PINNED = "b4f713af261b7757"  # sha256 of the fields joined by \x1f, first 16 hex digits


@pytest.mark.parametrize(
    "other",
    [
        finding(message="  possible OFF-BY-ONE in the   loop bound. "),
        finding(message="Possible off-by-one in the loop bound", suggestion="x", severity=finding().severity),
        finding(probability=0.1, route="search"),
    ],
)
def test_fingerprint_ignores_case_space_punctuation_and_presentation(other) -> None:
    assert fingerprint(other) == fingerprint(finding())


@pytest.mark.parametrize(
    "other",
    [
        finding(path="src/other.py"),
        finding(line=12),
        finding(side=Side.LEFT),
        finding(rule="model/perf"),
        finding(message="Possible off-by-two in the loop bound"),
    ],
)
def test_fingerprint_changes_with_identity(other) -> None:
    assert fingerprint(other) != fingerprint(finding())


def test_fingerprint_shape() -> None:
    fp = fingerprint(finding())
    assert len(fp) == 16 and all(c in "0123456789abcdef" for c in fp)


def test_normalize_message() -> None:
    assert normalize_message(" Foo\n  BAR.  ") == "foo bar"


MODEL_UNUSED = finding(line=3, message="The import `os` is unused")
RUFF_UNUSED = finding(
    line=3, rule="ruff/F401", source="ruff", route="lint", message="`os` imported but unused"
)


@pytest.mark.parametrize(
    ("a", "b", "merged", "why"),
    [
        (
            finding(),
            finding(message="possible off-by-one in the loop bound."),
            True,
            "same normalized message",
        ),
        (RUFF_UNUSED, MODEL_UNUSED, True, "model and ruff say the same thing on the same line"),
        (
            finding(line=5, rule="ruff/E501", source="ruff", message="Line too long (120 > 110)"),
            finding(line=5, rule="ruff/E501", source="ruff", message="Line too long (130 > 110)"),
            True,
            "same tool rule on the same line",
        ),
        (finding(line=12, start=10), finding(line=11), True, "ranges overlap"),
        (finding(line=11), finding(line=13, start=12), False, "ranges do not overlap"),
        (finding(), finding(path="src/b.py"), False, "different file"),
        (finding(), finding(side=Side.LEFT), False, "different side"),
        (
            finding(message="SQL built by string formatting: injection"),
            finding(message="Variable name shadows the builtin `list`"),
            False,
            "same model rule, different meaning",
        ),
        (
            finding(
                rule="pytest/failed", source="pytest", message="test t.py::test_a fails: ZeroDivisionError"
            ),
            finding(
                rule="pytest/failed", source="pytest", message="test t.py::test_b fails: assert [] == [1]"
            ),
            False,
            "two failing tests on one line: each test is its own check",
        ),
        (
            finding(
                rule="pytest/failed", source="pytest", message="test t.py::test_a fails: ZeroDivisionError"
            ),
            finding(
                rule="pytest/failed", source="pytest", message="test t.py::test_a fails: ZeroDivisionError"
            ),
            True,
            "the same failing test twice (the tools route and the change's tests)",
        ),
        (
            finding(rule="ruff/F401", source="ruff", message="`os` imported but unused"),
            finding(rule="ruff/E501", source="ruff", message="Line too long (120 > 110)"),
            False,
            "different tool rules",
        ),
    ],
)
def test_dedupe(a, b, merged, why) -> None:
    out = dedupe([a, b])
    assert out == ((a,) if merged else (a, b)), why


def test_dedupe_keeps_first_and_order() -> None:
    c = finding(path="z.py")
    assert dedupe([RUFF_UNUSED, c, MODEL_UNUSED]) == (RUFF_UNUSED, c)
    assert dedupe([MODEL_UNUSED, RUFF_UNUSED]) == (MODEL_UNUSED,)
    assert dedupe([]) == ()


def test_similarity_bounds() -> None:
    assert similarity("", "anything") == 0.0
    assert similarity("Unused import os", "os imported, unused") == 1.0
