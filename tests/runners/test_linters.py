"""Ruff and Bandit on a small real project (real subprocesses), and diff.marks on their findings
(filter_to_diff's three modes)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reviewbot.diff import DiffIndex, Mark, filter_to_diff, mark
from reviewbot.model import (
    ChangeSet,
    FileDiff,
    FileStatus,
    Finding,
    Hunk,
    Line,
    LineKind,
    Location,
    Severity,
    Side,
    Skipped,
)
from reviewbot.runners.linters import NO_HEAD, Bandit, Ruff

# The file at head. Lines 2, 6 and 7 were added; 5 (`return x`) was removed; 11 is outside the hunk.
APP = """\
import os
import subprocess


def run(x):
    subprocess.call(x, shell=True)
    return undefined_name


def old():
    import json
    return 1
"""

A, C, R = LineKind.ADDED, LineKind.CONTEXT, LineKind.REMOVED
APP_HUNK = Hunk(
    old_start=1,
    old_len=5,
    new_start=1,
    new_len=7,
    section="",
    lines=(
        Line(C, 1, 1, "import os"),
        Line(A, None, 2, "import subprocess"),
        Line(C, 2, 3, ""),
        Line(C, 3, 4, ""),
        Line(C, 4, 5, "def run(x):"),
        Line(R, 5, None, "    return x"),
        Line(A, None, 6, "    subprocess.call(x, shell=True)"),
        Line(A, None, 7, "    return undefined_name"),
    ),
)
APP_DIFF = FileDiff("pkg/app.py", "pkg/app.py", FileStatus.MODIFIED, (APP_HUNK,))

MULTI = """\
import subprocess

