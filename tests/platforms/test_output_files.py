"""`-o` reports: created with the usual mode (0666 less the umask), the path checked before the
review runs."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from reviewbot import compose
from reviewbot.platforms.cli import main

DIFF = """\
--- a/x.py
+++ b/x.py
@@ -1 +1 @@
-a = 1
+a = 2
"""


@pytest.fixture
def diff(tmp_path: Path) -> Path:
    p = tmp_path / "d.diff"
    p.write_text(DIFF, encoding="utf-8")
    return p


def test_report_file_has_the_usual_mode(tmp_path: Path, diff: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "r.json"
        rc = main(
            ["review", "--backend", "none", "--diff", str(diff), "--format", "json", "-o", str(out)],
            io.StringIO(),
            io.StringIO(),
        )
    finally:
        os.umask(old)
    assert rc == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.diff", "r.json"]


@pytest.mark.parametrize("where", ["no/such/dir/r.json", "."])
def test_a_bad_output_path_fails_before_the_review(
    where: str, tmp_path: Path, diff: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*a, **k):
        raise AssertionError("the review ran before the output path was checked")

    monkeypatch.setattr(compose, "backend", never)
    err = io.StringIO()
    out = tmp_path / where
    rc = main(["review", "--backend", "none", "--diff", str(diff), "-o", str(out)], io.StringIO(), err)
    assert rc == 7
    assert "cannot write the report" in err.getvalue()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.diff"]


def test_eval_checks_its_output_path_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot import evaluation

    def never(*a, **k):
        raise AssertionError("cases loaded before the output path was checked")

    monkeypatch.setattr(evaluation, "load_cases", never)
    err = io.StringIO()
    rc = main(
        ["eval", str(tmp_path), "--backend", "none", "-o", str(tmp_path / "no/r.jsonl")], io.StringIO(), err
    )
    assert rc == 7 and "cannot write the report" in err.getvalue()
