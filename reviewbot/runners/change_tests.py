"""The change's own tests (issue 13): run at head in the sandbox, failures checked at base.

Beside the linters, on every source with a checkout at head (``changeset.workdir``):

1. the selection (``pytest_driver.related_tests``): the changed test files, the tests named after a
   changed module, and the test files that import a changed module or sit in its folder; at most
   ``max_files``, the rest named in a note;
2. each file is run at head, one sandboxed pytest run after another, under one time budget
   (``timeout`` seconds in all); files the budget does not reach are named in a note. Tests that
   need a fixture this Python lacks (a plugin's, such as pytest-httpbin's ``httpbin``) are
   deselected by the driver and counted;
3. the tests that fail at head are run again on the base revision (``git archive`` of
   ``changeset.base`` in a temporary folder). A test that passes there (or does not exist there)
   is the change's: a finding (source ``pytest``, an error) on the changed line its traceback passes
   through (``pytest_report.place``), or on the test itself, said so in the message. A test that
   fails at base too, or could not be run there, is named in a note and not blamed on the change.
"""

from __future__ import annotations

import os
import re
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ..errors import ToolError
from ..model import ChangeSet, Finding
from ..ports import TestsOutcome
from . import process
from .policy import CodeRunner
from .pytest_driver import DESELECT, MAX_SELECTION, PytestDriver, related_tests
from .pytest_report import ON_THE_TEST, TestCase, place, read_text, to_finding

__all__ = ["ChangeTests"]

MAX_FAILURES = 20  # pytest stops after this many failing tests in one file
_BASE_TAR_LIMIT = 512 * 1024 * 1024
_SHOWN = 5  # names listed in a note before "(+N more)"


def _listed(names: Sequence[str]) -> str:
    more = f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def _count(report: dict[str, Any], key: str) -> int:
    try:
        return int(report.get(key) or 0)
    except (TypeError, ValueError):
        return 0


