"""pytest as a tool: a test selection run in the sandbox on the head checkout; failures become findings.

pytest imports and runs the repository's code (tests, conftest.py, the package), so it never runs
on the runner itself: it runs in runners/sandbox.py's BubblewrapSandbox (no network, no secrets, a
read-only checkout at /checkout, limits). Where the sandbox cannot start the tool reports
"pytest needs the sandbox: <reason>" and runs nothing. Another CodeRunner (UnsafeLocalRunner) is
used only when the caller passes it explicitly.

Inside the sandbox a small driver (DRIVER) runs

    python -m pytest -q -x --tb=short -p no:cacheprovider -o junit_family=xunit1 --junitxml=J <selection>

from the checkout, parses the junit XML there (so a hostile XML file only costs the sandbox) and
prints one JSON line after MARK. Here that JSON is untrusted input: sizes are capped, paths checked.

Placement of a failing test (``place``), first that applies:
1. a traceback line in the test file that is an added line of the change;
2. a traceback line in any other file that is an added line (innermost first);
3. an added line of the test file between the test's ``def`` and its failing line;
4. a changed module that the test file imports: the first added line in a function the failure
   names (``where 0 = add(2, 2)``), else its first added line;
5. the test's failing line (or its ``def``), which the anchor stage may leave unanchored.
A failing test is kept wherever it lands (``ToolResult.anchored_only`` is False).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ToolError
from ..model import ChangeSet, FileStatus, Finding, LineKind, Location, Severity, Side, Skipped
from ..runners.sandbox import BubblewrapSandbox, CodeRunner, SandboxPolicy
from .registry import STAGE, Tool, ToolResult

__all__ = ["DRIVER", "MARK", "TestCase", "default_selection", "parse_report", "place", "pytest_tool"]

MARK = "@@reviewbot-pytest-report@@"
DRIVER_NAME = "reviewbot_pytest_driver.py"
SANDBOX_ROOT = "/checkout"
MAX_CASES = 20
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

SELECTION_PATTERN = r"^[A-Za-z0-9_][^\x00-\x1f]*$"
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "description": "pytest's arguments",
    "properties": {
        "selection": {
            "type": "array",
            "description": "test files or node ids (tests/test_x.py::test_y), repository-relative; "
            "default: the changed tests and the tests named after the changed modules",
            "items": {"type": "string", "minLength": 1, "maxLength": 300, "pattern": SELECTION_PATTERN},
            "maxItems": MAX_SELECTION,
        },
        "keyword": {
            "type": "string",
            "description": "a -k expression over test names",
            "pattern": r"^[A-Za-z0-9_ ()]{1,100}$",
        },
    },
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class TestCase:
    """One failing or erroring test from the driver's report."""

    __test__ = False  # not a pytest test class

    kind: str  # failure | error
    classname: str
    name: str
    file: str  # repository-relative ("" when junit did not say)
    line: int | None  # 1-based line of the test's def
    message: str
    text: str  # the short traceback

    @property
    def nodeid(self) -> str:
        if not self.file:
            return f"{self.classname}::{self.name}" if self.classname else self.name
        module = self.file.removesuffix(".py").replace("/", ".")
        rest = self.classname[len(module) + 1 :] if self.classname.startswith(module + ".") else ""
        return "::".join(p for p in (self.file, *rest.split("."), self.name) if p)


# ---------------------------------------------------------------------------------------------
# the report


def _clean_path(path: str, roots: Sequence[str]) -> str:
    path = path.strip().replace("\\", "/")
    for r in roots:
        r = r.rstrip("/")
        if r and path.startswith(r + "/"):
            path = path[len(r) + 1 :]
            break
    return path.removeprefix("./")


def parse_report(stdout: str, roots: Sequence[str] = ()) -> dict[str, Any] | None:
    """The driver's JSON (the last MARK line), with its cases as TestCase; None when there is none."""
    line = next((ln for ln in reversed(stdout.splitlines()) if ln.startswith(MARK)), None)
    if line is None:
        return None
    try:
        data = json.loads(line[len(MARK) :])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    roots = [*roots, str(data.get("root") or "")]
    cases: list[TestCase] = []
    for c in data.get("cases") or []:
        if not isinstance(c, dict) or len(cases) >= MAX_CASES:
            continue
        try:
            line_no = int(c["line"]) + 1 if str(c.get("line", "")).strip() else None  # junit's is 0-based
        except ValueError:
            line_no = None
        cases.append(
            TestCase(
                kind="error" if c.get("kind") == "error" else "failure",
                classname=str(c.get("classname", ""))[:300],
                name=str(c.get("name", ""))[:300],
                file=_clean_path(str(c.get("file", ""))[:300], roots),
                line=line_no,
                message=str(c.get("message", ""))[:2000],
                text=str(c.get("text", ""))[:6000],
            )
        )
    data["cases"] = cases
    data["roots"] = roots
    return data


