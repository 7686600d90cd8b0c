"""run(cs, parts) -> Result: plan -> routes and linters -> merge -> mark and anchor. Knows only Protocols.

Linters run on every reviewable Python file whenever the files at head can be read (a git
source), and the change's own tests (``Parts.tests``) after them, in a thread of the review's own
while the model reviews the planned work items (both are mostly subprocesses; a model that loads
in this process starts loading while the change is planned). Their findings are merged (tools
first, so a model finding that repeats a tool's is dropped) and placed on exact diff positions;
findings that cannot be placed are kept, with the reason, for the reporters to decide. Rules a file's kind has
switched off (``profiles``) are left out and counted; the rest is grouped and ranked (``triage``):
the Result's findings are in the order a reviewer should read them. Every finding, a linter's
or the model's, is marked on the diff (``diff.marks``: added / diff_context / file / outside);
linter findings that the ``lint_mode`` does not show are left out and counted in a note.

    budget.py  deadlines, stop rules, failure counts of the model work
    items.py   one item routed and run (findings carry their route), items run concurrently
    echo.py    model text that repeats the change's own text is left out (not the bot's words)
    secrets.py secrets on added lines: redacted before planning, reported without their values
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from ..diff import DiffIndex, anchor_all, filter_to_diff, mark_all
from ..merge import dedupe
from ..model import ChangeSet, Finding, Result, RouteRun, Severity, Skipped, Stats, WorkItem
from ..plan import Plan, plan
from ..ports import ChangeTests, Linter, ModelBackend, Progress, Route
from ..profiles import Profiles
from ..router import Router
from ..tokens import estimate_tokens
from ..triage import triage
from .budget import MAX_FAILED_IN_A_ROW, Budget
from .echo import guard_echoes
from .items import ItemOutcome, route_item, run_items
from .secrets import found_findings, redacted, scan, scrub

__all__ = ["MAX_FAILED_IN_A_ROW", "ItemOutcome", "Parts", "PlanLimits", "graded", "run"]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    item_tokens: int = 1200
    budget_tokens: int = 24000
    exclude: tuple[str, ...] = ()
    include_vendored: bool = False


@dataclass(frozen=True, slots=True)
class Parts:
    backend: ModelBackend | None  # None: no model (`--backend none`)
    route: Route | None  # the review route
    router: Router | None = None  # picks the route per item; None: always `route`
    other_routes: Mapping[str, Route] = field(default_factory=dict)  # name -> route, beyond review
    linters: Sequence[Linter] = ()
    tests: ChangeTests | None = None  # the change's own tests, beside the linters
    lint_mode: str = "added"  # reviewdog-style filter: added | diff_context | file
    profiles: Profiles = field(default_factory=Profiles)  # the rules on per kind of file (tests, docs, ...)
    limits: PlanLimits = field(default_factory=PlanLimits)
    progress: Progress | None = None
    concurrency: int = 1  # work items sent to the model at once (the server batches them)
    model_deadline: float | None = None  # seconds of model work per review; later items are not sent
    question: str | None = None  # asked about the change: every item carries it (the repo_qa route answers)
    error_confidence: float | None = None  # a model finding is an error only this sure; None: never


def graded(findings: Sequence[Finding], error_confidence: float | None) -> tuple[list[Finding], list[str]]:
    """A model's finding is at most a warning unless its confidence reaches ``error_confidence``:
    the model sets its own severity, and an error should mean evidence. Findings of
    tools, tests and the sandbox keep theirs. The note says how many were lowered and why."""
    out: list[Finding] = []
    lowered = 0
    for f in findings:
        sure = error_confidence is not None and f.confidence is not None and f.confidence >= error_confidence
        if f.source == "model" and f.severity is Severity.ERROR and not sure:
            f, lowered = replace(f, severity=Severity.WARNING), lowered + 1
        out.append(f)
    if not lowered:
        return out, []
    rule = (
        f"at confidence {error_confidence:g} or above"
        if error_confidence is not None
        else "only when review.error_confidence is set"
    )
    return out, [
        f"{lowered} model finding(s) shown as warning, not error: a model's finding is an error {rule}"
    ]


def run(cs: ChangeSet, parts: Parts, *, started: float | None = None) -> Result:
    """Review the change ``cs`` with ``parts``. ``started``: the ``time.perf_counter()`` at which the
    caller began loading the change, so that the report's total time counts the loading too."""
    t0 = time.perf_counter() if started is None else started
    preload = getattr(parts.backend, "load_in_background", None)
    if callable(preload) and cs.files:
        preload()  # a model that loads in this process: it loads while the change is planned
    found = scan(cs)  # before anything of the change reaches a route or a prompt
    as_is, cs = cs, redacted(cs, found)
    backend = parts.backend
    count = backend.count_tokens if backend is not None else estimate_tokens
    lim = parts.limits
    pl: Plan = plan(
        cs,
        count=count,
        item_tokens=lim.item_tokens,
        budget_tokens=lim.budget_tokens,
        exclude=lim.exclude,
        include_vendored=lim.include_vendored,
    )
    skipped: list[Skipped] = list(pl.skipped)
    notes: list[str] = []
    if not cs.files:
        notes.append("the change is empty: nothing to review")

    index = DiffIndex(cs.files)
    unplanned = {sk.path for sk in pl.skipped}  # a file the plan skips (vendored, excluded) gets no finding
    lint_findings: list[Finding] = found_findings([s for s in found if s.path not in unplanned])
    py_paths = [p for p in pl.reviewable_paths if p.endswith(".py")]
    linters = parts.linters if py_paths else ()
    if linters and cs.read_head is None and cs.workdir is None:
        names = ", ".join(linter.name for linter in linters)
        notes.append(
            f"linters ({names}) not run: a bare diff has no files at head; review a git range for them"
        )
        linters = ()
    tests = parts.tests if py_paths else None
    # linters and the change's tests are subprocesses: they run while the model works (a thread of
    # this review's own, waited for before the result is made, also when the model side fails)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewbot-checks") as pool:
        checking = pool.submit(_checks, as_is, py_paths, linters, tests, index, parts.lint_mode)
        model = _model_side(cs, pl, parts)
    checked = checking.result()
    lint_findings.extend(checked.findings)
    skipped.extend(checked.skipped)
    notes.extend(checked.notes)
    model_findings: list[Finding] = []
    prompt_tokens = generated = 0
    model_seconds = 0.0
    reviewed = 0
    runs: list[RouteRun] = []
    skipped.extend(model.skipped)
    notes.extend(model.notes)
    for out in model.outcomes:
        model_findings.extend(out.findings)
        skipped.extend(out.not_reviewed)
        prompt_tokens += out.prompt_tokens
        generated += out.generated_tokens
        model_seconds += out.seconds
        reviewed += 1 if out.reviewed else 0
        runs.extend(out.runs)
        notes.extend(n for n in out.notes if n not in notes)  # a sandbox note once, not per item
    notes.extend(model.budget_notes)

    model_findings, echo_notes = guard_echoes(model_findings, cs)  # the change cannot speak as the bot
    notes.extend(echo_notes)
    model_findings, grade_notes = graded(model_findings, parts.error_confidence)
    notes.extend(grade_notes)
    shown, profile_notes = parts.profiles.apply([*lint_findings, *model_findings])
    notes.extend(profile_notes)
    merged = dedupe(scrub(shown, found))
    anchored, unanchored = anchor_all(merged, index)
    anchored, unanchored = mark_all(anchored, index), mark_all(unanchored, index)  # type: ignore[assignment]
    anchored, triage_notes = triage(anchored)  # repeats grouped, ranked: what a reviewer reads first
    notes.extend(triage_notes)
    stats = Stats(
        files=len(cs.files),
        work_items=len(pl.items),
        reviewed_items=reviewed,
        prompt_tokens=prompt_tokens,
        generated_tokens=generated,
        model_seconds=round(model_seconds, 3),
        total_seconds=round(time.perf_counter() - t0, 3),
        backend=backend.name if backend is not None else "none",
        model=backend.model_id if backend is not None else None,
    )
    return Result(cs, tuple(anchored), tuple(unanchored), tuple(skipped), stats, tuple(notes), tuple(runs))


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the linters and the change's tests found, in the order they ran."""

    findings: list[Finding]
    skipped: list[Skipped]
    notes: list[str]


