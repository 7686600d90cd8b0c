"""The interpreter route: the model writes a pytest test for changed code; the sandbox runs it.

    InterpreterRoute(backend, runner=None, timeout=60).run(item, changeset) -> RouteOutcome

1. **Targets**: the functions, methods and classes of the item's Python file (parsed with ``ast``
   from the text at head, never imported here) that hold an added line of the item's hunks: new
   definitions first, then the most changed; at most ``max_functions``. A method is tested
   through its class; a dunder method or a change in a class body outside its methods targets
   the class. Nested functions count for the function around them. Test files are not targets.
2. **Test**: the model answers ``{"code": <test module>}`` under a JSON schema (constrained on the
   local backend). Our own import lines go first (``from pkg.calc import add``, and a ``sys.path``
   entry for a package under ``src/`` or a plain directory), so the model needs no knowledge of the
   layout. PR text is defused (router.defuse) and shown as data.
3. **Run**: tools/pytest_tool.py's driver runs ``pytest -x`` on the test file, staged read-only in
   the sandbox's /work, against the head checkout (read-only at /checkout, on PYTHONPATH). The
   default runner is the bubblewrap sandbox with ``timeout`` as its wall clock and CPU limit; it
   is probed once, and when it cannot start every item is "not reviewed" with the reason and
   nothing runs. Its CPU limit is one second above the wall clock, so that a test that never ends
   is reported as timed out (a CPU-bound loop would otherwise race the two limits). Model-written code never runs unsandboxed unless the caller passes a runner
   that is not a sandbox (compose does that only under ``sandbox.allow_unsandboxed``).
4. **Outcome**, one finding per target on its first changed line, with the test in the message:
   - passed: a suggested test (info, ``interpreter/suggested-test``);
   - failed: a possible defect (warning, ``interpreter/test-failed``) with the assertion or the
     exception the code raised;
   - timed out / stopped by a limit: warning, ``interpreter/test-timed-out`` /
     ``interpreter/test-killed`` (the code or the test did not finish).
   A test that does not collect, collects nothing, or fails inside the test file itself with a
   NameError, an import error, a syntax error or a wrong call (TypeError about arguments) is the
   model's error, not the change's: it is fed back once and the test written again; a second
   such failure makes the target "not reviewed" with the error. A module under test that does not
   import in the sandbox (a dependency not installed there) is "not reviewed" too.
"""

from __future__ import annotations

import ast
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..errors import ReviewbotError, ToolError
from ..model import ChangeSet, Finding, LineKind, Location, Severity, Side, Skipped, WorkItem
from ..ports import Message, ModelBackend, RouteOutcome
from ..router import defuse, diff_text
from ..runners.sandbox import BubblewrapSandbox, CodeRunner, SandboxPolicy
from ..tools.pytest_tool import (
    DRIVER,
    DRIVER_NAME,
    SANDBOX_ROOT,
    _assertion,
    frames,
    is_test_file,
    parse_report,
)

__all__ = ["InterpreterRoute", "Target", "TestAnswer", "Outcome", "targets"]

TEST_FILE = "test_reviewbot_interpreter.py"
STAGE = "route"
MAX_CODE_CHARS = 4000
MAX_DIFF_CHARS = 4000
MAX_TEST_CHARS = 6000
# run pytest_tool's driver on the staged test file, by its absolute path (the driver changes directory)
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


