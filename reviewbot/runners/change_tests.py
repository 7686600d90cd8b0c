"""The change's own tests: run at head in the sandbox, failures checked at base.

Beside the linters, on every source with a checkout at head (``changeset.workdir``):

1. the selection (``pytest_driver.related_tests``): the changed test files, the tests named after a
   changed module, and the test files that import a changed module or sit in its folder; at most
   ``max_files``, the rest named in a note;
2. each file is run at head, one sandboxed pytest run after another, under one time budget (``timeout``
   seconds in all, ``HEAD_SHARE`` of it at head): the files that import a changed module first, each
   file with its own share (of the time left, an equal part per file left, or its part by size where
   that is more, so a file that hangs costs its share, not the budget); the files that ran out of their
   share run again, in turn, with all the time left; files the budget does not reach, or that ran
   out of it, are named. Tests that
   need a fixture this Python lacks (a plugin's, such as pytest-httpbin's ``httpbin``) are
   deselected by the driver and counted;
3. the tests that fail at head are run again on the base revision (``git archive`` of
   ``changeset.base`` in a temporary folder). A test that passes there (or does not exist there)
   is the change's: a finding (source ``pytest``, an error) on the changed line its traceback passes
   through (``pytest_report.place``), or on the test itself, said so in the message. A test that
   fails at base too, or could not be run there, is named in a note and not blamed on the change;
4. a failure that belongs to the machine (``environment_failures``: no name server, no network, a
   program or package missing) of a test that is new or fails at base too is named as not run
   here, with the reason; a new test that fails the same way as an old test sharing its fixtures
   is named beside it, not blamed (a broken fixture is not the new test's).
"""

from __future__ import annotations

import ast
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
from .environment_failures import environment_reason
from .policy import CodeRunner
from .pytest_driver import DESELECT, MAX_SELECTION, PytestDriver, related_tests
from .pytest_report import ON_THE_TEST, TestCase, place, read_text, to_finding

__all__ = ["SandboxedChangeTests"]

MAX_FAILURES = 20  # pytest stops after this many failing tests in one file
_MIN_WEIGHT = 4096  # bytes: the smallest test file's claim on the budget (a large file's share is by size)
HEAD_SHARE = 0.75  # of the budget for the runs at head; the rest for rerunning failures at base
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


