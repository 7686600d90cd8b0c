"""Incremental re-reviews: the files and the findings on what changed since the last reviewed head."""

from __future__ import annotations

from reviewbot.diff import DiffIndex, anchor_all, parse_diff
from reviewbot.hosts.incremental import restrict, since_filter
from reviewbot.model import ChangeSet, Finding, Location, Severity, Side

PR = """diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -1,3 +1,4 @@
 one
+two
 three
 four
diff --git a/b.py b/b.py
--- a/b.py
+++ b/b.py
@@ -1,2 +1,2 @@
-old
+new
 same
"""
SINCE = """diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -1,3 +1,4 @@
 one
+two
 three
 four
"""


def _f(path: str, line: int, side: Side = Side.RIGHT) -> Finding:
    return Finding(Location(path, side, line), Severity.WARNING, f"m {line}", "model/bug", "review")


def test_restrict_keeps_the_files_the_interdiff_touches() -> None:
    cs = ChangeSet(parse_diff(PR), "pr")
    out = restrict(cs, parse_diff(SINCE))
    assert [f.path for f in out.files] == ["a.py"] and out.description.endswith(
        "(incremental: 1 files changed since)"
    )


def test_since_filter_keeps_added_lines_and_touched_files_only() -> None:
    a, u = anchor_all(
        [_f("a.py", 2), _f("a.py", 3), _f("b.py", 1), _f("b.py", 1, Side.LEFT)], DiffIndex(parse_diff(PR))
    )
    kept = since_filter([*a, *u], parse_diff(SINCE))
    # a.py:2 was added since; a.py:3 is context there; b.py did not change since
    assert [(i.finding.location.path, i.finding.location.line) for i in kept] == [("a.py", 2)]
