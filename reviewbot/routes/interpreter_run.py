"""Running a model-written test in the sandbox and telling what happened (routes/interpreter.py,
steps 3 and 4): the pytest driver on the staged test file, its report classified into a Verdict."""

from __future__ import annotations

import math
import os
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ToolError
from ..runners.policy import CodeRunner, SandboxPolicy
from ..runners.pytest_driver import DRIVER, DRIVER_NAME, SANDBOX_ROOT
from ..runners.pytest_report import assertion, frames, parse_report

__all__ = ["TEST_FILE", "Verdict", "classify", "execute", "sandbox_policy"]

TEST_FILE = "test_reviewbot_interpreter.py"
# run the pytest driver on the staged test file, by its absolute path (the driver changes directory)
LAUNCH = (
    f"import os, runpy, sys; sys.argv = [{DRIVER_NAME!r}, '--', os.path.abspath({TEST_FILE!r})]; "
    f"runpy.run_path({DRIVER_NAME!r}, run_name='__main__')"
)
_SIGNAL_LIMITS = {
    signal.SIGXCPU: "the sandbox's cpu limit",
    signal.SIGXFSZ: "the sandbox's file_size limit",
    signal.SIGKILL: "SIGKILL (the sandbox's cpu hard limit or the memory limit)",
}
_MODEL_ERRORS = ("NameError", "ImportError", "ModuleNotFoundError", "SyntaxError", "IndentationError")


def sandbox_policy(timeout: float) -> SandboxPolicy:
    """The sandbox's limits for one test: the CPU limit one second above the wall clock, so that a
    test that never ends is reported as timed out (a CPU-bound loop would otherwise race the two)."""
    return SandboxPolicy(wall_seconds=timeout, cpu_seconds=math.ceil(timeout) + 1, memory_bytes=2 * 1024**3)


@dataclass(frozen=True, slots=True)
class Verdict:
    # passed | failed (an assertion) | error (an exception) | timed_out | killed | model_error | not_run
    kind: str
    detail: str  # the assertion, the error, the reason
    tests: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # the sandbox's (a limit it could not apply here)


def _innermost_in_test(text: str, roots: list[str]) -> bool:
    fr = frames(text, roots)
    return bool(fr) and fr[-1][0].rsplit("/", 1)[-1] == TEST_FILE


def _is_model_error(message: str, text: str, roots: list[str]) -> bool:
    """A failure that comes from the test's own code: a bad name, import or call."""
    if not _innermost_in_test(text, roots):
        return False
    kind = message.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    if kind in _MODEL_ERRORS:
        return True
    return kind == "TypeError" and "argument" in message


def classify(res: Any, timeout: float, workdir: str) -> Verdict:
    """A SandboxResult of the driver -> what happened to the test."""
    if res.timed_out:
        return Verdict("timed_out", f"did not finish within {timeout:g} s", seconds=res.seconds)
    if res.killed_by_limit:
        return Verdict("killed", f"stopped by the sandbox's {res.killed_by_limit} limit", seconds=res.seconds)
    report = parse_report(res.stdout, (SANDBOX_ROOT, workdir))
    if report is None:
        last = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1][:300]
        return Verdict("model_error", f"the test run ended without a report: {last}", seconds=res.seconds)
    if report.get("error"):
        return Verdict("not_run", str(report["error"])[:300], seconds=res.seconds)
    roots = [str(r) for r in report["roots"]]
    code = report.get("exit")
    tests = int(report.get("tests") or 0)
    tail = [ln for ln in str(report.get("tail") or "").strip().splitlines() if ln.strip()]
    cases = report["cases"]
    if code == 0:
        return Verdict("passed", f"{tests} test(s) passed", tests, res.seconds)
    if isinstance(code, int) and code < 0:  # pytest itself was killed by a signal, inside the sandbox
        limit = _SIGNAL_LIMITS.get(-code, f"signal {-code}")
        return Verdict("killed", f"stopped by {limit}", tests, res.seconds)
    if code == 5:
        return Verdict(
            "model_error", "pytest collected no test function (name them test_...)", 0, res.seconds
        )
    case = cases[0] if cases else None
    if case is not None and case.kind == "failure" and code == 1:
        if _is_model_error(case.message, case.text, roots):
            return Verdict("model_error", assertion(case), tests, res.seconds)
        detail = assertion(case)
        kind = "failed" if detail.startswith(("AssertionError", "assert ")) else "error"
        return Verdict(kind, detail, tests, res.seconds)
    # an error at collection (import of the test module) or in a fixture's setup
    if case is not None:
        text = case.message + "\n" + case.text
        shown = " ".join(ln[1:].strip() for ln in case.text.splitlines() if ln.startswith("E "))
        detail = " ".join(shown.split())[:500] or assertion(case)
    else:
        text = "\n".join(tail[-15:])
        detail = " | ".join(tail[-3:])[:500] or f"exit {code}"
    in_checkout = [
        p for p, _ in frames(text, roots) if not p.startswith("/") and p.rsplit("/", 1)[-1] != TEST_FILE
    ]
    if in_checkout and any(k in text for k in ("ModuleNotFoundError", "ImportError")):
        return Verdict(
            "not_run", f"the code under test does not import in the sandbox: {detail}", tests, res.seconds
        )
    return Verdict("model_error", detail, tests, res.seconds)


def execute(runner: CodeRunner, workdir: str, test: str, timeout: float, python: str | None) -> Verdict:
    """Run ``test`` (a module's text) with the driver in ``runner`` against the checkout."""
    exe = python or sys.executable
    try:
        res = runner.run(
            [os.path.basename(exe), "-c", LAUNCH],
            checkout=Path(workdir),
            files={DRIVER_NAME: DRIVER, TEST_FILE: test},
            python=python,
        )
    except ToolError as exc:
        msg = str(exc)
        reason = msg if msg.startswith("sandbox unavailable") else f"sandbox unavailable: {msg}"
        return Verdict("not_run", reason)
    return replace(classify(res, timeout, workdir), notes=res.notes)
