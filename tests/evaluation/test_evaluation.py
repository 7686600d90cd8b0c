"""Tests of reviewbot.evaluation: the review-bugs scorer (README "Scoring"), sampling, statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.errors import InputError, UsageError
from reviewbot.evaluation import (
    Case,
    Proportion,
    TruthLine,
    added_lines,
    baselines,
    caught,
    every_added_line_findings,
    format_report,
    load_cases,
    newcombe,
    removal_points,
    score,
    to_json,
    wilson,
)
from reviewbot.model import Finding, Location, Severity, Side

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "review-bugs"

# ------------------------------------------------------------------------------------------- wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 10, 0.0179, 0.4042),
        (36, 40, 0.7695, 0.9604),
        (0, 40, 0.0, 0.0876),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_empty_and_bad() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "lo", "hi"),
    [
        # Newcombe (1998) Table II, example (a): 56/70 - 48/80, method 10 gives 0.0524 to 0.3339
        (56, 70, 48, 80, 0.0524, 0.3339),
        # example (b): 9/10 - 3/10 -> 0.1705 to 0.8090
        (9, 10, 3, 10, 0.1705, 0.8090),
        # example (e): 5/56 - 0/29 -> -0.0381 to 0.1926
        (5, 56, 0, 29, -0.0381, 0.1926),
    ],
)
def test_newcombe_published_examples(k1: int, n1: int, k2: int, n2: int, lo: float, hi: float) -> None:
    assert newcombe(k1, n1, k2, n2) == pytest.approx((lo, hi), abs=1e-4)


# ------------------------------------------------------------------------------------ diff helpers

DIFF = """\
diff --git a/pkg/a.py b/pkg/a.py
--- a/pkg/a.py
+++ b/pkg/a.py
@@ -10,7 +10,6 @@ def f():
 c10
 c11
 c12
-removed13
 c14
 c15
 c16
@@ -30,5 +29,5 @@ def g():
 c30
-old31
-old32
+new30
 c33
+new32
 c34
@@ -50,2 +49,0 @@
-gone50
-gone51
diff --git a/pkg/b.py b/pkg/b.py
--- a/pkg/b.py
+++ b/pkg/b.py
@@ -1,3 +1,5 @@
+-- a line that looks like a header
 x
 y
