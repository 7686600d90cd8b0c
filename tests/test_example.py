"""The README's first command: `scripts/example` reviews the bundled example repository
(examples/inventory) as a git range. Here without a model (`--backend none`); the linters run."""

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
    p = subprocess.run([str(ROOT / "scripts" / "example"), "--backend", "none", "--format", "json", "--no-progress"],
                       capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    rules = {(f["rule"], f["path"], f["line"]) for f in doc["findings"]}
    assert ("ruff/E722", "inventory/report.py", 25) in rules  # the bare `except:` the change adds
    assert doc["stats"]["files"] == 1
    log = subprocess.run(["git", "-C", str(tmp_path / "inventory"), "log", "--format=%s"],
                         capture_output=True, text=True, check=True).stdout.splitlines()  # fmt: skip
    assert len(log) == 2