class TestAnswer(BaseModel):
    """The model's answer: the test module's source (after our import lines)."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=10)


def answer_schema() -> dict[str, Any]:
    return TestAnswer.model_json_schema()


# ---------------------------------------------------------------------------------------------
# targets


@dataclass(frozen=True, slots=True)
class Target:
    qualname: str  # add, Stack.push, Stack
    import_name: str  # the top-level name to import: add, Stack
    line: int  # the first added line inside it: where the finding goes
    new: bool  # its def/class line is an added line
    changed: int  # added lines inside it
    code: str  # its source at head (for a method: the class header, __init__ and the method)


def _span(node: ast.AST) -> tuple[int, int]:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])  # type: ignore[attr-defined]
    return first, node.end_lineno or node.lineno  # type: ignore[attr-defined]


def _segment(lines: list[str], node: ast.AST) -> str:
    lo, hi = _span(node)
    return "\n".join(lines[lo - 1 : hi])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n# [... {len(text) - limit} more characters]"


def targets(source: str, added: set[int]) -> list[Target]:
    """The definitions holding added lines, best first (see the module docstring)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found: dict[str, Target] = {}

    def add(qual: str, imp: str, inside: list[int], new: bool, code: str) -> None:
        if inside:  # a name defined twice: the later definition is the one Python keeps
            found[qual] = Target(qual, imp, min(inside), new, len(inside), code)

    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, funcs):
            lo, hi = _span(node)
            add(node.name, node.name, [n for n in added if lo <= n <= hi], node.lineno in added,
                _segment(lines, node))  # fmt: skip
        elif isinstance(node, ast.ClassDef):
            lo, hi = _span(node)
            in_class = [n for n in added if lo <= n <= hi]
            if not in_class:
                continue
            header_end = node.body[0].lineno - 1 if node.body else node.lineno
            header = "\n".join(lines[lo - 1 : max(lo, header_end)])
            init = next((m for m in node.body if isinstance(m, funcs) and m.name == "__init__"), None)
            rest = list(in_class)
            for m in node.body:
                if not isinstance(m, funcs):
                    continue
                mlo, mhi = _span(m)
                inside = [n for n in in_class if mlo <= n <= mhi]
                if not inside:
                    continue
                rest = [n for n in rest if n not in inside]
                dunder = m.name.startswith("__") and m.name.endswith("__")
                if dunder:
                    rest += inside
                    continue
                parts = [header]
                if init is not None:
                    parts.append(_segment(lines, init))
                parts.append(_segment(lines, m))
                add(f"{node.name}.{m.name}", node.name, inside, m.lineno in added, "\n    ...\n".join(parts))
            if rest:
                add(node.name, node.name, rest, node.lineno in added, _segment(lines, node))
    return sorted(found.values(), key=lambda t: (not t.new, -t.changed, t.line))


def module_of(path: str, exists: Any) -> tuple[str, str] | None:
    """(import root relative to the checkout, dotted module name) of a file, or None when it cannot
    be imported by name. The root is the directory above the outermost package (``__init__.py``)."""
    parts = PurePosixPath(path).with_suffix("").parts
    if not parts:
        return None
    dirs = list(parts[:-1])
    i = len(dirs)
    while i > 0 and exists("/".join([*dirs[:i], "__init__.py"])):
        i -= 1
    names = [*dirs[i:], parts[-1]]
    if names[-1] == "__init__":
        names = names[:-1]
    if not names or not all(n.isidentifier() for n in names):
        return None
    return "/".join(dirs[:i]), ".".join(names)


def header(root: str, module: str, name: str) -> str:
    lines = []
    if root:
        lines += [
            "import os, sys",
            f"sys.path.insert(0, os.path.join(os.environ['PYTHONPATH'].split(os.pathsep)[0], {root!r}))",
        ]
    lines.append(f"from {module} import {name}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# outcomes


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # passed | failed (an assertion) | error (an exception) | timed_out | killed | model_error | not_run
    detail: str  # the assertion, the error, the reason
    tests: int = 0
    seconds: float = 0.0


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


def classify(res: Any, timeout: float, workdir: str) -> Outcome:
    """A SandboxResult of the driver -> what happened to the test."""
    if res.timed_out:
        return Outcome("timed_out", f"did not finish within {timeout:g} s", seconds=res.seconds)
    if res.killed_by_limit:
        return Outcome("killed", f"stopped by the sandbox's {res.killed_by_limit} limit", seconds=res.seconds)
    report = parse_report(res.stdout, (SANDBOX_ROOT, workdir))
    if report is None:
        last = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1][:300]
        return Outcome("model_error", f"the test run ended without a report: {last}", seconds=res.seconds)
    if report.get("error"):
        return Outcome("not_run", str(report["error"])[:300], seconds=res.seconds)
    roots = [str(r) for r in report["roots"]]
    code = report.get("exit")
    tests = int(report.get("tests") or 0)
    tail = [ln for ln in str(report.get("tail") or "").strip().splitlines() if ln.strip()]
    cases = report["cases"]
    if code == 0:
        return Outcome("passed", f"{tests} test(s) passed", tests, res.seconds)
    if isinstance(code, int) and code < 0:  # pytest itself was killed by a signal, inside the sandbox
        limit = _SIGNAL_LIMITS.get(-code, f"signal {-code}")
        return Outcome("killed", f"stopped by {limit}", tests, res.seconds)
    if code == 5:
        return Outcome(
            "model_error", "pytest collected no test function (name them test_...)", 0, res.seconds
        )
    case = cases[0] if cases else None
    if case is not None and case.kind == "failure" and code == 1:
        if _is_model_error(case.message, case.text, roots):
            return Outcome("model_error", _assertion(case), tests, res.seconds)
        detail = _assertion(case)
        kind = "failed" if detail.startswith(("AssertionError", "assert ")) else "error"
        return Outcome(kind, detail, tests, res.seconds)
    # an error at collection (import of the test module) or in a fixture's setup
    if case is not None:
        text = case.message + "\n" + case.text
        shown = " ".join(ln[1:].strip() for ln in case.text.splitlines() if ln.startswith("E "))
        detail = " ".join(shown.split())[:500] or _assertion(case)
    else:
        text = "\n".join(tail[-15:])
        detail = " | ".join(tail[-3:])[:500] or f"exit {code}"
    in_checkout = [
        p for p, _ in frames(text, roots) if not p.startswith("/") and p.rsplit("/", 1)[-1] != TEST_FILE
    ]
    if in_checkout and any(k in text for k in ("ModuleNotFoundError", "ImportError")):
        return Outcome(
            "not_run", f"the code under test does not import in the sandbox: {detail}", tests, res.seconds
        )
    return Outcome("model_error", detail, tests, res.seconds)