subprocess.run(
    "ls",
    shell=True,
)
"""
MULTI_DIFF = FileDiff(
    None,
    "pkg/multi.py",
    FileStatus.ADDED,
    (Hunk(0, 0, 1, 6, "", tuple(Line(A, None, i, t) for i, t in enumerate(MULTI.splitlines(), 1))),),
)
NOTES_DIFF = FileDiff(
    "notes.txt", "notes.txt", FileStatus.MODIFIED, (Hunk(1, 1, 1, 1, "", (Line(A, None, 1, "x"),)),)
)
GONE_DIFF = FileDiff(
    "pkg/gone.py", None, FileStatus.DELETED, (Hunk(1, 1, 0, 0, "", (Line(R, 1, None, "x = 1"),)),)
)

FILES = (APP_DIFF, MULTI_DIFF, NOTES_DIFF, GONE_DIFF)
PATHS = [f.path for f in FILES]
HEAD = {"pkg/app.py": APP, "pkg/multi.py": MULTI, "notes.txt": "x\n"}


def _checkout(root: Path, extra: dict[str, str] | None = None) -> Path:
    for rel, text in {**HEAD, **(extra or {})}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def _workdir_cs(root: Path, files=FILES) -> ChangeSet:
    return ChangeSet(files=files, description="test", workdir=str(root))


def _head_cs(head: dict[str, str], files=FILES) -> ChangeSet:
    return ChangeSet(files=files, description="test", read_head=head.get)


def _by_rule(findings) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.rule, []).append(f)
    return out


def _lines(findings, rule: str) -> list[int]:
    return sorted(f.location.line for f in findings if f.rule == rule)


# ---------------------------------------------------------------------------------------------
# ruff


def test_ruff_in_a_workdir(tmp_path):
    findings, skipped = Ruff().lint(_workdir_cs(_checkout(tmp_path)), PATHS)
    assert skipped == ()
    assert _lines(findings, "ruff/F401") == [1, 11]
    assert _lines(findings, "ruff/F821") == [7]
    rules = _by_rule(findings)
    undefined = rules["ruff/F821"][0]
    assert undefined.severity is Severity.ERROR
    assert undefined.location == Location("pkg/app.py", Side.RIGHT, 7)
    assert undefined.route == "lint" and undefined.source == "ruff" and undefined.category == "lint"
    assert "undefined_name" in undefined.message
    unused = next(f for f in rules["ruff/F401"] if f.location.line == 1)
    assert unused.severity is Severity.WARNING
    assert unused.suggestion == ""  # ruff's safe fix deletes the line
    assert {f.location.path for f in findings} <= {"pkg/app.py", "pkg/multi.py"}
    assert not (tmp_path / ".ruff_cache").exists()


def test_ruff_materializes_files_from_read_head():
    findings, skipped = Ruff().lint(_head_cs(HEAD), PATHS)
    assert skipped == ()
    assert _lines(findings, "ruff/F401") == [1, 11]
    assert _lines(findings, "ruff/F821") == [7]
    assert all(f.location.path == "pkg/app.py" for f in findings)


def test_bare_diff_skips_each_python_file():
    cs = ChangeSet(files=FILES, description="diff file x.diff")
    for linter in (Ruff(), Bandit()):
        findings, skipped = linter.lint(cs, PATHS)
        assert findings == ()
        assert skipped == (
            Skipped("pkg/app.py", NO_HEAD, "lint"),
            Skipped("pkg/multi.py", NO_HEAD, "lint"),
        )


def test_syntax_errors_are_errors(tmp_path):
    diff = FileDiff(
        None,
        "bad.py",
        FileStatus.ADDED,
        (Hunk(0, 0, 1, 2, "", (Line(A, None, 1, "def f(:"), Line(A, None, 2, "  pass"))),),
    )
    (tmp_path / "bad.py").write_text("def f(:\n  pass\n")
    findings, _ = Ruff().lint(_workdir_cs(tmp_path, (diff,)), ["bad.py"])
    assert findings and all(
        f.severity is Severity.ERROR and f.rule == "ruff/invalid-syntax" for f in findings
    )
    assert findings[0].location.first == 1


def test_a_bare_except_is_found_by_default_and_the_rules_are_configurable(tmp_path):
    code = "def f(x):\n    try:\n        return int(x)\n    except:\n        return 0\n"
    lines = tuple(Line(A, None, i, t) for i, t in enumerate(code.splitlines(), 1))
    diff = FileDiff(None, "p.py", FileStatus.ADDED, (Hunk(0, 0, 1, 5, "", lines),))
    (tmp_path / "p.py").write_text(code)
    findings, _ = Ruff().lint(_workdir_cs(tmp_path, (diff,)), ["p.py"])
    assert _lines(findings, "ruff/E722") == [4]
    findings, _ = Ruff(select=("F",)).lint(_workdir_cs(tmp_path, (diff,)), ["p.py"])
    assert findings == ()


def test_ruff_honours_the_repository_config_when_the_owner_asks(tmp_path):
    config = '[tool.ruff]\nline-length = 20\nfix = true\n\n[tool.ruff.lint]\nselect = ["E501"]\n'
    root = _checkout(tmp_path, {"pyproject.toml": config})
    findings, skipped = Ruff(respect_config=True).lint(_workdir_cs(root), PATHS)
    assert skipped == ()
    assert {f.rule for f in findings} == {"ruff/E501"}
    assert _lines(findings, "ruff/E501") == [6, 7]
    assert (root / "pkg/app.py").read_text() == APP  # `fix = true` in the config did not rewrite it


def test_ruff_honours_the_repository_config_when_materialized():
    config = '[tool.ruff.lint]\nselect = ["E501"]\n\n[tool.ruff]\nline-length = 20\n'
    findings, _ = Ruff(respect_config=True).lint(_head_cs({**HEAD, "pyproject.toml": config}), PATHS)
    assert {f.rule for f in findings} == {"ruff/E501"}


def test_ruff_repository_config_is_ignored_by_default(tmp_path):
    root = _checkout(tmp_path, {"ruff.toml": 'lint.select = ["E501"]\nline-length = 20\n'})
    findings, _ = Ruff().lint(_workdir_cs(root), PATHS)
    assert "ruff/E501" not in {f.rule for f in findings}
    assert _lines(findings, "ruff/F821") == [7]


def test_ruff_falls_back_to_defaults_when_the_config_does_not_load(tmp_path):
    root = _checkout(tmp_path, {"ruff.toml": 'extend = "missing/base.toml"\n'})
    findings, skipped = Ruff(respect_config=True).lint(_workdir_cs(root), PATHS)
    assert skipped == ()
    assert _lines(findings, "ruff/F821") == [7]


def test_ruff_respects_the_repository_exclude_only_when_the_owner_asks(tmp_path):
    root = _checkout(tmp_path, {"pyproject.toml": '[tool.ruff]\nextend-exclude = ["pkg/app.py"]\n'})
    findings, _ = Ruff(respect_config=True).lint(_workdir_cs(root), PATHS)
    assert all(f.location.path != "pkg/app.py" for f in findings)


@pytest.mark.parametrize(
    "config",
    [
        {"pyproject.toml": '[tool.ruff]\nexclude = ["pkg"]\n'},
        {"ruff.toml": 'extend-exclude = ["*.py"]\n'},
        {"ruff.toml": "lint.select = []\n"},
        {"ruff.toml": 'extend = ".git/config"\n', ".git/config": '[lint]\nselect = ["E501"]\n'},
    ],
)
def test_a_pr_cannot_switch_ruff_off(tmp_path, config):
    """The change's own ruff config (exclude, extend, select) is not honoured."""
    root = _checkout(tmp_path, config)
    findings, skipped = Ruff().lint(_workdir_cs(root), PATHS)
    assert _lines(findings, "ruff/F821") == [7], (findings, skipped)
    assert "ruff/E501" not in {f.rule for f in findings}