class ChangeTests:
    """``runner_for(seconds)`` makes the CodeRunner of one run (compose: the bubblewrap sandbox
    with that wall clock); ``timeout`` is the budget of all the runs of one review together."""

    name = "pytest"

    def __init__(
        self,
        runner_for: Callable[[float], CodeRunner],
        *,
        timeout: float = 120.0,
        max_files: int = MAX_SELECTION,
        python: str | None = None,
    ) -> None:
        self.runner_for = runner_for
        self.timeout = timeout
        self.max_files = max_files
        self.python = python

    def run(self, changeset: ChangeSet) -> TestsOutcome:
        head = "the change's tests"
        if not changeset.workdir:
            return TestsOutcome(
                notes=(f"{head} not run: they need a checkout of the head revision (a git range)",)
            )
        selection = related_tests(changeset)
        if not selection:
            return TestsOutcome(notes=(f"{head}: no test file imports or sits beside a changed module",))
        chosen, left = selection[: self.max_files], selection[self.max_files :]
        notes: list[str] = []
        if left:
            notes.append(
                f"{head}: {len(left)} more test file(s) not run (at most {self.max_files}): {_listed(left)}"
            )
        why = self._driver(self.timeout).unavailable()
        if why is not None:
            return TestsOutcome(notes=(f"{head} not run: {why}", *notes))
        deadline = time.monotonic() + self.timeout
        cases, roots, ran, summary = self._at_head(changeset.workdir, chosen, deadline, notes)
        sandboxed = callable(getattr(self.runner_for(self.timeout), "probe", None))  # not UnsafeLocalRunner
        where = f"{self.timeout:g} s budget, {'in the sandbox' if sandboxed else 'WITHOUT the sandbox'}"
        notes.insert(0, f"{head} ({where}): {len(ran)} file(s) run: {_listed(ran)}; {summary}")
        if not cases:
            return TestsOutcome(notes=tuple(notes))
        at_base = self._at_base(changeset, cases, deadline)
        findings: list[Finding] = []
        old: list[str] = []
        unsure: dict[str, list[str]] = {}
        for case in cases:
            base = at_base[case.nodeid]
            if base == "fails":
                old.append(case.nodeid)
            elif base not in ("passes", "new"):
                unsure.setdefault(base, []).append(case.nodeid)
            elif isinstance(found := self._finding(case, changeset, roots, base), str):
                notes.append(found)
            else:
                findings.append(found)
        if old:
            notes.append(
                f"{head}: {len(old)} test(s) fail at base too, not blamed on the change: {_listed(old)}"
            )
        for why, ids in unsure.items():
            notes.append(
                f"{head}: {len(ids)} test(s) fail, not blamed on the change: not checked at base ({why}): {_listed(ids)}"
            )
        return TestsOutcome(tuple(findings), tuple(notes))

    # -------------------------------------------------------------------------------------------

    def _driver(self, seconds: float) -> PytestDriver:
        return PytestDriver(self.runner_for(seconds), timeout=seconds, python=self.python)

    def _run(self, workdir: str, selection: Sequence[str], deadline: float) -> dict[str, Any] | str:
        left = deadline - time.monotonic()
        if left < 1:
            return "the time budget was spent"
        options = [DESELECT, f"--maxfail={MAX_FAILURES}"]
        return self._driver(left).run(workdir, selection, None, options=options)

    def _at_head(
        self, workdir: str, files: Sequence[str], deadline: float, notes: list[str]
    ) -> tuple[list[TestCase], list[str], list[str], str]:
        """Each file run in turn: the failing tests, the report's path roots, the files run, a summary."""
        cases: list[TestCase] = []
        roots: list[str] = []
        ran: list[str] = []
        totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        unrunnable, fixtures, late = 0, set[str](), list[str]()
        for path in files:
            report = self._run(workdir, [path], deadline)
            if report == "the time budget was spent":
                late.append(path)
                continue
            if isinstance(report, str):
                notes.append(f"the change's tests: {path}: {report}")
                continue
            ran.append(path)
            if any(c.nodeid == "pytest::internal" for c in report["cases"]):
                notes.append(
                    f"the change's tests: pytest hit an internal error in {path}; later tests there did not run"
                )
            cases += [c for c in report["cases"] if c.nodeid != "pytest::internal"]
            if not report["cases"] and report.get("exit") not in (0, 1, 5):
                cases.append(_not_collected(path, report))  # say, the change breaks an import
            roots += [r for r in report["roots"] if r not in roots]
            for key in totals:
                totals[key] += _count(report, key)
            gone = report.get("unrunnable") or {}
            if isinstance(gone, dict):
                unrunnable += _count(gone, "count")
                fixtures.update(str(f) for f in gone.get("fixtures") or ())
        if late:
            notes.append(
                f"the change's tests: {len(late)} file(s) not run, the time budget was spent: {_listed(late)}"
            )
        passed = max(0, totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"])
        summary = f"{passed} passed, {totals['failures']} failed, {totals['errors']} errors, {totals['skipped']} skipped"
        if unrunnable:
            summary += f"; {unrunnable} deselected: they need fixtures this Python lacks ({_listed(sorted(fixtures))})"
        return cases, roots, ran, summary

    def _at_base(self, changeset: ChangeSet, cases: Sequence[TestCase], deadline: float) -> dict[str, str]:
        """Each case's node id -> "passes", "fails", "new" (not at base), or why it was not run there."""
        assert changeset.workdir is not None
        ids = [c.nodeid for c in cases]
        if not changeset.base:
            return dict.fromkeys(ids, "no base revision")
        with tempfile.TemporaryDirectory(prefix="reviewbot-base-") as tmp:
            tree = os.path.join(tmp, "base")
            why = _export(changeset.workdir, changeset.base, tree, deadline)
            if why is not None:
                return dict.fromkeys(ids, why)
            out = {c.nodeid: "new" for c in cases if _is_new(tree, changeset.workdir, c)}
            run = [i for i in ids if i not in out]
            report = self._run(tree, run, deadline) if run else {"cases": [], "passed": set()}
        if isinstance(report, str):
            return {**out, **dict.fromkeys(run, report)}
        failed = {c.nodeid for c in report["cases"]}
        collected = report.get("exit") in (0, 1) or _count(report, "tests") > 0  # tests ran there
        for i in run:
            if "::" not in i:  # a whole file that pytest could not collect at head
                out[i] = "passes" if collected and i not in failed else "fails"
            else:
                out[i] = (
                    "fails" if i in failed else "passes" if i in report["passed"] else "it did not run there"
                )
        return out

    def _finding(
        self, case: TestCase, changeset: ChangeSet, roots: Sequence[str], base: str
    ) -> Finding | str:
        """The failure as a finding; ``base``: "passes" or "new" (see ``_at_base``)."""
        loc, why = place(case, changeset, roots)
        if loc is None:
            return f"the change's tests: {case.nodeid} {case.kind}: {case.message[:200]} (no file to place it on)"
        f = to_finding(case, loc)
        extra = ["passes at base" if base == "passes" else "a new test"]
        if why == ON_THE_TEST:
            extra.append("shown on the test: its traceback passes through no changed line")
        return replace(f, route="tests", message=f"{f.message} ({'; '.join(extra)})")


def _not_collected(path: str, report: dict[str, Any]) -> TestCase:
    """A test file that pytest could not collect or run at all, as one erroring case (its node id
    is the path), with pytest's last lines as the traceback."""
    tail = str(report.get("tail") or "")
    said = [ln[1:].strip() for ln in tail.splitlines() if ln.startswith("E ")]
    message = said[-1] if said else f"pytest exited with {report.get('exit')}"
    return TestCase("error", "", "", path, None, f"cannot be collected: {message}", tail)


def _is_new(tree: str, workdir: str, case: TestCase) -> bool:
    """Whether the test is defined in its file at head but not at base (so it cannot run there). A
    test defined elsewhere (inherited, generated) is not new: it is run at base to find out. A
    file's case (``_not_collected``) is new when the file is."""
    if not case.name:
        return not os.path.isfile(os.path.join(tree, case.file))
    pattern = re.compile(rf"\bdef {re.escape(case.name.split('[', 1)[0])}\b")
    return pattern.search(read_text(workdir, case.file)) is not None and (
        pattern.search(read_text(tree, case.file)) is None
    )


def _extract(tf: tarfile.TarFile, dest: str) -> None:
    """The archive's files into ``dest``, nothing outside it: tarfile's "data" filter where this
    Python has one (3.11.4 and later), else its regular files and folders under plain relative names
    (Debian 12's Python 3.11.2 has no filter)."""
    if hasattr(tarfile, "data_filter"):
        tf.extractall(dest, filter="data")
        return
    plain = [
        m
        for m in tf.getmembers()
        if (m.isfile() or m.isdir()) and not os.path.isabs(m.name) and ".." not in m.name.split("/")
    ]
    tf.extractall(dest, members=plain)


def _export(workdir: str, base: str, dest: str, deadline: float) -> str | None:
    """The base revision's files into ``dest`` (``git archive``); None, or why not."""
    tar = dest + ".tar"
    left = deadline - time.monotonic()
    if left < 1:
        return "the time budget was spent"
    try:
        res = process.run(
            ["git", "-C", workdir, "archive", "--format=tar", "-o", tar, base],
            cwd=workdir,
            timeout=left,
            limits=process.Limits(file_size=_BASE_TAR_LIMIT),
        )
    except ToolError as exc:
        return str(exc)
    if not res.ok:
        return f"git archive failed: {res.stderr_line() or res.returncode}"
    try:
        os.mkdir(dest)
        with tarfile.open(tar) as tf:
            _extract(tf, dest)
    except (OSError, tarfile.TarError) as exc:
        return f"cannot unpack the base revision: {exc}"
    return None
