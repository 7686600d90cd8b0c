"""The interpreter route: the model writes a pytest test for changed code; the sandbox runs it.

    InterpreterRoute(backend, runner, timeout=60).run(item, changeset) -> RouteOutcome

1. **Targets** (interpreter_targets.py): the functions, methods and classes of the item's Python file
   (parsed with ``ast`` from the text at head, never imported here) that hold an added line of the
   item's hunks: new definitions first, then the most changed; at most ``max_functions``. A method is
   tested through its class; a dunder method or a change in a class body outside its methods targets the
   class. Nested functions count for the function around them. Test files are not targets.
2. **Test**: the model answers ``{"code": <test module>}`` under a JSON schema (constrained on the
   local backend). Our own import lines go first (``from pkg.calc import add``, and a ``sys.path``
   entry for a package under ``src/`` or a plain directory), so the model needs no knowledge of the
   layout. PR text is defused (router.defuse) and shown as data.
3. **Run** (interpreter_run.py): runners/pytest_driver.py's driver runs ``pytest -x`` on the test
   file, staged read-only in the sandbox's /work, against the head checkout (read-only at
   /checkout, on PYTHONPATH). The runner is passed in: compose passes the bubblewrap sandbox with
   ``timeout`` as its wall clock (``interpreter_run.sandbox_policy``). It is probed once, and when
   it cannot start every item is "not reviewed" with the reason and nothing runs. Model-written
   code never runs unsandboxed unless the caller passes a runner that is not a sandbox (compose
   does that only under ``sandbox.allow_unsandboxed``).
4. **The verdict**, one finding per target on its first changed line, with the test in the message:
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

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..diff import added_numbers
from ..errors import ReviewbotError
from ..model import ChangeSet, Finding, Location, Severity, Side, Skipped, WorkItem
from ..ports import Message, ModelBackend, RouteOutcome
from ..router import defuse, diff_text
from ..runners.policy import CodeRunner
from ..runners.pytest_report import is_test_file
from ..runners.sandbox import probe
from . import declined
from .interpreter_run import Verdict, classify, execute
from .interpreter_targets import ChangedDefinition, header, module_of, targets

__all__ = [
    "ChangedDefinition",
    "InterpreterRoute",
    "TestAnswer",
    "Verdict",
    "classify",
    "module_of",
    "targets",
]

STAGE = "route"
MAX_CODE_CHARS = 4000
MAX_DIFF_CHARS = 4000
MAX_TEST_CHARS = 6000


class TestAnswer(BaseModel):
    """The model's answer: the test module's source (after our import lines)."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=10)


def answer_schema() -> dict[str, Any]:
    return TestAnswer.model_json_schema()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n# [... {len(text) - limit} more characters]"


def _indent(code: str) -> str:
    return "\n".join("    " + ln if ln.strip() else "" for ln in code.rstrip().splitlines())


# ---------------------------------------------------------------------------------------------
# the route


class InterpreterRoute:
    name = "interpreter"

    def __init__(
        self,
        backend: ModelBackend,
        runner: CodeRunner,
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
        self.runner = runner
        self._unavailable: str | None | bool = False  # False: not probed yet

    def unavailable(self) -> str | None:
        """Why model-written tests cannot run here (probed once), or None."""
        if self._unavailable is False:
            why = probe(self.runner)
            self._unavailable = (
                f"the interpreter needs the sandbox, which cannot start here: {why}" if why else None
            )
        return self._unavailable if isinstance(self._unavailable, str) else None

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        t0 = time.perf_counter()
        usage = [0, 0]
        notes: list[str] = []  # the sandbox's, for the report

        def done(findings: list[Finding] | tuple = (), skipped: list[Skipped] | tuple = ()) -> RouteOutcome:
            return RouteOutcome(
                tuple(findings),
                tuple(skipped),
                usage[0],
                usage[1],
                time.perf_counter() - t0,
                tuple(notes),
                declined=declined(findings, skipped),
            )

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
        added = set(added_numbers(item.hunks))
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
            got = self._one(item, changeset, target, header(mod[0], mod[1], target.import_name), usage, notes)
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

    def messages(self, item: WorkItem, target: ChangedDefinition, head: str) -> list[Message]:
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
        self,
        item: WorkItem,
        changeset: ChangeSet,
        target: ChangedDefinition,
        head: str,
        usage: list[int],
        notes: list[str],
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
            assert changeset.workdir is not None
            verdict = execute(self.runner, changeset.workdir, test, self.timeout, self.python)
            notes.extend(n for n in verdict.notes if n not in notes)
            if verdict.kind == "model_error":
                last = verdict.detail
                if attempt == 0:
                    error = defuse(" ".join(last.split())[:800])
                    messages.append(
                        {"role": "user", "content": prompts.render("interpreter_retry", error=error)}
                    )
                continue
            if verdict.kind == "not_run":
                return Skipped(item.path, f"{target.qualname}: {verdict.detail}", STAGE)
            return self._finding(item, target, test, verdict)
        return Skipped(
            item.path, f"{target.qualname}: the model's test did not run, twice; last: {last}", STAGE
        )

    def _finding(self, item: WorkItem, target: ChangedDefinition, test: str, verdict: Verdict) -> Finding:
        where = f"`{target.qualname}`"
        shown = "\n\nThe test, as run in the sandbox:\n\n" + _indent(test)
        if verdict.kind == "passed":
            severity, rule, category = Severity.INFO, "interpreter/suggested-test", "test"
            text = (
                f"suggested test for {where}: it passes against the new code "
                f"({verdict.detail}, {verdict.seconds:.1f}s)."
            )
        elif verdict.kind in ("failed", "error"):
            severity, rule, category = Severity.WARNING, "interpreter/test-failed", "bug"
            how = "fails" if verdict.kind == "failed" else "errors"
            text = (
                f"possible defect in {where}: a test written for it {how} against the new code: "
                f"{verdict.detail} (check whether the code or the test is wrong)"
            )
        elif verdict.kind == "timed_out":
            severity, rule, category = Severity.WARNING, "interpreter/test-timed-out", "bug"
            text = (
                f"a test written for {where} {verdict.detail} in the sandbox "
                "(an endless loop in the code or in the test?)"
            )
        else:
            severity, rule, category = Severity.WARNING, "interpreter/test-killed", "bug"
            text = f"a test written for {where} was {verdict.detail}"
        return Finding(
            location=Location(item.path, Side.RIGHT, target.line),
            severity=severity,
            message=text + shown,
            rule=rule,
            route=self.name,
            category=category,
            source="sandbox",
        )
