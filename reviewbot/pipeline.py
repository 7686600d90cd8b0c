"""run(parts) -> Result: source -> plan -> routes and linters -> merge -> anchor. Knows only Protocols.

Linters run on every reviewable Python file whenever the files at head can be read (a git
source); the model reviews the planned work items. Their findings are merged (tools first, so a
model finding that repeats a tool's is dropped) and placed on exact diff positions; findings that
cannot be placed are kept, with the reason, for the reporters to decide.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from .diff import DiffIndex, anchor_all
from .model import ChangeSet, Finding, Result, Skipped, Stats
from .plan import Plan, estimate_tokens, plan
from .ports import Linter, ModelBackend, Progress, Route, Source
from .reporters import dedupe
from .router import Router, stamp
from .runners.linters import filter_to_diff


@dataclass(frozen=True, slots=True)
class PlanLimits:
    item_tokens: int = 1200
    budget_tokens: int = 24000
    exclude: tuple[str, ...] = ()
    include_vendored: bool = False


@dataclass(frozen=True, slots=True)
class Parts:
    source: Source
    backend: ModelBackend | None  # None: no model (`--backend none`)
    route: Route | None  # the review route
    router: Router | None = None  # picks the route per item; None: always `route`
    other_routes: Mapping[str, Route] = field(default_factory=dict)  # name -> route, beyond review
    linters: Sequence[Linter] = ()
    lint_mode: str = "added"  # reviewdog-style filter: added | diff_context | file
    limits: PlanLimits = field(default_factory=PlanLimits)
    progress: Progress | None = None
    question: str | None = None  # asked about the change: every item carries it (the repo_qa route answers)


def run(parts: Parts) -> Result:
    t0 = time.perf_counter()
    cs = parts.source.load()
    return review(cs, parts, t0)


def review(cs: ChangeSet, parts: Parts, t0: float | None = None) -> Result:
    t0 = time.perf_counter() if t0 is None else t0
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

    lint_findings: list[Finding] = []
    py_paths = [p for p in pl.reviewable_paths if p.endswith(".py")]
    linters = parts.linters if py_paths else ()
    if linters and cs.read_head is None and cs.workdir is None:
        names = ", ".join(linter.name for linter in linters)
        notes.append(f"linters ({names}) not run: a bare diff has no files at head; review a git range for them")
        linters = ()
    for linter in linters:
        found, lint_skips = linter.lint(cs, py_paths)
        skipped.extend(lint_skips)
        found, dropped = filter_to_diff(found, cs.files, parts.lint_mode)
        if dropped:
            notes.append(f"{linter.name}: {dropped} finding(s) outside the changed lines ({parts.lint_mode} mode) not shown")
        lint_findings.extend(found)

    model_findings: list[Finding] = []
    prompt_tokens = generated = 0
    model_seconds = 0.0
    reviewed = 0
    if backend is None or parts.route is None:
        for item in pl.items:
            skipped.append(Skipped(item.id, "not sent to a model (backend none)", stage="model"))
        if pl.items:
            notes.append("no model was used (backend none): linters and the plan only")
    else:
        total = len(pl.items)
        for i, item in enumerate(pl.items):
            item = replace(item, question=parts.question) if parts.question else item
            if parts.progress:
                parts.progress(i, total, item.id)
            routes = {"review": parts.route, **parts.other_routes}
            decision = parts.router.route(item) if parts.router is not None else None
            names = decision.routes if decision is not None else ("review",)
            if decision is not None:
                prompt_tokens += decision.prompt_tokens
                model_seconds += decision.seconds
            ok = True
            for name in names:
                out = routes[name].run(item, cs)
                found = stamp(out.findings, name, decision) if decision is not None else out.findings
                model_findings.extend(found)
                skipped.extend(out.not_reviewed)
                prompt_tokens += out.prompt_tokens
                generated += out.generated_tokens
                model_seconds += out.seconds
                ok = ok and not out.not_reviewed
            reviewed += 1 if ok else 0
        if parts.progress and total:
            parts.progress(total, total, "done")

    merged = dedupe([*lint_findings, *model_findings])
    anchored, unanchored = anchor_all(merged, DiffIndex(cs.files))
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
    return Result(cs, tuple(anchored), tuple(unanchored), tuple(skipped), stats, tuple(notes))
