"""pytest inside a CodeRunner (the bubblewrap sandbox): the driver script, which tests to run, one run.

pytest imports and runs the repository's code (tests, conftest.py, the package), so it never runs
on the runner itself: it runs in runners/sandbox.py's BubblewrapSandbox (no network, no secrets, a
read-only checkout at /checkout, limits). Another CodeRunner (UnsafeLocalRunner) is used only when
the caller passes it.

Inside the sandbox a small driver (DRIVER) runs

    python -m pytest -q -x --tb=short -p no:cacheprovider -o junit_family=xunit1 --junitxml=J <selection>

from the checkout, parses the junit XML there (so a hostile XML file only costs the sandbox) and
prints one JSON line after MARK (read by pytest_report.parse_report).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ToolError
from ..model import ChangeSet, FileStatus
from .policy import CodeRunner, SandboxPolicy
from .pytest_report import is_test_file, parse_report
from .sandbox import probe

__all__ = [
    "DRIVER",
    "DRIVER_NAME",
    "SANDBOX_ROOT",
    "PytestDriver",
    "check_selection",
    "default_selection",
    "sandbox_policy",
]

DRIVER_NAME = "reviewbot_pytest_driver.py"
SANDBOX_ROOT = "/checkout"
MAX_SELECTION = 10
_SKIP_DIRS = {"node_modules", "venv", ".venv", "site-packages", "build", "dist", "__pycache__"}
_WALK_LIMIT = 20_000

DRIVER = r"""
import importlib.util, json, os, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

MARK = "@@reviewbot-pytest-report@@"


def emit(report):
    sys.stdout.write("\n" + MARK + json.dumps(report) + "\n")
    sys.stdout.flush()


def main():
    root = (os.environ.get("PYTHONPATH") or os.getcwd()).split(os.pathsep)[0]
    os.chdir(root)
    if importlib.util.find_spec("pytest") is None:
        emit({"error": "pytest is not installed"})
        return 0
    junit = os.path.join(tempfile.mkdtemp(), "junit.xml")
    argv = [sys.executable, "-m", "pytest", "-q", "-x", "--tb=short", "-p", "no:cacheprovider",
            "-o", "junit_family=xunit1", "--junitxml", junit, *sys.argv[1:]]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.decode("utf-8", "replace")
    report = {"exit": proc.returncode, "root": os.getcwd(), "tail": out[-3000:], "cases": [],
              "tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    try:
        tree = ET.parse(junit)
    except (OSError, ET.ParseError):
        tree = None
    if tree is not None:
        for suite in tree.iter("testsuite"):
            for key in ("tests", "failures", "errors", "skipped"):
                try:
                    report[key] += int(suite.get(key) or 0)
                except ValueError:
                    pass
        for case in tree.iter("testcase"):
            for kind in ("failure", "error"):
                el = case.find(kind)
                if el is not None and len(report["cases"]) < 20:
                    report["cases"].append({
                        "kind": kind,
                        "classname": case.get("classname") or "",
                        "name": case.get("name") or "",
                        "file": case.get("file") or "",
                        "line": case.get("line") or "",
                        "message": (el.get("message") or "")[:2000],
                        "text": (el.text or "")[:6000],
                    })
    emit(report)
    return 0


sys.exit(main())
"""

# ---------------------------------------------------------------------------------------------
# which tests


def _safe_rel(path: str) -> bool:
    return bool(path) and not os.path.isabs(path) and ".." not in path.replace("\\", "/").split("/")


def _find_tests(workdir: str, names: set[str]) -> list[str]:
    found: list[str] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(workdir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        for fn in sorted(filenames):
            seen += 1
            if fn in names:
                found.append(os.path.relpath(os.path.join(dirpath, fn), workdir).replace(os.sep, "/"))
        if seen > _WALK_LIMIT:
            break
    return found


def default_selection(changeset: ChangeSet) -> list[str]:
    """The changed test files, and test_<module>.py / <module>_test.py of each changed module."""
    workdir = changeset.workdir
    assert workdir is not None
    chosen: list[str] = []
    wanted: set[str] = set()
    for f in changeset.files:
        p = f.new_path
        if p is None or f.status is FileStatus.DELETED or not p.endswith(".py"):
            continue
        if is_test_file(p):
            if p.rsplit("/", 1)[-1] != "conftest.py" and os.path.isfile(os.path.join(workdir, p)):
                chosen.append(p)
        else:
            stem = p.rsplit("/", 1)[-1].removesuffix(".py")
            if stem != "__init__":
                wanted |= {f"test_{stem}.py", f"{stem}_test.py"}
    if wanted:
        chosen += [p for p in _find_tests(workdir, wanted) if p not in chosen]
    return chosen[:MAX_SELECTION]


def check_selection(workdir: str, selection: Sequence[str]) -> tuple[list[str], list[str]]:
    root = Path(workdir).resolve()
    keep: list[str] = []
    notes: list[str] = []
    for s in selection:
        s = s.strip().removeprefix("./")
        path = s.split("::", 1)[0]
        full = (root / path).resolve() if _safe_rel(path) else None
        if full is None or not full.is_relative_to(root) or not full.exists():
            notes.append(f"{s}: no such test file or directory in the checkout")
        elif s not in keep:
            keep.append(s)
    return keep, notes


def sandbox_policy(timeout: float) -> SandboxPolicy:
    """The sandbox's limits for a test run: ``timeout`` of wall clock and of CPU, 2 GiB."""
    return SandboxPolicy(wall_seconds=timeout, cpu_seconds=max(1, int(timeout)), memory_bytes=2 * 1024**3)


class PytestDriver:
    """Runs the driver in a CodeRunner; the runner is probed once."""

    def __init__(self, runner: CodeRunner, *, timeout: float = 120.0, python: str | None = None) -> None:
        self.timeout = timeout
        self.python = python
        self.runner = runner
        self._probed: str | None | bool = False  # False: not probed yet

    def unavailable(self) -> str | None:
        """Why pytest cannot run here (cached), or None."""
        if self._probed is False:
            reason = None
            if self.python is None and importlib.util.find_spec("pytest") is None:
                reason = "pytest is not installed"
            elif why := probe(self.runner):  # a sandbox: does it start here?
                reason = f"pytest needs the sandbox: {why}"
            self._probed = reason
        return self._probed if isinstance(self._probed, str) else None

    def run(self, workdir: str, selection: Sequence[str], keyword: str | None) -> dict[str, Any] | str:
        """The driver's report (see pytest_report.parse_report), or why there is none."""
        args = ["-k", keyword] if keyword else []
        python = self.python or sys.executable
        try:
            res = self.runner.run(
                [os.path.basename(python), DRIVER_NAME, *args, "--", *selection],
                checkout=Path(workdir),
                files={DRIVER_NAME: DRIVER},
                python=self.python,
            )
        except ToolError as exc:
            msg = str(exc)
            return f"pytest needs the sandbox: {msg.removeprefix('sandbox unavailable: ')}"
        if res.timed_out or res.killed_by_limit:
            why = (
                f"timed out after {self.timeout:g} s"
                if res.timed_out
                else f"hit the {res.killed_by_limit} limit"
            )
            return f"pytest {why}"
        report = parse_report(res.stdout, (SANDBOX_ROOT, workdir))
        if report is None:
            last = (res.stderr.strip().splitlines() or ["no output"])[-1][:300]
            return f"pytest did not report (exit {res.returncode}): {last}"
        if report.get("error"):
            return str(report["error"])[:300]
        report["sandbox_notes"] = list(res.notes)
        return report
