"""pytest as a tool: a test selection run in the sandbox on the head checkout; failures become findings.

The run itself is runners/pytest_driver.py (the driver, the default selection, the sandbox), the
report and the placing of failures runners/pytest_report.py. Where the sandbox cannot start the
tool reports "pytest needs the sandbox: <reason>" and runs nothing. A failing test is kept wherever
it lands (``ToolResult.anchored_only`` is False).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import ChangeSet, Finding
from ..runners.policy import CodeRunner
from ..runners.pytest_driver import MAX_SELECTION, PytestDriver, check_selection, default_selection
from ..runners.pytest_report import assertion, place, to_finding
from .base import Tool, ToolResult, failure

__all__ = ["PARAMETERS", "PytestRunner", "pytest_tool"]

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
    """The runner function of the pytest tool."""

    def __init__(self, runner: CodeRunner, *, timeout: float = 120.0, python: str | None = None) -> None:
        self.driver = PytestDriver(runner, timeout=timeout, python=python)

    def unavailable(self) -> str | None:
        """Why pytest cannot run here (cached), or None."""
        return self.driver.unavailable()

    def __call__(self, changeset: ChangeSet, arguments: Mapping[str, Any]) -> ToolResult:
        if not changeset.workdir:
            return failure(
                "pytest needs a checkout of the head revision (a git source with a clean work tree)"
            )
        reason = self.unavailable()
        if reason is not None:
            return failure(reason)
        requested = [str(s) for s in arguments.get("selection") or []]
        notes: list[str] = []
        if requested:
            selection, notes = check_selection(changeset.workdir, requested)
            if not selection:
                return ToolResult(observation="\n".join([*notes, "pytest: nothing to run"]))
        else:
            selection = default_selection(changeset)
        keyword = str(arguments["keyword"]) if arguments.get("keyword") else None
        report = self.driver.run(changeset.workdir, selection, keyword)
        if isinstance(report, str):
            return failure(report)
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
            return failure(f"pytest failed (exit {code}): {detail}")
        lines.append(_summary(report))
        findings: list[Finding] = []
        for case in report["cases"]:
            loc, why = place(case, changeset, report["roots"])
            where = f"{loc.path}:{loc.line}" if loc else "not placed"
            lines.append(f"{case.nodeid} {case.kind}: {assertion(case)} [{where}: {why}]")
            lines += ["  " + ln for ln in case.text.strip().splitlines()[:12]]
            if loc is not None:
                findings.append(to_finding(case, loc))
        notes = tuple(report.get("sandbox_notes") or ())
        return ToolResult(tuple(findings), "\n".join(lines), anchored_only=False, notes=notes)


def pytest_tool(runner: CodeRunner, *, timeout: float = 120.0, python: str | None = None) -> Tool:
    """The tool; ``runner`` is where the tests run (compose passes the bubblewrap sandbox)."""
    run = PytestRunner(runner, timeout=timeout, python=python)
    return Tool(
        "pytest",
        "run the repository's tests (a selection) in a sandbox; reports failing tests with their assertion",
        PARAMETERS,
        run,
        run.unavailable,
    )
