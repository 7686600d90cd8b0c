"""pytest inside a CodeRunner (the bubblewrap sandbox): the driver script, which tests to run, one run.

pytest imports and runs the repository's code (tests, conftest.py, the package), so it never runs
on the runner itself: it runs in runners/sandbox.py's BubblewrapSandbox (no network, no secrets, a
read-only checkout at /checkout, limits). Another CodeRunner (UnsafeLocalRunner) is used only when
the caller passes it.

Inside the sandbox a small driver (DRIVER) runs

    python -m pytest -q -x --tb=short -p no:cacheprovider -o junit_family=xunit1 --junitxml=J <selection>

from the checkout (with ``src/`` on the path too where the checkout has one, so that a src layout's
package is the checkout's, not an installed copy), parses the junit XML there (so a hostile XML
file only costs the sandbox) and prints one JSON line after MARK (read by
pytest_report.parse_report). With DESELECT as its first argument the driver also loads itself as
a pytest plugin that deselects the tests this Python cannot set up (a fixture that no installed
plugin defines, such as pytest-httpbin's ``httpbin``) and reports how many, under "unrunnable",
and the tests that passed, under "passed".
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ToolError
from ..model import ChangeSet, FileStatus
from .policy import CodeRunner, SandboxPolicy
from .pytest_report import imports, is_test_file, module_names, parse_report, read_text
from .sandbox import probe

__all__ = [
    "DRIVER",
    "DESELECT",
    "DRIVER_NAME",
    "SANDBOX_ROOT",
    "PytestDriver",
    "check_selection",
    "default_selection",
    "related_tests",
    "sandbox_policy",
]

DRIVER_NAME = "reviewbot_pytest_driver.py"
DESELECT = "--reviewbot-deselect-unrunnable"  # the driver's own first argument (see DRIVER)
SANDBOX_ROOT = "/checkout"
MAX_SELECTION = 10
_SKIP_DIRS = {"node_modules", "venv", ".venv", "site-packages", "build", "dist", "__pycache__"}
_WALK_LIMIT = 20_000

DRIVER = r"""
import importlib.util, json, os, subprocess, sys, tempfile
import xml.etree.ElementTree as ET

MARK = "@@reviewbot-pytest-report@@"
DESELECT = "--reviewbot-deselect-unrunnable"  # first argument: load this file as a pytest plugin
UNRUNNABLE = "REVIEWBOT_UNRUNNABLE"


def emit(report):
    sys.stdout.write("\n" + MARK + json.dumps(report) + "\n")
    sys.stdout.flush()


def _missing(item):
    # the fixtures item needs that nothing here defines (or only a conftest's that asks for itself)
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    params = getattr(getattr(item, "callspec", None), "params", {})
    out = []
    for name in info.names_closure:
        defs = info.name2fixturedefs.get(name)
        if name == "request" or name in params:
            continue
        if not defs or (len(defs) == 1 and name in getattr(defs[0], "argnames", ())):
            out.append(name)
    return out


def pytest_collection_modifyitems(config, items):
    # as a plugin (DESELECT): leaves out the tests this Python cannot set up, says which in UNRUNNABLE
    path = os.environ.get(UNRUNNABLE)
    if not path:
        return
    keep, gone, names = [], [], set()
    for item in items:
        missing = _missing(item)
        (gone if missing else keep).append(item)
        names.update(missing)
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = keep
    with open(path, "w") as fh:
        json.dump({"count": len(gone), "fixtures": sorted(names)[:20]}, fh)


