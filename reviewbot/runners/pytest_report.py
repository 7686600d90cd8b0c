"""The pytest driver's report: parsing its JSON (untrusted: sizes capped, paths cleaned), and where a
failing test goes on the change.

Placement of a failing test (``place``), first that applies:
1. a traceback line in the test file that is an added line of the change;
2. a traceback line in any other file that is an added line (innermost first);
   then one that the diff shows around the change (a context line of a hunk of a changed module:
   a removed guard leaves the failure on the unchanged line after it);
3. an added line of the test file between the test's ``def`` and its failing line;
4. a changed module that the test file imports: the first added line in a function the failure
   names (``where 0 = add(2, 2)``), else its first added line;
5. the test's failing line (or its ``def``), which the anchor stage may leave unanchored.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diff import DiffIndex, added_numbers
from ..model import ChangeSet, FileStatus, Finding, Location, Severity, Side

__all__ = [
    "MARK",
    "TestCase",
    "assertion",
    "clean_path",
    "frames",
    "imports",
    "is_test_file",
    "module_names",
    "parse_report",
    "place",
    "read_text",
    "to_finding",
]

MARK = "@@reviewbot-pytest-report@@"  # the driver prints its JSON after this, on one line
MAX_CASES = 20


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


def clean_path(path: str, roots: Sequence[str]) -> str:
    path = path.strip().replace("\\", "/")
    for r in roots:
        r = r.rstrip("/")
        if r and path.startswith(r + "/"):
            path = path[len(r) + 1 :]
            break
    return path.removeprefix("./")


def parse_report(stdout: str, roots: Sequence[str] = ()) -> dict[str, Any] | None:
    """The driver's JSON (the last MARK line), with its cases as TestCase and the node ids of the
    tests that passed (a set, where the driver lists them); None when there is none."""
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
                file=clean_path(str(c.get("file", ""))[:300], roots),
                line=line_no,
                message=str(c.get("message", ""))[:2000],
                text=str(c.get("text", ""))[:6000],
            )
        )
    data["cases"] = cases
    passed = data.get("passed") if isinstance(data.get("passed"), list) else []
    data["passed"] = {
        TestCase(
            "passed",
            str(c.get("classname", ""))[:300],
            str(c.get("name", ""))[:300],
            clean_path(str(c.get("file", ""))[:300], roots),
            None,
            "",
            "",
        ).nodeid
        for c in passed[:2000]
        if isinstance(c, dict)
    }
    data["roots"] = roots
    return data


_FRAME = re.compile(r"^(?P<path>[^\s:][^:\n]*?\.py):(?P<line>\d+): ", re.MULTILINE)


def frames(text: str, roots: Sequence[str]) -> list[tuple[str, int]]:
    """(path, line) of each traceback entry, outermost first."""
    return [(clean_path(m["path"], roots), int(m["line"])) for m in _FRAME.finditer(text)]


# ---------------------------------------------------------------------------------------------
# placing a failure


def added_lines(changeset: ChangeSet) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for f in changeset.files:
        if f.new_path is None or f.status is FileStatus.DELETED:
            continue
        nums = sorted(added_numbers(f.hunks))
        if nums:
            out[f.new_path] = nums
    return out


def is_test_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.endswith(".py") and (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def module_names(path: str) -> list[str]:
    """Dotted names a file may be imported as: pkg/calc.py -> pkg.calc (and calc.py under src/)."""
    mod = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    names = [mod]
    if mod.startswith("src."):
        names.append(mod[4:])
    return names


def imports(test_text: str, module: str) -> bool:
    parent, _, leaf = module.rpartition(".")
    pats = [rf"^\s*(?:from|import)\s+{re.escape(module)}\b"]
    if parent:
        pats.append(rf"^\s*from\s+{re.escape(parent)}\s+import\s+[^\n]*\b{re.escape(leaf)}\b")
    return any(re.search(p, test_text, re.MULTILINE) for p in pats)


def read_text(workdir: str | None, path: str) -> str:
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


ON_THE_TEST = "the test itself (outside the change)"  # ``place``'s one reason that is not on the change


def place(case: TestCase, changeset: ChangeSet, roots: Sequence[str] = ()) -> tuple[Location | None, str]:
    """Where a failure goes (see the module docstring) and a few words on why; None when nowhere."""
    added = added_lines(changeset)
    tb = frames(case.text, roots)
    test = case.file or next((p for p, _ in tb if is_test_file(p)), "")
    in_test = [n for p, n in tb if p == test]
    for p, n in reversed(tb):
        if p == test and n in added.get(p, ()):
            return Location(p, Side.RIGHT, n), "the failing line of the test, changed"
    for p, n in reversed(tb):
        if n in added.get(p, ()):
            return Location(p, Side.RIGHT, n), "a changed line in the traceback"
    shown = DiffIndex(changeset.files)
    for p, n in reversed(tb):
        if p in added and not is_test_file(p) and shown.contains(p, Side.RIGHT, n):
            return Location(p, Side.RIGHT, n), "a line of the change's hunk in the traceback"
    if test in added and case.line is not None:
        last = in_test[-1] if in_test else case.line
        inside = [n for n in added[test] if case.line <= n <= last]
        if inside:
            return Location(test, Side.RIGHT, inside[-1]), "a changed line of the test"
    text = read_text(changeset.workdir, test) if test else ""
    if text:
        for path, nums in added.items():
            if (
                path.endswith(".py")
                and not is_test_file(path)
                and any(imports(text, m) for m in module_names(path))
            ):
                line = _in_named_function(
                    read_text(changeset.workdir, path), nums, case.message + "\n" + case.text
                )
                return Location(path, Side.RIGHT, line or nums[0]), f"changed code that {test} imports"
    line = in_test[-1] if in_test else case.line
    if test and line:
        return Location(test, Side.RIGHT, line), ON_THE_TEST
    return None, "no location"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def assertion(case: TestCase) -> str:
    text = case.message.strip()
    if not text:
        text = "\n".join(ln[1:].strip() for ln in case.text.splitlines() if ln.startswith("E "))
    text = _ADDRESS.sub("", " ".join(text.split()))  # "<X object at 0x7f...>" differs run to run
    return text[:400] + ("..." if len(text) > 400 else "") if text else case.kind


def to_finding(case: TestCase, location: Location) -> Finding:
    verb = "fails" if case.kind == "failure" else "errors"
    return Finding(
        location=location,
        severity=Severity.ERROR,
        # a hook can put lines in an id
        message=f"test {' '.join(case.nodeid.split())} {verb}: {assertion(case)}",
        rule="pytest/failed" if case.kind == "failure" else "pytest/error",
        route="tools",
        category="bug",
        source="pytest",
    )
