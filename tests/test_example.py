"""The README's first command: `scripts/example` reviews the bundled example repository
(examples/inventory) as a git range. Here without a model (`--backend none`); the linters and the
change's tests run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_repository_is_reviewed_as_a_git_range(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env["REVIEWBOT_EXAMPLE_DIR"] = str(tmp_path / "inventory")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "reviewbot").exists()
    p = subprocess.run(
        [str(ROOT / "scripts" / "example"), "--backend", "none", "--format", "json", "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    rules = {(f["rule"], f["path"], f["line"]) for f in doc["findings"]}
    assert ("ruff/E722", "inventory/report.py", 25) in rules  # the bare `except:` the change adds
    # the example's own tests, run in the sandbox at head and at base: each planted bug is a failing
    # test, placed on the line of report.py its traceback passes through
    failed = {
        (f["line"], f["message"].split(" fails: ")[0])
        for f in doc["findings"]
        if f["rule"] == "pytest/failed"
    }
    assert failed == {
        (15, "test tests/test_report.py::test_average_of_no_counts_is_zero"),  # the removed empty guard
        (19, "test tests/test_report.py::test_low_stock_includes_the_threshold"),  # `<=` became `<`
        (9, "test tests/test_report.py::test_load_counts_reads_utf8"),  # read as ASCII
    }, doc["findings"]
    assert all(f["severity"] == "error" for f in doc["findings"] if f["rule"] == "pytest/failed")
    # on report.py, the change's file: not "shown on the test"
    assert all(
        f["message"].endswith("(passes at base)") for f in doc["findings"] if f["rule"] == "pytest/failed"
    )
    assert p.returncode == 0  # --fail-on never in scripts/example
    assert doc["stats"]["files"] == 1
    log = subprocess.run(
        ["git", "-C", str(tmp_path / "inventory"), "log", "--format=%s"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert len(log) == 2


def test_without_bubblewrap_the_first_line_says_the_changes_tests_will_not_run(tmp_path: Path) -> None:
    """A machine without bwrap: every command of this one on PATH but bwrap."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(d).iterdir() if Path(d).is_dir() else ():
            if tool.name != "bwrap" and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env |= {"PATH": str(bin_dir), "REVIEWBOT_EXAMPLE_DIR": str(tmp_path / "inventory")}
    argv = [str(ROOT / "scripts" / "example"), "--backend", "none", "--format", "json", "--no-progress"]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    first = p.stderr.splitlines()[0]
    assert first == (
        "scripts/example: the change's tests will not run: the sandbox cannot start here: "
        "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    )
    doc = json.loads(p.stdout)
    assert not [f for f in doc["findings"] if f["rule"] == "pytest/failed"]
    assert any("bwrap is not installed" in n for n in doc["notes"]), doc["notes"]