def _checks(
    as_is: ChangeSet,
    py_paths: list[str],
    linters: Sequence[Linter],
    tests: ChangeTests | None,
    index: DiffIndex,
    lint_mode: str,
) -> _Checked:
    """The linters, then the change's tests, on the files as they are (neither reaches a model)."""
    out = _Checked([], [], [])
    for linter in linters:
        got, lint_skips = linter.lint(as_is, py_paths)
        out.skipped.extend(lint_skips)
        got, dropped = filter_to_diff(got, index, lint_mode)
        if dropped:
            out.notes.append(
                f"{linter.name}: {dropped} finding(s) outside the changed lines ({lint_mode} mode) not shown"
            )
        out.findings.extend(got)
    if tests is not None:
        ran = tests.run(as_is)  # in the sandbox, on the files as they are
        out.findings.extend(ran.findings)  # evidence, kept wherever it lands (its message says where)
        out.notes.extend(ran.notes)
    return out


@dataclass(frozen=True, slots=True)
class _ModelSide:
    """The model's work on the plan's items: each item's outcome in the plan's order."""

    outcomes: list[ItemOutcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # items not sent (no model)
    notes: list[str] = field(default_factory=list)
    budget_notes: list[str] = field(default_factory=list)


def _model_side(cs: ChangeSet, pl: Plan, parts: Parts) -> _ModelSide:
    backend = parts.backend
    if backend is None or parts.route is None:
        side = _ModelSide(
            skipped=[Skipped(i.id, "not sent to a model (backend none)", stage="model") for i in pl.items]
        )
        if pl.items:
            side.notes.append("no model was used (backend none): linters and the plan only")
        return side
    budget = Budget(parts.model_deadline)
    routes = {"review": parts.route, **parts.other_routes}

    def one(item: WorkItem) -> ItemOutcome:
        if parts.question:  # asked about the change: every item carries it (repo_qa answers)
            item = replace(item, question=parts.question)
        return route_item(item, cs, routes, parts.router, budget)

    load = getattr(backend, "load", None)  # a model that loads in this process (the local backend)
    if pl.items and callable(load):
        load()  # loads now, and says so, before the first item's progress line
    outcomes = list(run_items(pl.items, one, parts.concurrency, parts.progress))
    return _ModelSide(outcomes=outcomes, budget_notes=list(budget.notes(backend)))