def _indent(code: str) -> str:
    return "\n".join("    " + ln if ln.strip() else "" for ln in code.rstrip().splitlines())


# ---------------------------------------------------------------------------------------------
# the route


class InterpreterRoute:
    name = "interpreter"

    def __init__(
        self,
        backend: ModelBackend,
        runner: CodeRunner | None = None,
        *,
        timeout: float = 60.0,
        max_new_tokens: int = 400,
        max_functions: int = 2,
        python: str | None = None,
    ) -> None:
        if timeout <= 0 or max_functions < 1 or max_new_tokens < 16:
            raise ValueError("timeout must be positive, max_functions at least 1, max_new_tokens at least 16")
        self.backend = backend
        self.timeout = timeout
        self.max_new_tokens = max_new_tokens
        self.max_functions = max_functions
        self.python = python
        self.runner: CodeRunner = runner or BubblewrapSandbox(
            SandboxPolicy(wall_seconds=timeout, cpu_seconds=math.ceil(timeout) + 1, memory_bytes=2 * 1024**3)
        )
        self._unavailable: str | None | bool = False  # False: not probed yet

    def unavailable(self) -> str | None:
        """Why model-written tests cannot run here (probed once), or None."""
        if self._unavailable is False:
            probe = getattr(self.runner, "probe", None)
            why = probe() if callable(probe) else None
            self._unavailable = (
                f"the interpreter needs the sandbox, which cannot start here: {why}" if why else None
            )
        return self._unavailable if isinstance(self._unavailable, str) else None

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        t0 = time.perf_counter()
        usage = [0, 0]

        def done(findings: list[Finding] | tuple = (), skipped: list[Skipped] | tuple = ()) -> RouteOutcome:
            return RouteOutcome(tuple(findings), tuple(skipped), usage[0], usage[1], time.perf_counter() - t0)

        def skip(reason: str) -> RouteOutcome:
            return done(skipped=[Skipped(item.path, reason, STAGE)])

        if not item.path.endswith(".py"):
            return skip("the interpreter tests Python code only")
        if is_test_file(item.path):
            return skip("a test file: the interpreter writes tests for code, not for tests")
        if not changeset.workdir:
            return skip("the interpreter needs a checkout of the head revision (a git source)")
        reason = self.unavailable()
        if reason is not None:
            return skip(reason)
        source = self._source(changeset, item.path)
        if source is None:
            return skip("the file is not readable at head")
        added = {ln.new_no for h in item.hunks for ln in h.lines if ln.kind is LineKind.ADDED and ln.new_no}
        try:
            found = targets(source, added)
        except (SyntaxError, ValueError) as exc:
            return skip(f"the file does not parse at head ({exc.__class__.__name__}: {exc}); nothing to test")
        if not found:
            return skip("no changed function or class to test")
        workdir = changeset.workdir
        mod = module_of(item.path, lambda rel: os.path.isfile(os.path.join(workdir, rel)))
        if mod is None:
            return skip(f"{item.path} cannot be imported as a module by name")
        findings: list[Finding] = []
        skipped: list[Skipped] = []
        for target in found[: self.max_functions]:
            got = self._one(item, changeset, target, header(mod[0], mod[1], target.import_name), usage)
            (findings if isinstance(got, Finding) else skipped).append(got)
            if isinstance(got, Skipped) and got.reason.startswith("sandbox unavailable"):
                break
        return done(findings, skipped)

    # -----------------------------------------------------------------------------------------

    def _source(self, changeset: ChangeSet, path: str) -> str | None:
        if changeset.read_head is not None:
            try:
                return changeset.read_head(path)
            except (ReviewbotError, OSError, ValueError):
                pass
        assert changeset.workdir is not None
        root = Path(changeset.workdir).resolve()
        full = (root / path).resolve()
        if not full.is_relative_to(root) or not full.is_file():
            return None
        return full.read_text(encoding="utf-8", errors="replace")

    def messages(self, item: WorkItem, target: Target, head: str) -> list[Message]:
        user = prompts.render(
            "interpreter_user",
            path=defuse(item.path),
            target=defuse(target.qualname),
            code=defuse(_cut(target.code, MAX_CODE_CHARS)),
            diff=defuse(diff_text(item, MAX_DIFF_CHARS)),
            header=head.rstrip("\n"),
        )
        return [
            {"role": "system", "content": prompts.render("interpreter_system")},
            {"role": "user", "content": user},
        ]

    def _one(
        self, item: WorkItem, changeset: ChangeSet, target: Target, head: str, usage: list[int]
    ) -> Finding | Skipped:
        messages = self.messages(item, target, head)
        schema = answer_schema()
        last = ""
        for attempt in range(2):
            gen = self.backend.generate(messages, schema=schema, max_tokens=self.max_new_tokens)
            usage[0] += gen.prompt_tokens
            usage[1] += gen.generated_tokens
            messages = [*messages, {"role": "assistant", "content": gen.text}]
            try:
                body = TestAnswer.model_validate_json(gen.text.strip()).code
            except ValidationError as exc:
                e = exc.errors()[0]
                last = f"the answer is not the JSON object asked for ({e.get('msg')})"
                messages.append({"role": "user", "content": prompts.render("interpreter_retry", error=last)})
                continue
            test = head + "\n" + body.strip()[:MAX_TEST_CHARS] + "\n"
            outcome = self._execute(changeset, test)
            if outcome.kind == "model_error":
                last = outcome.detail
                if attempt == 0:
                    error = defuse(" ".join(last.split())[:800])
                    messages.append(
                        {"role": "user", "content": prompts.render("interpreter_retry", error=error)}
                    )
                continue
            if outcome.kind == "not_run":
                return Skipped(item.path, f"{target.qualname}: {outcome.detail}", STAGE)
            return self._finding(item, target, test, outcome)
        return Skipped(
            item.path, f"{target.qualname}: the model's test did not run, twice; last: {last}", STAGE
        )

    def _execute(self, changeset: ChangeSet, test: str) -> Outcome:
        assert changeset.workdir is not None
        python = self.python or sys.executable
        try:
            res = self.runner.run(
                [os.path.basename(python), "-c", LAUNCH],
                checkout=Path(changeset.workdir),
                files={DRIVER_NAME: DRIVER, TEST_FILE: test},
                python=self.python,
            )
        except ToolError as exc:
            msg = str(exc)
            reason = msg if msg.startswith("sandbox unavailable") else f"sandbox unavailable: {msg}"
            return Outcome("not_run", reason)
        return classify(res, self.timeout, changeset.workdir)

    def _finding(self, item: WorkItem, target: Target, test: str, outcome: Outcome) -> Finding:
        where = f"`{target.qualname}`"
        shown = "\n\nThe test, as run in the sandbox:\n\n" + _indent(test)
        if outcome.kind == "passed":
            severity, rule, category = Severity.INFO, "interpreter/suggested-test", "test"
            text = f"suggested test for {where}: it passes against the new code ({outcome.detail}, {outcome.seconds:.1f}s)."
        elif outcome.kind in ("failed", "error"):
            severity, rule, category = Severity.WARNING, "interpreter/test-failed", "bug"
            how = "fails" if outcome.kind == "failed" else "errors"
            text = (f"possible defect in {where}: a test written for it {how} against the new code: "
                    f"{outcome.detail} (check whether the code or the test is wrong)")  # fmt: skip
        elif outcome.kind == "timed_out":
            severity, rule, category = Severity.WARNING, "interpreter/test-timed-out", "bug"
            text = f"a test written for {where} {outcome.detail} in the sandbox (an endless loop in the code or in the test?)"
        else:
            severity, rule, category = Severity.WARNING, "interpreter/test-killed", "bug"
            text = f"a test written for {where} was {outcome.detail}"
        return Finding(
            location=Location(item.path, Side.RIGHT, target.line),
            severity=severity,
            message=text + shown,
            rule=rule,
            route=self.name,
            category=category,
            source="sandbox",
        )
