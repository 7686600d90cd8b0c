"""anchor(): table tests over one small diff with two hunks, a binary file and a pure rename."""

from __future__ import annotations

import pytest

from reviewbot.diff.anchor import anchor, anchor_all, nearest_changed_line
from reviewbot.diff.index import DiffIndex
from reviewbot.diff.parse import parse_diff
from reviewbot.diff.render import github_position, gitlab_position
from reviewbot.model import Anchored, Finding, Location, Severity, Side, Unanchored

DIFF = """\
diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,6 +1,7 @@ header
 import os
-import sys
+import sys, re
+import json
 def f():
-    return 1
+    return 2
 x = 1
 y = 2
@@ -20,4 +21,5 @@ def g():
 a
-b
-c
+B
+C
+D
 d
diff --git a/img.png b/img.png
index 3333333..4444444 100644
Binary files a/img.png and b/img.png differ
diff --git a/old_name.py b/new_name.py
similarity index 100%
rename from old_name.py
rename to new_name.py
diff --git a/lib/old.py b/lib/new.py
similarity index 80%
rename from lib/old.py
rename to lib/new.py
--- a/lib/old.py
+++ b/lib/new.py
@@ -3,2 +3,2 @@
-q = 1
+q = 2
 r = 3
"""
# app.py new side: 1 ctx, 2 +, 3 +, 4 ctx, 5 +, 6 ctx, 7 ctx | 21 ctx, 22 +, 23 +, 24 +, 25 ctx
# app.py old side: 1 ctx, 2 -, 3 ctx, 4 -, 5 ctx, 6 ctx | 20 ctx, 21 -, 22 -, 23 ctx

INDEX = DiffIndex(parse_diff(DIFF))
R, L = Side.RIGHT, Side.LEFT


def finding(
    path: str, side: Side, line: int, start: int | None = None, suggestion: str | None = "fix()"
) -> Finding:
    return Finding(
        location=Location(path, side, line, start_line=start),
        severity=Severity.WARNING,
        message="m",
        rule="model/bug",
        route="review",
        suggestion=suggestion,
    )


# (path, side, line, start) -> (hunk, side, line, start, in_added, suggestion kept)
ANCHORED = [
    pytest.param(("app.py", R, 2, None), (0, R, 2, None, True, True), id="added line"),
    pytest.param(("app.py", R, 1, None), (0, R, 1, None, False, True), id="context line RIGHT"),
    pytest.param(
        ("app.py", L, 2, None), (0, L, 2, None, False, False), id="removed line LEFT drops suggestion"
    ),
    pytest.param(("app.py", L, 3, None), (0, R, 4, None, False, False), id="LEFT context moves to RIGHT"),
    pytest.param(("app.py", R, 3, 2), (0, R, 3, 2, True, True), id="range of added lines"),
    pytest.param(("app.py", R, 3, 1), (0, R, 3, 1, False, True), id="range with context"),
    pytest.param(("app.py", R, 2, 3), (0, R, 3, 2, True, True), id="reversed range is swapped"),
    pytest.param(("app.py", R, 2, 2), (0, R, 2, None, True, True), id="start == line is one line"),
    pytest.param(
        ("app.py", R, 22, 5), (1, R, 22, 21, False, False), id="range across hunks shrinks to end hunk"
    ),
    pytest.param(("app.py", R, 24, 22), (1, R, 24, 22, True, True), id="added range in second hunk"),
    pytest.param(("app.py", R, 10, 3), (0, R, 7, 3, False, False), id="end outside: shrink to start hunk"),
    pytest.param(("app.py", L, 22, 21), (1, L, 22, 21, False, False), id="LEFT range of removed lines"),
    pytest.param(("app.py", L, 4, 2), (0, L, 4, None, False, False), id="LEFT range broken by context"),
    pytest.param(("lib/old.py", R, 3, None), (0, R, 3, None, True, True), id="old path of a rename"),
]


@pytest.mark.parametrize(("loc", "expected"), ANCHORED)
def test_anchored(loc: tuple, expected: tuple) -> None:
    path, side, line, start = loc
    hunk, e_side, e_line, e_start, in_added, kept = expected
    f = finding(path, side, line, start)
    result = anchor(f, INDEX)
    assert isinstance(result, Anchored), result
    assert (result.hunk, result.in_added) == (hunk, in_added)
    got = result.finding.location
    assert (got.side, got.line, got.start_line) == (e_side, e_line, e_start)
    assert got.path == INDEX.file(path).path  # type: ignore[union-attr]
    assert (result.finding.suggestion is not None) == kept
    assert result.finding.message == f.message and result.finding.rule == f.rule
    # what anchor() returns is always a valid GitHub position
    gh = github_position(INDEX, got)
    assert gh is not None and gh["line"] == e_line
    assert gitlab_position(INDEX, got, base_sha="b", start_sha="s", head_sha="h") is not None


def test_unchanged_finding_is_returned_as_is() -> None:
    f = finding("app.py", R, 2)
    result = anchor(f, INDEX)
    assert isinstance(result, Anchored) and result.finding is f


UNANCHORED = [
    pytest.param(("missing.py", R, 1, None), "file not in the diff", id="missing file"),
    pytest.param(("img.png", R, 1, None), "binary file", id="binary"),
    pytest.param(("new_name.py", R, 1, None), "rename or mode change only", id="pure rename"),
    pytest.param(("app.py", R, 10, None), "line 10 outside any hunk", id="RIGHT outside hunks"),
    pytest.param(("app.py", R, 26, None), "line 26 outside any hunk", id="RIGHT after last hunk"),
    pytest.param(("app.py", L, 15, None), "line 15 (LEFT) is not a removed line", id="LEFT outside"),
    pytest.param(("app.py", R, 15, 9), "lines 9-15 (RIGHT) are outside any hunk", id="range between hunks"),
    pytest.param(("app.py", R, 0, None), "invalid line number 0", id="line 0"),
]


@pytest.mark.parametrize(("loc", "reason"), UNANCHORED)
def test_unanchored(loc: tuple, reason: str) -> None:
    path, side, line, start = loc
    f = finding(path, side, line, start)
    result = anchor(f, INDEX)
    assert isinstance(result, Unanchored), result
    assert reason in result.reason
    assert result.finding is f


def test_anchor_all_partitions_in_order() -> None:
    fs = [finding("app.py", R, 2), finding("nope", R, 1), finding("app.py", L, 21), finding("app.py", R, 99)]
    anchored, unanchored = anchor_all(fs, INDEX)
    assert [a.finding.location.line for a in anchored] == [2, 21]
    assert [u.finding for u in unanchored] == [fs[1], fs[3]]


@pytest.mark.parametrize(
    ("side", "line", "max_distance", "expected"),
    [
        (R, 2, 3, 2),  # already changed
        (R, 1, 3, 2),  # context line next to an added line
        (R, 6, 3, 5),  # 5 and 7: 5 is changed
        (R, 4, 3, 3),  # tie between 3 and 5: the line above wins
        (R, 10, 3, None),
        (R, 10, 5, 5),
        (R, 20, 3, 22),
        (L, 3, 3, 2),  # tie between 2 and 4
        (L, 19, 3, 21),
        (L, 10, 3, None),
    ],
)
def test_nearest_changed_line(side: Side, line: int, max_distance: int, expected: int | None) -> None:
    assert nearest_changed_line(INDEX, "app.py", side, line, max_distance) == expected


def test_nearest_changed_line_missing_file() -> None:
    assert nearest_changed_line(INDEX, "missing.py", R, 1) is None