# ---------------------------------------------------------------------------------------------
# bandit


def test_bandit_in_a_workdir(tmp_path):
    findings, skipped = Bandit(severity="low").lint(_workdir_cs(_checkout(tmp_path)), PATHS)
    assert skipped == ()
    rules = _by_rule(findings)
    shell = next(f for f in rules["bandit/B602"] if f.location.path == "pkg/app.py")
    assert shell.location == Location("pkg/app.py", Side.RIGHT, 6)
    assert shell.severity is Severity.ERROR  # HIGH
    assert shell.category == "security" and shell.route == "lint" and shell.source == "bandit"
    assert "shell=True" in shell.message and "B602" in shell.message and "CWE-78" in shell.message
    assert shell.confidence == pytest.approx(0.9)
    assert _lines(findings, "bandit/B404") == [1, 2]  # `import subprocess` in both files, LOW
    assert all(f.severity is Severity.INFO for f in rules["bandit/B404"])
    multi = next(f for f in rules["bandit/B602"] if f.location.path == "pkg/multi.py")
    assert (multi.location.first, multi.location.line) == (3, 6)  # a range: start_line .. line


def test_bandit_materializes_files_from_read_head():
    findings, skipped = Bandit().lint(_head_cs(HEAD), ["pkg/app.py"])
    assert skipped == ()
    assert _lines(findings, "bandit/B602") == [6]
    assert all(f.location.path == "pkg/app.py" for f in findings)


def test_bandit_reports_unparsable_files_as_skipped(tmp_path):
    diff = FileDiff(None, "bad.py", FileStatus.ADDED, (Hunk(0, 0, 1, 1, "", (Line(A, None, 1, "def f(:"),)),))
    (tmp_path / "bad.py").write_text("def f(:\n")
    findings, skipped = Bandit().lint(_workdir_cs(tmp_path, (diff,)), ["bad.py"])
    assert findings == ()
    assert len(skipped) == 1 and skipped[0].path == "bad.py" and skipped[0].reason.startswith("bandit: ")


# ---------------------------------------------------------------------------------------------
# what is linted, and failures


def test_only_changed_python_files_that_exist_are_linted(tmp_path):
    root = _checkout(tmp_path)
    (root / "pkg/unchanged.py").write_text("import sys\n")
    findings, skipped = Ruff().lint(_workdir_cs(root), [*PATHS, "pkg/unchanged.py"])
    assert skipped == ()
    assert {f.location.path for f in findings} == {"pkg/app.py"}  # multi.py has no ruff finding
    # a changed file absent from the checkout is simply not linted
    os.remove(root / "pkg/app.py")
    findings, skipped = Ruff().lint(_workdir_cs(root), PATHS)
    assert findings == () and skipped == ()


def test_paths_outside_the_repository_are_refused(tmp_path):
    evil = FileDiff(None, "../evil.py", FileStatus.ADDED, (Hunk(0, 0, 1, 1, "", (Line(A, None, 1, "x"),)),))
    findings, skipped = Ruff().lint(_workdir_cs(tmp_path, (evil,)), ["../evil.py"])
    assert findings == ()
    assert [s.path for s in skipped] == ["../evil.py"]


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("import os\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.py").symlink_to(outside)
    diff = FileDiff(
        None, "link.py", FileStatus.ADDED, (Hunk(0, 0, 1, 1, "", (Line(A, None, 1, "import os"),)),)
    )
    findings, skipped = Ruff().lint(_workdir_cs(repo, (diff,)), ["link.py"])
    assert findings == ()
    assert [s.path for s in skipped] == ["link.py"]