-z
\\ No newline at end of file
+z
+w
\\ No newline at end of file
"""


def test_removal_points() -> None:
    assert removal_points(DIFF) == {
        ("pkg/a.py", 13): 13,  # the next line, old c14, sits at new 13
        ("pkg/a.py", 31): 30,  # replaced by new30
        ("pkg/a.py", 32): 30,
        ("pkg/a.py", 50): 50,  # "+49,0": removed after new line 49
        ("pkg/a.py", 51): 50,
        ("pkg/b.py", 3): 4,  # at the end of the hunk: the line after the previous new line
    }


def test_added_lines() -> None:
    assert added_lines(DIFF) == [
        ("pkg/a.py", 30),
        ("pkg/a.py", 32),
        ("pkg/b.py", 1),
        ("pkg/b.py", 4),
        ("pkg/b.py", 5),
    ]


def test_new_and_deleted_files() -> None:
    diff = (
        "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n"
        "@@ -0,0 +1,2 @@\n+a\n+b\n"
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n+++ /dev/null\n"
        "@@ -1,2 +0,0 @@\n-a\n-b\n"
    )
    assert added_lines(diff) == [("new.py", 1), ("new.py", 2)]
    assert removal_points(diff) == {("old.py", 1): 1, ("old.py", 2): 1}


# ----------------------------------------------------------------------------------------- catching


def loc(line: int, side: Side = Side.RIGHT, path: str = "p.py", start: int | None = None) -> Location:
    return Location(path, side, line, start)


def fnd(location: Location, severity: Severity = Severity.WARNING) -> Finding:
    return Finding(location=location, severity=severity, message="m", rule="t/r", route="review")


NEW20 = (TruthLine("p.py", "new", 20),)
OLD40 = (TruthLine("p.py", "old", 40),)
RMAP = {("p.py", 40): 100}  # old line 40 was removed at new line 100


@pytest.mark.parametrize(
    ("name", "findings", "truth", "expected"),
    [
        ("exact", [fnd(loc(20))], NEW20, True),
        ("within 3 below", [fnd(loc(17))], NEW20, True),
        ("within 3 above", [fnd(loc(23))], NEW20, True),
        ("4 away", [fnd(loc(24))], NEW20, False),
        ("4 away below", [fnd(loc(16))], NEW20, False),
        ("path mismatch", [fnd(loc(20, path="q.py"))], NEW20, False),
        ("new truth, LEFT finding", [fnd(loc(20, Side.LEFT))], NEW20, False),
        ("info ignored", [fnd(loc(20), Severity.INFO)], NEW20, False),
        ("error counts", [fnd(loc(20), Severity.ERROR)], NEW20, True),
        ("range by its first line", [fnd(loc(40, start=22))], NEW20, True),
        ("range spans the truth", [fnd(loc(40, start=5))], NEW20, True),
        ("range by its last line", [fnd(loc(16, start=1))], NEW20, False),
        ("range by its last line near", [fnd(loc(17, start=1))], NEW20, True),
        ("one of many", [fnd(loc(1)), fnd(loc(99)), fnd(loc(21))], NEW20, True),
        ("no findings", [], NEW20, False),
        ("old truth, LEFT within 3", [fnd(loc(43, Side.LEFT))], OLD40, True),
        ("old truth, LEFT 4 away", [fnd(loc(44, Side.LEFT))], OLD40, False),
        ("old truth, RIGHT at removal point", [fnd(loc(100))], OLD40, True),
        ("old truth, RIGHT within 3 of removal", [fnd(loc(97))], OLD40, True),
        ("old truth, RIGHT 4 from removal", [fnd(loc(104))], OLD40, False),
        ("old truth, RIGHT at old number", [fnd(loc(40))], OLD40, False),
        ("old truth, RIGHT wrong path", [fnd(loc(100, path="q.py"))], OLD40, False),
        ("bare location counts", [loc(21)], NEW20, True),
    ],
)
def test_catch_rule(name: str, findings: list, truth: tuple[TruthLine, ...], expected: bool) -> None:
    assert caught(findings, truth, RMAP) is expected, name


def test_old_truth_without_removal_point_only_left() -> None:
    assert caught([fnd(loc(40, Side.LEFT))], OLD40, {}) is True
    assert caught([fnd(loc(40))], OLD40, {}) is False


# ---------------------------------------------------------------------------------- cases on disk


def write_case(root: Path, cid: str, diff: str, lines: list[dict] | None = None) -> Path:
    folder = root / cid
    folder.mkdir(parents=True)
    (folder / "change.diff").write_text(diff)
    kind = "bug" if cid.endswith("-bug") else "clean"
    (folder / "truth.json").write_text(json.dumps({"id": cid, "kind": kind, "lines": lines or []}))
    return folder


BUG_DIFF = "diff --git a/p.py b/p.py\n--- a/p.py\n+++ b/p.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
CLEAN_DIFF = "diff --git a/p.py b/p.py\n--- a/p.py\n+++ b/p.py\n@@ -1,3 +1,3 @@\n a\n-B\n+b\n c\n"
REMOVE_DIFF = "diff --git a/p.py b/p.py\n--- a/p.py\n+++ b/p.py\n@@ -1,3 +1,2 @@\n a\n-b\n c\n"
ADD_DIFF = "diff --git a/p.py b/p.py\n--- a/p.py\n+++ b/p.py\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(12):
        write_case(tmp_path, f"proj-{i}-bug", BUG_DIFF, [{"path": "p.py", "side": "new", "line": 2}])
        write_case(tmp_path, f"proj-{i}-clean", CLEAN_DIFF)
    write_case(tmp_path, "lonely-1-bug", BUG_DIFF, [{"path": "p.py", "side": "new", "line": 2}])
    (tmp_path / "not-a-case").mkdir()
    return tmp_path


def test_load_all(folder: Path) -> None:
    cases = load_cases(folder, limit=None, seed=0)
    assert len(cases) == 25
    assert cases[0].id == "lonely-1-bug"
    assert cases[1:3] == [c for c in cases if c.pair == "proj-0"]
    assert cases[1].kind == "bug" and cases[2].kind == "clean"
    assert cases[1].truth == (TruthLine("p.py", "new", 2),)
    assert cases[1].diff_path == folder / "proj-0-bug" / "change.diff"


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_sampling_pairs_deterministic(folder: Path, seed: int) -> None:
    a = load_cases(folder, limit=5, seed=seed)
    b = load_cases(folder, limit=5, seed=seed)
    assert a == b
    assert len(a) == 10
    assert [c.kind for c in a] == ["bug", "clean"] * 5
    assert all(a[i].pair == a[i + 1].pair for i in range(0, 10, 2))
    assert len({c.pair for c in a}) == 5
    assert "lonely" not in {c.pair for c in a}
    assert [c.pair for c in a[::2]] == sorted(c.pair for c in a[::2])
    # a larger limit with the same seed keeps the smaller draw
    assert {c.id for c in a} <= {c.id for c in load_cases(folder, limit=8, seed=seed)}


def test_sampling_seed_changes_draw(folder: Path) -> None:
    draws = {tuple(c.id for c in load_cases(folder, limit=4, seed=s)) for s in range(6)}
    assert len(draws) > 1


def test_limit_above_pairs_takes_all_pairs(folder: Path) -> None:
    assert len(load_cases(folder, limit=100, seed=0)) == 24


def test_limit_must_be_positive(folder: Path) -> None:
    with pytest.raises(UsageError):
        load_cases(folder, limit=0, seed=0)


def test_no_cases(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no cases"):
        load_cases(tmp_path, limit=None, seed=0)
    with pytest.raises(InputError, match="not found"):
        load_cases(tmp_path / "missing", limit=None, seed=0)


@pytest.mark.parametrize(
    "truth_text",
    [
        "{not json",
        "[]",
        '{"id": "x-1-bug", "kind": "weird", "lines": []}',
        '{"id": "x-1-bug", "kind": "bug", "lines": {}}',
        '{"id": "x-1-bug", "kind": "bug", "lines": [{"path": "p.py", "side": "left", "line": 1}]}',
        '{"id": "x-1-bug", "kind": "bug", "lines": [{"path": "p.py", "side": "new", "line": "1"}]}',
        '{"id": "x-1-bug", "kind": "bug", "lines": []}',
    ],
)
def test_malformed_truth(tmp_path: Path, truth_text: str) -> None:
    d = tmp_path / "x-1-bug"
    d.mkdir()
    (d / "change.diff").write_text(BUG_DIFF)
    (d / "truth.json").write_text(truth_text)
    with pytest.raises(InputError) as err:
        load_cases(tmp_path, limit=None, seed=0)
    assert "\n" not in str(err.value) and "truth.json" in str(err.value)


# ------------------------------------------------------------------------------------------ scoring


def test_score_and_baselines(tmp_path: Path) -> None:
    b1 = write_case(tmp_path, "a-1-bug", BUG_DIFF, [{"path": "p.py", "side": "new", "line": 2}])
    c1 = write_case(tmp_path, "a-1-clean", CLEAN_DIFF)
    # a fix that only added code: the bug case removes it, truth is old-side
    b2 = write_case(tmp_path, "a-2-bug", REMOVE_DIFF, [{"path": "p.py", "side": "old", "line": 2}])
    c2 = write_case(tmp_path, "a-2-clean", ADD_DIFF)
    cases = load_cases(tmp_path, limit=None, seed=0)
    assert [c.path for c in cases] == [b1, c1, b2, c2]
    bug1, clean1, bug2, clean2 = cases

    none, every = baselines(cases)
    assert (none.recall, none.clean_flag_rate, none.precision) == (
        Proportion(0, 2),
        Proportion(0, 2),
        Proportion(0, 0),
    )
    assert none.detection == 0
    # every added line: bug 1 caught, bug 2 has no added lines; both clean twins add lines
    assert every.recall == Proportion(1, 2)
    assert every.clean_flag_rate == Proportion(2, 2)
    assert every.detection == pytest.approx(-0.5)
    assert every.precision == Proportion(1, 1)
    assert every.findings_per_clean == 1.0
    assert every_added_line_findings(bug2.diff_text()) == ()

    results = [
        (bug1, (fnd(loc(5)), fnd(loc(2), Severity.INFO)), None),  # 5 is 3 from 2: caught
        (clean1, (fnd(loc(2), Severity.INFO),), None),  # info only: not flagged
        (bug2, (fnd(loc(2)), fnd(loc(9))), None),  # removal point of old 2 is new 2: caught, 1 of 2 hit
        (clean2, (fnd(loc(2)),), "model timed out"),  # errored: scored as no findings
    ]
    s = score(results)
    assert s.recall == Proportion(2, 2)
    assert s.clean_flag_rate == Proportion(0, 2)
    assert s.detection == 1.0
    assert s.precision == Proportion(2, 3)
    assert s.clean_findings == 0
    assert s.errored == (("a-2-clean", "model timed out"),)

    text = format_report(s, none, every, seed=0, limit=None, n_cases=4, seconds=8.0)
    assert "1.000 (2/2) [0.34, 1.00]" in text
    assert "0.667 (2/3)" in text
    assert "Newcombe" in text and "a-2-clean: model timed out" in text
    assert "no findings" in text and "every added line" in text
    lines = text.splitlines()
    header = next(ln for ln in lines if ln.startswith("metric"))
    detection = next(ln for ln in lines if ln.startswith("detection"))
    assert detection.index("0.000") == header.index("no findings")

    j = to_json(s, none, every, seed=0, limit=None, n_cases=4, seconds=8.0)
    json.dumps(j)
    assert j["bot"]["recall"] == {"value": 1.0, "k": 2, "n": 2, "wilson95": list(wilson(2, 2))}
    assert j["baselines"]["every_added_line"]["detection"]["value"] == pytest.approx(-0.5)
    assert j["bot"]["errored"] == [{"id": "a-2-clean", "error": "model timed out"}]


def test_case_is_frozen() -> None:
    c = Case("x-1-bug", "bug", Path("x"), Path("x/change.diff"), ())
    with pytest.raises(AttributeError):
        c.id = "y"  # type: ignore[misc]


# ------------------------------------------------------------------------------ the real data set


@pytest.mark.skipif(not DATA.is_dir(), reason="shared/data/review-bugs not present")
def test_real_review_bugs_limit40_seed0(capsys: pytest.CaptureFixture[str]) -> None:
    cases = load_cases(DATA, limit=40, seed=0)
    assert len(cases) == 80
    bugs = [c for c in cases if c.kind == "bug"]
    cleans = {c.id for c in cases if c.kind == "clean"}
    assert len(bugs) == 40 and len(cleans) == 40
    assert {b.pair + "-clean" for b in bugs} == cleans
    assert all(b.truth for b in bugs)
    assert cases == load_cases(DATA, limit=40, seed=0)

    # every old-side truth line is a removed line of its diff, so the removal point exists
    for b in bugs:
        rmap = removal_points(b.diff_text())
        assert all((t.path, t.line) in rmap for t in b.truth if t.side == "old"), b.id

    none, every = baselines(cases)
    with capsys.disabled():
        print()
        print(format_report(every, none, every, seed=0, limit=40, n_cases=len(cases), seconds=0.0))
    assert none.detection == 0
    # The README's yardstick for "every added line" on its 40+40 pairs (seed 0) is -0.150; this draw
    # gives 32/40 - 38/40 = -0.150 (the README does not say how it drew; see load_cases).
    assert every.recall == Proportion(32, 40)
    assert every.clean_flag_rate == Proportion(38, 40)
    assert every.detection == -0.15
