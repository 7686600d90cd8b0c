"""``.reviewbot/learnings.yml``: written, read back the same, validated; a bad file is one line."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reviewbot.errors import ConfigError, InputError
from reviewbot.learning import Signal, Subject, learn
from reviewbot.learning.file import dump, parse

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def learned():
    s = Subject("review/bug", "comparison-operator", "pkg/a.py", "`n >= 1` became `n > 1`.", "if n > 1:", 0.3)
    signals = [Signal("down", "ann", True, pr, WHEN, s) for pr in (3, 4, 5)]
    return learn(signals, today=date(2026, 12, 6), this_pr=None, base_floor=0.18)


def test_written_and_read_back_the_same() -> None:
    x = learned()
    text = dump(x)
    assert text.startswith("# What reviewbot learned")
    assert "action: hold" in text and "expires: 2027-05-30" in text
    back = parse(text)
    assert back.lessons == x.lessons
    assert back.judge_floor == x.judge_floor


def test_a_team_may_write_it_by_hand() -> None:
    text = """\
version: 1
judge:
  min_confidence: 0.4
lessons:
  - action: hold
    rule: review/bug
    fact_kind: constant-changed
    path: docs/**
    expires: 2027-01-31
"""
    x = parse(text, "main@abc:.reviewbot/learnings.yml")
    assert x.judge_floor == 0.4 and x.judge_reason == "set in main@abc:.reviewbot/learnings.yml"
    assert x.lessons[0].path == "docs/**" and x.lessons[0].rejected == 0


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("version: 2\n", "learnings.yml: version: Input should be 1"),
        (
            "version: 1\nlessons:\n  - action: mute\n",
            "learnings.yml: lessons.0.action: Input should be 'hold' or 'keep'",
        ),
        (
            "version: 1\nlessons:\n  - action: hold\n    rule: r\n",
            "learnings.yml: lessons.0.expires: Field required",
        ),
        ("version: 1\nextra: 1\n", "learnings.yml: extra: Extra inputs are not permitted"),
        (
            "version: 1\njudge: {min_confidence: 3}\n",
            "learnings.yml: judge.min_confidence: Input should be less",
        ),
        ("version: 1\nlessons: [\n", "learnings.yml: line 3 not valid YAML"),
        ("a: &x [1]\nb: *x\n", "learnings.yml: line 1: anchors and aliases are not allowed"),
        ("", "learnings.yml: the file: Input should be a valid dictionary"),
    ],
)
def test_a_bad_file_is_one_line(text: str, error: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse(text, "learnings.yml")
    assert str(exc.value).startswith(error)
    assert "\n" not in str(exc.value)


def test_the_learn_command_prints_and_writes_the_file_keeping_the_teams_edits(tmp_path) -> None:
    from reviewbot.learning.command import learn_command

    s = Subject("review/bug", "comparison-operator", "pkg/a.py", "`n >= 1` became `n > 1`.", "if n > 1:", 0.3)
    signals = [Signal("down", "ann", True, pr, WHEN, s) for pr in (3, 4, 5)]
    edited = parse(
        "version: 1\nlessons:\n  - {action: keep, rule: review/bug, path: docs/**, expires: 2027-01-01}\n"
    )
    out = tmp_path / ".reviewbot" / "learnings.yml"
    text = learn_command(
        signals, "octo/lib", today=date(2026, 12, 6), base_floor=0.18, committed=edited, write=out
    )
    assert text.startswith("What the team of octo/lib taught the review:")
    assert f"written to {out}" in text
    back = parse(out.read_text())
    assert [x.path for x in back.lessons][:2] == ["docs/**", "pkg/a.py"]
    (tmp_path / "blocker").write_text("a file, not a folder")
    with pytest.raises(InputError, match="cannot write"):
        learn_command(
            signals, "o/r", today=date(2026, 12, 6), base_floor=0.18, write=tmp_path / "blocker" / "l.yml"
        )