class SandboxedChangeTests:
    """`ports.ChangeTests` by pytest in the sandbox. ``runner_for(seconds)`` makes the CodeRunner of
    one run (compose: the bubblewrap sandbox with that wall clock); ``timeout`` is the budget of all
    the runs of one review together."""

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
        start = time.monotonic()
        deadline = start + self.timeout
        head_deadline = start + self.timeout * HEAD_SHARE  # the rest is kept for the reruns at base
        cases, roots, ran, summary = self._at_head(changeset.workdir, chosen, head_deadline, notes)
        sandboxed = callable(getattr(self.runner_for(self.timeout), "probe", None))  # not UnsafeLocalRunner
        where = f"{self.timeout:g} s budget, {'in the sandbox' if sandboxed else 'WITHOUT the sandbox'}"
        notes.insert(0, f"{head} ({where}): {len(ran)} file(s) run: {_listed(ran)}; {summary}")
        if not cases:
            return TestsOutcome(notes=tuple(notes))
        at_base = self._at_base(changeset, cases, deadline)
        findings: list[Finding] = []
        old: list[str] = []
        unsure: dict[str, list[str]] = {}
        here: dict[str, list[str]] = {}  # why the machine, not the change -> tests
        like_old: list[str] = []
        fixtures = _Fixtures(changeset.workdir)
        failed_old = [c for c in cases if at_base[c.nodeid] in ("passes", "fails")]
        for case in cases:
            base = at_base[case.nodeid]
            # where the test passes at base, in the same sandbox, the machine is not the cause
            why = environment_reason(case, changeset.workdir) if base != "passes" else None
            if why is not None:
                here.setdefault(why, []).append(case.nodeid)
            elif base == "fails":
                old.append(case.nodeid)
            elif base not in ("passes", "new"):
                unsure.setdefault(base, []).append(case.nodeid)
            elif base == "new" and (same := fixtures.fails_like(case, failed_old)):
                like_old.append(f"{case.nodeid} (as {same})")
            elif isinstance(found := self._finding(case, changeset, roots, base), str):
                notes.append(found)
            else:
                findings.append(found)
        for why, ids in here.items():
            notes.append(
                f"{head}: {len(ids)} test(s) not run here, not failures of the change: {why}: {_listed(ids)}"
            )
        if like_old:
            notes.append(
                f"{head}: {len(like_old)} new test(s) fail the same way as old tests that share their "
                f"fixtures, which are reported on their own: {_listed(like_old)}"
            )
        if old:
            notes.append(
                f"{head}: {len(old)} test(s) fail at base too, not blamed on the change: {_listed(old)}"
            )
        for why, ids in unsure.items():
            notes.append(
                f"{head}: {len(ids)} test(s) fail, not blamed on the change: "
                f"not checked at base ({why}): {_listed(ids)}"
            )
        return TestsOutcome(tuple(findings), tuple(notes))

    # -------------------------------------------------------------------------------------------

    def _driver(self, seconds: float) -> PytestDriver:
        return PytestDriver(self.runner_for(seconds), timeout=seconds, python=self.python)

    def _run(
        self, workdir: str, selection: Sequence[str], deadline: float, share: float | None = None
    ) -> dict[str, Any] | str:
        """One pytest run until ``deadline``, or for ``share`` seconds when that is shorter."""
        left = deadline - time.monotonic()
        if left < 1:
            return "the time budget was spent"
        options = [DESELECT, f"--maxfail={MAX_FAILURES}"]
        return self._driver(left if share is None else min(left, share)).run(
            workdir, selection, None, options=options
        )

    def _per_file(
        self, workdir: str, files: Sequence[str], deadline: float, notes: list[str]
    ) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Each file run with its own share of the time up to ``deadline``: of the time left, an
        equal part per file left, or its part by size (``_weight``) where that is more, so time a
        quick file leaves goes to the next ones and a file that hangs costs only its share. Then the
        files that ran out of their share run again, one after another in the same order, each with
        all the time left. The reports by file, and the files the budget did not reach."""
        reports: dict[str, dict[str, Any]] = {}
        late: list[str] = []
        slow: dict[str, str] = {}  # path -> what pytest said
        weights = [_weight(workdir, p) for p in files]
        for i, path in enumerate(files):
            left = deadline - time.monotonic()
            share = max(left / (len(files) - i), left * weights[i] / sum(weights[i:]))  # equal, or by size
            report = self._run(workdir, [path], deadline, max(1.0, share))
            if report == "the time budget was spent":
                late.append(path)
            elif isinstance(report, str) and report.startswith("pytest timed out"):
                slow[path] = report
            elif isinstance(report, str):
                notes.append(f"the change's tests: {path}: {report}")
            else:
                reports[path] = report
        for path, said in slow.items():
            report = self._run(workdir, [path], deadline)
            if isinstance(report, str):
                why = said if report == "the time budget was spent" else report
                notes.append(
                    f"the change's tests: {path}: {why}, so its tests did not run "
                    "(each file has its own share of the budget)"
                )
            else:
                reports[path] = report
        return reports, late

    def _at_head(
        self, workdir: str, files: Sequence[str], deadline: float, notes: list[str]
    ) -> tuple[list[TestCase], list[str], list[str], str]:
        """Each file run in turn: the failing tests, the report's path roots, the files run, a summary."""
        cases: list[TestCase] = []
        roots: list[str] = []
        ran: list[str] = []
        totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        unrunnable, fixtures = 0, set[str]()
        reports, late = self._per_file(workdir, files, deadline, notes)
        for path in files:
            if path not in reports:
                continue
            report = reports[path]
            ran.append(path)
            if any(c.nodeid == "pytest::internal" for c in report["cases"]):
                notes.append(
                    f"the change's tests: pytest hit an internal error in {path}; "
                    "later tests there did not run"
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
        summary = (
            f"{passed} passed, {totals['failures']} failed, {totals['errors']} errors, "
            f"{totals['skipped']} skipped"
        )
        if unrunnable:
            summary += (
                f"; {unrunnable} deselected: they need fixtures this Python lacks "
                f"({_listed(sorted(fixtures))})"
            )
        return cases, roots, ran, summary

    def _at_base(self, changeset: ChangeSet, cases: Sequence[TestCase], deadline: float) -> dict[str, str]:
        """Each case's node id -> "passes", "fails", "new" (not at base), or why it was not run there."""
        assert changeset.workdir is not None
        ids = [c.nodeid for c in cases]
        if not changeset.base:
            return dict.fromkeys(ids, "no base revision")
        with tempfile.TemporaryDirectory(prefix="reviewbot-base-") as tmp:
            os.chmod(tmp, 0o711)  # as root the sandbox's bwrap runs as uid 65534: it must reach the tree
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
            return (
                f"the change's tests: {case.nodeid} {case.kind}: {case.message[:200]} "
                "(no file to place it on)"
            )
        f = to_finding(case, loc)
        extra = ["passes at base" if base == "passes" else "a new test"]
        if why == ON_THE_TEST:
            extra.append("shown on the test: its traceback passes through no changed line")
        return replace(f, route="tests", message=f"{f.message} ({'; '.join(extra)})")


# pytest's own fixtures: every test may use them, so sharing one says nothing about a shared cause
_BUILTIN_FIXTURES = frozenset(
    {
        "self",
        "cls",
        "request",
        "tmp_path",
        "tmp_path_factory",
        "tmpdir",
        "tmpdir_factory",
        "monkeypatch",
        "capsys",
        "capsysbinary",
        "capfd",
        "capfdbinary",
        "caplog",
        "recwarn",
        "pytestconfig",
        "cache",
        "doctest_namespace",
        "record_property",
        "record_xml_attribute",
        "record_testsuite_property",
    }
)


class _Fixtures:
    """The fixtures each test asks for (its parameters), read from the test files at head."""

    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self._files: dict[str, dict[str, frozenset[str]]] = {}

    def of(self, case: TestCase) -> frozenset[str]:
        if case.file not in self._files:
            found: dict[str, frozenset[str]] = {}
            try:
                tree = ast.parse(read_text(self.workdir, case.file))
            except (SyntaxError, ValueError):
                tree = ast.Module(body=[], type_ignores=[])
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    names = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
                    found[node.name] = frozenset(names - _BUILTIN_FIXTURES)
            self._files[case.file] = found
        return self._files[case.file].get(case.name.split("[", 1)[0], frozenset())

    def fails_like(self, new: TestCase, old: Sequence[TestCase]) -> str | None:
        """The old failing test that shares a fixture with the new test ``new`` and fails with the
        same message (a broken fixture, not the new test), or None."""
        mine = self.of(new)
        said = new.message.strip().splitlines()[:1]
        for case in old:
            shared = mine & self.of(case)
            if shared and case.message.strip().splitlines()[:1] == said:
                return f"{case.nodeid}, fixture {', '.join(sorted(shared))}"
        return None


def _weight(workdir: str, path: str) -> int:
    """A test file's claim on the budget: its size, at least ``_MIN_WEIGHT`` bytes."""
    try:
        return max(_MIN_WEIGHT, os.path.getsize(os.path.join(workdir, path)))
    except OSError:
        return _MIN_WEIGHT


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
    if not case.name or not os.path.isfile(os.path.join(tree, case.file)):
        return not os.path.isfile(os.path.join(tree, case.file))  # a file new at head: its tests too
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
