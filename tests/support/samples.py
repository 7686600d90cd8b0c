"""Shared test data: the pkg/calc.py diff several test files review, and small hand-built Results for
the reporter tests. Values used at collection time (parametrize) are imported from here; tests that
only need them at run time take the fixtures of conftest.py."""

from __future__ import annotations

from reviewbot.model import (
    Anchored,
    ChangeSet,
    FileDiff,
    FileStatus,
    Finding,
    Hunk,
    Line,
    LineKind,
    Location,
    Result,
    Severity,
    Side,
    Skipped,
    Stats,
    Unanchored,
)

C, A, R = LineKind.CONTEXT, LineKind.ADDED, LineKind.REMOVED

# one hunk of pkg/calc.py with one changed line (new line 24), in the middle of context
CALC = """\
diff --git a/pkg/calc.py b/pkg/calc.py
--- a/pkg/calc.py
+++ b/pkg/calc.py
@@ -10,9 +20,9 @@ def total(items):
     a = 1
     b = 2
     c = 3
     d = 4
-    n = len(items)
+    n = len(items) - 1
     e = 5
     f = 6
     g = 7
     h = 8
"""


def finding(
    path: str = "src/app.py",
    line: int = 11,
    *,
    side: Side = Side.RIGHT,
    start: int | None = None,
    severity: Severity = Severity.WARNING,
    message: str = "Possible off-by-one in the loop bound",
    rule: str = "model/bug",
    route: str = "review",
    source: str = "model",
    suggestion: str | None = None,
    probability: float | None = 0.87,
) -> Finding:
    return Finding(
        location=Location(path, side, line, start),
        severity=severity,
        message=message,
        rule=rule,
        route=route,
        suggestion=suggestion,
        route_probability=probability,
        source=source,
    )


APP = FileDiff(
    old_path="src/app.py",
    new_path="src/app.py",
    status=FileStatus.MODIFIED,
    hunks=(
        Hunk(
            10,
            4,
            10,
            5,
            "def f(x):",
            (
                Line(C, 10, 10, "def f(x):"),
                Line(R, 11, None, "    return x+1"),
                Line(A, None, 11, "    y = x + 1"),
                Line(A, None, 12, "    return y"),
                Line(C, 12, 13, ""),
                Line(C, 13, 14, "def g():"),
            ),
        ),
    ),
)
SPACED = FileDiff(
    old_path=None,
    new_path="docs/my file.py",
    status=FileStatus.ADDED,
    hunks=(Hunk(0, 0, 1, 2, "", (Line(A, None, 1, "import os"), Line(A, None, 2, "print(1)"))),),
)
CHANGESET = ChangeSet(files=(APP, SPACED), description="git main..HEAD", base="abc123", head="def456")
STATS = Stats(
    files=3,
    work_items=3,
    reviewed_items=2,
    prompt_tokens=1200,
    generated_tokens=300,
    model_seconds=3.1,
    total_seconds=4.25,
    backend="local",
    model="Qwen2.5-Coder-0.5B",
)
SKIPPED = (
    Skipped("assets/logo.png", "binary file", "plan"),
    Skipped("big.py", "over the token budget (12000 > 8000 tokens)", "plan"),
)
NOTES = ("model ran on the CPU; context limited to 4096 tokens",)


def sample(**over) -> Result:
    """A result with findings on both sides, a suggestion, an unanchored finding, skips and a note."""
    anchored = (
        Anchored(
            finding(
                line=12,
                start=11,
                severity=Severity.ERROR,
                message="`y` shadows nothing but the return drops the +1 check",
                suggestion="    return x + 1",
            ),
            0,
            True,
        ),
        Anchored(
            finding(
                line=11,
                rule="ruff/F841",
                source="ruff",
                route="lint",
                probability=None,
                message="Local variable `y` is assigned to but never used",
            ),
            0,
            True,
        ),
        Anchored(
            finding(
                line=11,
                side=Side.LEFT,
                severity=Severity.INFO,
                rule="model/style",
                message="Removed line was fine",
            ),
            0,
            False,
        ),
        Anchored(
            finding(
                "docs/my file.py",
                1,
                rule="ruff/F401",
                source="ruff",
                route="lint",
                message="`os` imported but unused",
            ),
            0,
            True,
        ),
    )
    fields = {
        "changeset": CHANGESET,
        "anchored": anchored,
        "unanchored": (Unanchored(finding(line=40, message="Missing timeout"), "outside any hunk"),),
        "skipped": SKIPPED,
        "stats": STATS,
        "notes": NOTES,
    }
    fields.update(over)
    return Result(**fields)


def empty() -> Result:
    return Result(
        changeset=ChangeSet(files=(), description="diff file empty.diff"),
        anchored=(),
        unanchored=(),
        skipped=(),
        stats=Stats(),
    )


def with_findings(findings: list[Finding], **over) -> Result:
    return sample(anchored=tuple(Anchored(f, 0, True) for f in findings), **over)