def main():
    root = (os.environ.get("PYTHONPATH") or os.getcwd()).split(os.pathsep)[0]
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(root)
    if importlib.util.find_spec("pytest") is None:
        emit({"error": "pytest is not installed"})
        return 0
    env = dict(os.environ)
    paths = [root] + ([os.path.join(root, "src")] if os.path.isdir(os.path.join(root, "src")) else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)  # a src/ layout's package comes from the checkout
    scratch = tempfile.mkdtemp()
    junit = os.path.join(scratch, "junit.xml")
    args = sys.argv[1:]
    plugin = []
    if args[:1] == [DESELECT]:
        args = args[1:]
        env[UNRUNNABLE] = os.path.join(scratch, "unrunnable.json")
        env["PYTHONPATH"] += os.pathsep + here
        plugin = ["-p", os.path.basename(__file__).removesuffix(".py")]
    argv = [sys.executable, "-m", "pytest", "-q", "-x", "--tb=short", "-p", "no:cacheprovider", *plugin,
            "-o", "junit_family=xunit1", "--junitxml", junit, *args]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env)
    out = proc.stdout.decode("utf-8", "replace")
    report = {"exit": proc.returncode, "root": os.getcwd(), "tail": out[-3000:], "cases": [],
              "tests": 0, "failures": 0, "errors": 0, "skipped": 0, "passed": []}
    try:
        with open(env.get(UNRUNNABLE) or os.devnull) as fh:
            report["unrunnable"] = json.load(fh)
    except (OSError, ValueError):
        pass
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
            if plugin and len(report["passed"]) < 2000 and not any(
                case.find(k) is not None for k in ("failure", "error", "skipped")
            ):
                report["passed"].append({k: case.get(k) or "" for k in ("classname", "name", "file")})
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


if __name__ == "__main__":
    sys.exit(main())
"""

# ---------------------------------------------------------------------------------------------
# which tests


def _safe_rel(path: str) -> bool:
    return bool(path) and not os.path.isabs(path) and ".." not in path.replace("\\", "/").split("/")


def _find_tests(workdir: str, keep: Callable[[str], bool]) -> list[str]:
    """Repository-relative paths of the files whose name ``keep`` accepts (hidden and vendored
    folders left out, at most _WALK_LIMIT files looked at)."""
    found: list[str] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(workdir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        for fn in sorted(filenames):
            seen += 1
            if keep(fn):
                found.append(os.path.relpath(os.path.join(dirpath, fn), workdir).replace(os.sep, "/"))
        if seen > _WALK_LIMIT:
            break
    return found


def default_selection(changeset: ChangeSet, limit: int | None = MAX_SELECTION) -> list[str]:
    """The changed test files, and test_<module>.py / <module>_test.py of each changed module
    (the first ``limit``; None: all)."""
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
        chosen += [p for p in _find_tests(workdir, wanted.__contains__) if p not in chosen]
    return chosen[:limit]


def related_tests(changeset: ChangeSet) -> list[str]:
    """Every test file of the change: :func:`default_selection`'s (uncapped), then the test files
    that import a changed module or sit in a changed module's folder, in path order; the files that
    import a changed module (or are named after one) before the others, so a budget reaches them
    first."""
    workdir = changeset.workdir
    assert workdir is not None
    modules = [
        f.new_path
        for f in changeset.files
        if f.new_path
        and f.new_path.endswith(".py")
        and f.status is not FileStatus.DELETED
        and not is_test_file(f.new_path)
    ]
    names = [m for p in modules for m in module_names(p)]
    folders = {p.rpartition("/")[0] for p in modules}
    chosen = default_selection(changeset, limit=None)
    for path in _find_tests(workdir, lambda fn: is_test_file(fn) and fn != "conftest.py"):
        if path in chosen:
            continue
        if path.rpartition("/")[0] in folders or any(imports(read_text(workdir, path), m) for m in names):
            chosen.append(path)
    stems = {p.rsplit("/", 1)[-1].removesuffix(".py") for p in modules}
    named = {f"test_{s}.py" for s in stems} | {f"{s}_test.py" for s in stems}

    def first(path: str) -> bool:
        return path.rsplit("/", 1)[-1] in named or any(imports(read_text(workdir, path), m) for m in names)

    return sorted(chosen, key=lambda p: not first(p))  # stable: the order above within each part


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

    def run(
        self, workdir: str, selection: Sequence[str], keyword: str | None, *, options: Sequence[str] = ()
    ) -> dict[str, Any] | str:
        """The driver's report (see pytest_report.parse_report), or why there is none. ``options``
        come first on pytest's command line (DESELECT first of all)."""
        args = [*options, *(["-k", keyword] if keyword else [])]
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
