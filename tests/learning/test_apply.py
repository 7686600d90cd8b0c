"""Learning applied to a review's result: held-back findings leave the findings and are listed in
the notes with their reasons; linter findings stay; the committed file's lessons apply until they
expire; the marker a posted comment carries names its rule, change fact kind and confidence."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reviewbot.diff.parse import parse_diff
from reviewbot.learning.apply import about_for, hold_back_result, prepare
from reviewbot.learning.file import parse
from reviewbot.learning.marker import read_about
from reviewbot.learning.signals import Signal, Subject
from reviewbot.model import Anchored, ChangeSet, Finding, Location, Result, Severity, Side, Stats
from tests.support.learning_threads import PY_CHANGE

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def result_of(*findings: Finding) -> Result:
    cs = ChangeSet(tuple(parse_diff(PY_CHANGE)), "a test diff")
    return Result(cs, tuple(Anchored(f, 0, True) for f in findings), (), (), Stats())


def model(line: int, message: str) -> Finding:
    return Finding(
        Location("pkg/m.py", Side.RIGHT, line),
        Severity.WARNING,
        message,
        "review/bug",
        "review",
        confidence=0.5,
    )


def test_held_back_findings_leave_the_result_and_are_listed_with_their_reasons() -> None:
    compare, ret = model(2, "The comparison changed."), model(4, "The return value changed.")
    lint = Finding(
        Location("pkg/m.py", Side.RIGHT, 2), Severity.WARNING, "lint", "ruff/X1", "lint", source="ruff"
    )
    signals = [
        Signal(
            "down",
            "ann",
            True,
            pr,
            WHEN,
            Subject(
                "review/bug",
                "comparison-operator",
                f"pkg/{name}.py",
                f"`{name} >= b` became `{name} > b`.",
                f"{name} > b",
                0.4,
            ),
        )
        for pr, name in ((11, "a"), (12, "b"), (13, "c"))
    ]
    learned = prepare(signals, None, this_pr=20, today=date(2026, 12, 6), base_floor=0.18)
    out, held = hold_back_result(result_of(compare, ret, lint), learned)
    assert out.findings == (ret, lint)
    assert [h.finding for h in held] == [compare]
    assert out.notes[-1] == (
        "`pkg/m.py:2` `review/bug`: The comparison changed. (held back: review/bug on "
        "comparison-operator in pkg/**: writers rejected 3 such comments in #11, #12, #13)"
    )
    same = prepare(signals, None, this_pr=12, today=date(2026, 12, 6), base_floor=0.18)  # only 2 other PRs
    assert hold_back_result(result_of(compare), same)[1] == []


def test_the_committed_files_lessons_apply_until_they_expire() -> None:
    committed = parse(
        "version: 1\nlessons:\n"
        "  - {action: hold, rule: review/bug, fact_kind: return-value, path: pkg/**, expires: 2027-01-01}\n"
    )
    ret = model(4, "The return value changed.")
    for today, held in ((date(2026, 12, 6), 1), (date(2027, 1, 2), 0)):
        learned = prepare([], committed, this_pr=5, today=today, base_floor=0.18)
        assert len(hold_back_result(result_of(ret), learned)[1]) == held


def test_the_marker_a_posted_comment_carries() -> None:
    marker = about_for(model(2, "x"), result_of().changeset.files)
    assert marker == "<!-- reviewbot:about rule=review/bug fact=comparison-operator confidence=0.5000 -->"
    assert read_about("text\n" + marker) == ("review/bug", "comparison-operator", 0.5)