_FRAME = re.compile(r"^(?P<path>[^\s:][^:\n]*?\.py):(?P<line>\d+): ", re.MULTILINE)


def frames(text: str, roots: Sequence[str]) -> list[tuple[str, int]]:
    """(path, line) of each traceback entry, outermost first."""
    return [(_clean_path(m["path"], roots), int(m["line"])) for m in _FRAME.finditer(text)]


# ---------------------------------------------------------------------------------------------
# placing a failure


def _added_lines(changeset: ChangeSet) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for f in changeset.files:
        if f.new_path is None or f.status is FileStatus.DELETED:
            continue
        nums = [ln.new_no for h in f.hunks for ln in h.lines if ln.kind is LineKind.ADDED and ln.new_no]
        if nums:
            out[f.new_path] = sorted(nums)
    return out


def is_test_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".py") and (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def _module_names(path: str) -> list[str]:
    """Dotted names a file may be imported as: pkg/calc.py -> pkg.calc (and calc.py under src/)."""
    mod = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    names = [mod]
    if mod.startswith("src."):
        names.append(mod[4:])
    return names


def _imports(test_text: str, module: str) -> bool:
    parent, _, leaf = module.rpartition(".")
    pats = [rf"^\s*(?:from|import)\s+{re.escape(module)}\b"]
    if parent:
        pats.append(rf"^\s*from\s+{re.escape(parent)}\s+import\s+[^\n]*\b{re.escape(leaf)}\b")
    return any(re.search(p, test_text, re.MULTILINE) for p in pats)


def _read(workdir: str | None, path: str) -> str:
    if not workdir:
        return ""
    try:
        full = Path(workdir, path).resolve()
        if not full.is_relative_to(Path(workdir).resolve()):
            return ""
        return full.read_text(encoding="utf-8", errors="replace")[:200_000]
    except OSError:
        return ""


def _in_named_function(source: str, added: Sequence[int], failure: str) -> int | None:
    """The first added line inside the innermost function whose name the failure mentions."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            if re.search(rf"\b{re.escape(node.name)}\b", failure):
                inside = [n for n in added if node.lineno <= n <= node.end_lineno]
                if inside:
                    spans.append((node.end_lineno - node.lineno, inside[0]))
    return min(spans)[1] if spans else None


def place(case: TestCase, changeset: ChangeSet, roots: Sequence[str] = ()) -> tuple[Location | None, str]:
    """Where a failure goes (see the module docstring) and a few words on why; None when nowhere."""
    added = _added_lines(changeset)
    tb = frames(case.text, roots)
    test = case.file or next((p for p, _ in tb if is_test_file(p)), "")
    in_test = [n for p, n in tb if p == test]
    for p, n in reversed(tb):
        if p == test and n in added.get(p, ()):
            return Location(p, Side.RIGHT, n), "the failing line of the test, changed"
    for p, n in reversed(tb):
        if n in added.get(p, ()):
            return Location(p, Side.RIGHT, n), "a changed line in the traceback"
    if test in added and case.line is not None:
        last = in_test[-1] if in_test else case.line
        inside = [n for n in added[test] if case.line <= n <= last]
        if inside:
            return Location(test, Side.RIGHT, inside[-1]), "a changed line of the test"
    text = _read(changeset.workdir, test) if test else ""
    if text:
        for path, nums in added.items():
            if (
                path.endswith(".py")
                and not is_test_file(path)
                and any(_imports(text, m) for m in _module_names(path))
            ):
                line = _in_named_function(
                    _read(changeset.workdir, path), nums, case.message + "\n" + case.text
                )
                return Location(path, Side.RIGHT, line or nums[0]), f"changed code that {test} imports"
    line = in_test[-1] if in_test else case.line
    if test and line:
        return Location(test, Side.RIGHT, line), "the test itself (outside the change)"
    return None, "no location"


def _assertion(case: TestCase) -> str:
    text = case.message.strip()
    if not text:
        text = "\n".join(ln[1:].strip() for ln in case.text.splitlines() if ln.startswith("E "))
    text = " ".join(text.split())
    return text[:400] + ("..." if len(text) > 400 else "") if text else case.kind


def to_finding(case: TestCase, location: Location) -> Finding:
    verb = "fails" if case.kind == "failure" else "errors"
    return Finding(
        location=location,
        severity=Severity.ERROR,
        message=f"test {case.nodeid} {verb}: {_assertion(case)}",
        rule="pytest/failed" if case.kind == "failure" else "pytest/error",
        route="tools",
        category="bug",
        source="pytest",
    )


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


def _check_selection(workdir: str, selection: Sequence[str]) -> tuple[list[str], list[str]]:
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


# ---------------------------------------------------------------------------------------------
# the tool


def _skip(reason: str) -> ToolResult:
    return ToolResult(observation=reason, skipped=(Skipped("*", reason, STAGE),))


def _summary(report: Mapping[str, Any]) -> str:
    def n(key: str) -> int:
        try:
            return int(report.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    passed = max(0, n("tests") - n("failures") - n("errors") - n("skipped"))
    parts = [f"{passed} passed"]
    parts += [
        f"{n(k)} {k if k != 'failures' else 'failed'}" for k in ("failures", "errors", "skipped") if n(k)
    ]
    return f"pytest ran {n('tests')} test(s): {', '.join(parts)} (stops at the first failure)"


class PytestRunner:
    """The runner function of the pytest tool (a class so that the sandbox is probed once)."""

    def __init__(
        self, *, timeout: float = 120.0, runner: CodeRunner | None = None, python: str | None = None
    ) -> None:
        self.timeout = timeout
        self.python = python
        self._runner: CodeRunner = runner or BubblewrapSandbox(
            SandboxPolicy(wall_seconds=timeout, cpu_seconds=max(1, int(timeout)), memory_bytes=2 * 1024**3)
        )
        self._probed: str | None | bool = False  # False: not probed yet

    def unavailable(self) -> str | None:
        """Why pytest cannot run here (cached), or None."""
        if self._probed is False:
            reason = None
            if self.python is None and importlib.util.find_spec("pytest") is None:
                reason = "pytest is not installed"
            elif callable(probe := getattr(self._runner, "probe", None)):  # a sandbox: does it start here?
                why = probe()
                reason = f"pytest needs the sandbox: {why}" if why else None
            self._probed = reason
        return self._probed if isinstance(self._probed, str) else None

    def __call__(self, changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        if not changeset.workdir:
            return _skip("pytest needs a checkout of the head revision (a git source with a clean work tree)")
        reason = self.unavailable()
        if reason is not None:
            return _skip(reason)
        requested = [str(s) for s in arguments.get("selection") or []]
        notes: list[str] = []
        if requested:
            selection, notes = _check_selection(changeset.workdir, requested)
            if not selection:
                return ToolResult(observation="\n".join([*notes, "pytest: nothing to run"]))
        else:
            selection = default_selection(changeset)
        args = ["-k", str(arguments["keyword"])] if arguments.get("keyword") else []
        python = self.python or sys.executable
        try:
            res = self._runner.run(
                [os.path.basename(python), DRIVER_NAME, *args, "--", *selection],
                checkout=Path(changeset.workdir),
                files={DRIVER_NAME: DRIVER},
                python=self.python,
            )
        except ToolError as exc:
            msg = str(exc)
            return _skip(f"pytest needs the sandbox: {msg.removeprefix('sandbox unavailable: ')}")
        if res.timed_out or res.killed_by_limit:
            why = (
                f"timed out after {self.timeout:g} s"
                if res.timed_out
                else f"hit the {res.killed_by_limit} limit"
            )
            return _skip(f"pytest {why}")
        report = parse_report(res.stdout, (SANDBOX_ROOT, changeset.workdir))
        if report is None:
            last = (res.stderr.strip().splitlines() or ["no output"])[-1][:300]
            return _skip(f"pytest did not report (exit {res.returncode}): {last}")
        if report.get("error"):
            return _skip(str(report["error"])[:300])
        return self._result(report, changeset, selection, notes)

    def _result(
        self, report: dict[str, Any], changeset: ChangeSet, selection: Sequence[str], notes: list[str]
    ) -> ToolResult:
        lines = [*notes, f"selection: {' '.join(selection) or '(the whole suite)'}"]
        code = report.get("exit")
        tail = [ln for ln in str(report.get("tail") or "").strip().splitlines() if ln.strip()]
        if code == 5:
            return ToolResult(observation="\n".join([*lines, "pytest collected no tests"]))
        if code in (3, 4) or (code not in (0, 1, 2) and not report["cases"]):
            detail = " | ".join(tail[-3:])[:500] or "no output"
            if code == 4:  # a usage error: the model's arguments, most likely
                return ToolResult(observation="\n".join([*lines, f"pytest usage error: {detail}"]))
            return _skip(f"pytest failed (exit {code}): {detail}")
        lines.append(_summary(report))
        findings: list[Finding] = []
        for case in report["cases"]:
            loc, why = place(case, changeset, report["roots"])
            where = f"{loc.path}:{loc.line}" if loc else "not placed"
            lines.append(f"{case.nodeid} {case.kind}: {_assertion(case)} [{where}: {why}]")
            lines += ["  " + ln for ln in case.text.strip().splitlines()[:12]]
            if loc is not None:
                findings.append(to_finding(case, loc))
        return ToolResult(tuple(findings), "\n".join(lines), anchored_only=False)


def pytest_tool(
    *, timeout: float = 120.0, runner: CodeRunner | None = None, python: str | None = None
) -> Tool:
    run = PytestRunner(timeout=timeout, runner=runner, python=python)
    return Tool(
        "pytest",
        "run the repository's tests (a selection) in a sandbox; reports failing tests with their assertion",
        PARAMETERS,
        run,
        run.unavailable,
    )