def test_missing_tools_are_skipped_not_raised(tmp_path):
    cs = _workdir_cs(_checkout(tmp_path))
    assert Ruff(executable="no-such-ruff").lint(cs, PATHS) == (
        (),
        (Skipped("*", "ruff is not installed", "lint"),),
    )
    assert Bandit(executable="no-such-bandit").lint(cs, PATHS) == (
        (),
        (Skipped("*", "bandit is not installed", "lint"),),
    )


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_tool_that_hangs_is_skipped(tmp_path):
    slow = _script(tmp_path / "slow-tool", "sleep 30")
    cs = _workdir_cs(_checkout(tmp_path / "repo"))
    findings, skipped = Ruff(executable=slow, timeout=0.5).lint(cs, PATHS)
    assert findings == ()
    assert skipped == (Skipped("*", "ruff timed out after 0.5 s", "lint"),)


def test_a_tool_that_crashes_is_skipped(tmp_path):
    broken = _script(tmp_path / "broken-tool", "echo 'boom: cannot start' >&2; exit 2")
    cs = _workdir_cs(_checkout(tmp_path / "repo"))
    for linter in (Ruff(executable=broken), Bandit(executable=broken)):
        findings, skipped = linter.lint(cs, PATHS)
        assert findings == ()
        assert len(skipped) == 1 and skipped[0].path == "*"
        assert "failed (exit 2): boom: cannot start" in skipped[0].reason


# ---------------------------------------------------------------------------------------------
# filter_to_diff


def _f(path: str, line: int, start: int | None = None, side: Side = Side.RIGHT) -> Finding:
    return Finding(Location(path, side, line, start), Severity.WARNING, "m", f"t/{path}:{line}", "lint")


OUTSIDE = _f("pkg/app.py", 11)  # outside any hunk
CONTEXT = _f("pkg/app.py", 1)  # a context line
ADDED = _f("pkg/app.py", 6)  # an added line
RANGE_INTO_ADDED = _f("pkg/app.py", 2, start=1)  # context line 1 .. added line 2
RANGE_CONTEXT = _f("pkg/app.py", 5, start=3)  # context only
UNCHANGED_FILE = _f("pkg/other.py", 1)
NOTES = _f("notes.txt", 1)
REMOVED = _f("pkg/app.py", 5, side=Side.LEFT)  # the removed `return x`
ALL = (OUTSIDE, CONTEXT, ADDED, RANGE_INTO_ADDED, RANGE_CONTEXT, UNCHANGED_FILE, NOTES, REMOVED)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("added", (ADDED, RANGE_INTO_ADDED, NOTES)),
        ("diff_context", (CONTEXT, ADDED, RANGE_INTO_ADDED, RANGE_CONTEXT, NOTES, REMOVED)),
        ("file", (OUTSIDE, CONTEXT, ADDED, RANGE_INTO_ADDED, RANGE_CONTEXT, NOTES, REMOVED)),
    ],
)
def test_filter_modes(mode, expected):
    kept, dropped = filter_to_diff(ALL, FILES, mode)
    assert kept == expected
    assert dropped == len(ALL) - len(expected)


def test_every_finding_is_marked_and_the_modes_show_by_the_mark():
    index = DiffIndex(FILES)
    got = [mark(f, index) for f in ALL]
    assert got == [
        Mark.FILE,
        Mark.CONTEXT,
        Mark.ADDED,
        Mark.ADDED,
        Mark.CONTEXT,
        Mark.OUTSIDE,
        Mark.ADDED,
        Mark.CONTEXT,
    ]


def test_bandit_by_default_reports_medium_and_high_only(tmp_path):
    findings, _ = Bandit().lint(_workdir_cs(_checkout(tmp_path)), PATHS)
    rules = _by_rule(findings)
    assert "bandit/B602" in rules  # HIGH: shell=True
    assert not [f for f in findings if f.severity is Severity.INFO]  # LOW: import subprocess, ...
    assert "bandit/B404" not in rules


def test_filter_on_real_linter_output(tmp_path):
    cs = _workdir_cs(_checkout(tmp_path))
    findings = Ruff().lint(cs, PATHS)[0] + Bandit(severity="low").lint(cs, PATHS)[0]
    kept, _ = filter_to_diff(findings, FILES, "added")
    assert sorted((f.rule, f.location.path, f.location.line) for f in kept) == [
        ("bandit/B404", "pkg/app.py", 2),
        ("bandit/B404", "pkg/multi.py", 1),
        ("bandit/B602", "pkg/app.py", 6),
        ("bandit/B602", "pkg/multi.py", 6),
        ("bandit/B607", "pkg/multi.py", 6),  # "ls" is a partial executable path
        ("ruff/F821", "pkg/app.py", 7),
    ]
    kept, _ = filter_to_diff(findings, FILES, "diff_context")
    assert ("ruff/F401", 1) in {(f.rule, f.location.line) for f in kept}
    assert ("ruff/F401", 11) not in {(f.rule, f.location.line) for f in kept}


def test_filter_rejects_unknown_modes():
    with pytest.raises(ValueError):
        filter_to_diff([], FILES, "nofilter")  # type: ignore[arg-type]


def test_deleted_files_keep_only_left_side_findings():
    kept, dropped = filter_to_diff(
        [_f("pkg/gone.py", 1), _f("pkg/gone.py", 1, side=Side.LEFT)], FILES, "diff_context"
    )
    assert [f.location.side for f in kept] == [Side.LEFT] and dropped == 1


# ---------------------------------------------------------------------------------------------
# suppressions the change adds do not silence its review; those it did not add still hold

# Line 1 was there before (its `# noqa` and `# nosec` hold); lines 3 and 4 are added with their own.
SUPPRESSED = """\
import os, subprocess  # nosec  # noqa: F401
def run(x):
    import json  # noqa
    subprocess.call(x, shell=True)  # nosec
"""
SUPPRESSED_DIFF = FileDiff(
    "pkg/sup.py",
    "pkg/sup.py",
    FileStatus.MODIFIED,
    (
        Hunk(
            1,
            2,
            1,
            4,
            "",
            (
                Line(C, 1, 1, "import os, subprocess  # nosec  # noqa: F401"),
                Line(C, 2, 2, "def run(x):"),
                Line(A, None, 3, "    import json  # noqa"),
                Line(A, None, 4, "    subprocess.call(x, shell=True)  # nosec"),
            ),
        ),
    ),
)


def _suppressed_cs(root: Path, text: str = SUPPRESSED, diff: FileDiff = SUPPRESSED_DIFF) -> ChangeSet:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "sup.py").write_text(text)
    return _workdir_cs(root, (diff,))


def test_a_noqa_the_change_adds_does_not_silence_ruff(tmp_path):
    findings, skipped = Ruff().lint(_suppressed_cs(tmp_path), ["pkg/sup.py"])
    assert skipped == ()
    assert _lines(findings, "ruff/F401") == [3]  # line 1's own noqa, not added by the change, holds
    (added,) = findings
    assert "a `# noqa` the change adds does not silence its review" in added.message


def test_a_nosec_the_change_adds_does_not_silence_bandit(tmp_path):
    findings, skipped = Bandit().lint(_suppressed_cs(tmp_path), ["pkg/sup.py"])
    assert skipped == ()
    assert _lines(findings, "bandit/B602") == [4]
    assert _lines(findings, "bandit/B404") == []  # line 1's nosec holds
    assert all("a `# nosec` the change adds" in f.message for f in findings)


def test_a_file_wide_noqa_the_change_adds_does_not_silence_its_lines(tmp_path):
    text = "# ruff: noqa\nimport os  # noqa: F401\nimport json\n"
    diff = FileDiff(
        "pkg/sup.py",
        "pkg/sup.py",
        FileStatus.MODIFIED,
        (
            Hunk(
                1,
                1,
                1,
                3,
                "",
                (
                    Line(A, None, 1, "# ruff: noqa"),
                    Line(C, 1, 2, "import os  # noqa: F401"),
                    Line(A, None, 3, "import json"),
                ),
            ),
        ),
    )
    findings, skipped = Ruff().lint(_suppressed_cs(tmp_path, text, diff), ["pkg/sup.py"])
    assert skipped == ()
    assert _lines(findings, "ruff/F401") == [3]


def test_suppressions_the_change_did_not_add_still_hold(tmp_path):
    """Without an added suppression nothing runs twice and nothing old comes back."""
    text = "import os  # noqa: F401\nimport json\n"
    diff = FileDiff(
        "pkg/sup.py",
        "pkg/sup.py",
        FileStatus.MODIFIED,
        (Hunk(1, 1, 1, 2, "", (Line(C, 1, 1, "import os  # noqa: F401"), Line(A, None, 2, "import json"))),),
    )
    findings, _ = Ruff().lint(_suppressed_cs(tmp_path, text, diff), ["pkg/sup.py"])
    assert _lines(findings, "ruff/F401") == [2]
    assert "does not silence" not in findings[0].message
