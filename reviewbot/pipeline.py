"""run(parts) -> Result: source -> plan -> routes and linters -> merge -> anchor. Knows only Protocols.

Linters run on every reviewable Python file whenever the files at head can be read (a git
source); the model reviews the planned work items. Their findings are merged (tools first, so a
model finding that repeats a tool's is dropped) and placed on exact diff positions; findings that
cannot be placed are kept, with the reason, for the reporters to decide.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from .diff import DiffIndex, anchor_all
from .errors import ModelUnavailable
from .model import ChangeSet, Finding, Result, RouteRun, Skipped, Stats, WorkItem
from .plan import Plan, plan
from .ports import Linter, ModelBackend, Progress, Route, Source
from .reporters import dedupe
from .router import Router, stamp
from .runners.linters import filter_to_diff
from .tokens import estimate_tokens


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
    concurrency: int = 1  # work items sent to the model at once (the server batches them)
    model_deadline: float | None = None  # seconds of model work per review; later items are not sent
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
        notes.append(
            f"linters ({names}) not run: a bare diff has no files at head; review a git range for them"
        )
        linters = ()
    for linter in linters:
        found, lint_skips = linter.lint(cs, py_paths)
        skipped.extend(lint_skips)
        found, dropped = filter_to_diff(found, cs.files, parts.lint_mode)
        if dropped:
            notes.append(
                f"{linter.name}: {dropped} finding(s) outside the changed lines ({parts.lint_mode} mode) not shown"
            )
        lint_findings.extend(found)

    model_findings: list[Finding] = []
    prompt_tokens = generated = 0
    model_seconds = 0.0
    reviewed = 0
    runs: list[RouteRun] = []
    if backend is None or parts.route is None:
        for item in pl.items:
            skipped.append(Skipped(item.id, "not sent to a model (backend none)", stage="model"))
        if pl.items:
            notes.append("no model was used (backend none): linters and the plan only")
    else:
        loop = _ModelLoop(cs, parts)
        for out in loop.run(pl.items):
            model_findings.extend(out.findings)
            skipped.extend(out.not_reviewed)
            prompt_tokens += out.prompt_tokens
            generated += out.generated_tokens
            model_seconds += out.seconds
            reviewed += 1 if out.reviewed else 0
            runs.extend(out.runs)
            notes.extend(out.notes)
        notes.extend(loop.notes())

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
    return Result(cs, tuple(anchored), tuple(unanchored), tuple(skipped), stats, tuple(notes), tuple(runs))


# ---------------------------------------------------------------------- the model loop


def _declined(name: str, out, names: Sequence[str], decision) -> bool:
    """The chosen route returned nothing but route-stage reasons, and `review` is not run yet
    (pinned routes are the user's choice: they are not replaced)."""
    return (
        name != "review"
        and "review" not in names
        and not out.findings
        and bool(out.not_reviewed)
        and all(sk.stage == "route" for sk in out.not_reviewed)
        and not (decision is not None and decision.pinned)
    )


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What the model side made of one work item (in the plan's order, whatever the concurrency)."""

    findings: tuple[Finding, ...] = ()
    not_reviewed: tuple[Skipped, ...] = ()
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    reviewed: bool = False
    runs: tuple[RouteRun, ...] = ()  # the routes run on the item
    notes: tuple[str, ...] = ()  # what the routes said they did


MAX_FAILED_IN_A_ROW = 3  # items whose model calls failed (not `down`) before the rest is not sent


class _ModelLoop:
    """Routes and runs each work item, up to `concurrency` at once, and degrades instead of failing.

    A `ModelUnavailable` from the backend (server down, timeouts, 5xx or 429 beyond the retry
    bound, an open circuit breaker) marks that item as not reviewed with the error; when the
    server is down no further item is sent, and each is listed as not reviewed with the reason.
    Malformed answers (not `down`) cost only their item, until MAX_FAILED_IN_A_ROW items in a
    row failed. With `model_deadline`, items not started in time are not sent. The findings of
    the items that were reviewed, and every linter finding, are kept: the review degrades to
    the linters' result for the rest and says so in a note. Other ModelErrors (a wrong model
    name, a rejected key) still end the review: they need the user, not a retry.
    """

    def __init__(self, cs: ChangeSet, parts: Parts) -> None:
        self.cs = cs
        self.parts = parts
        self.routes = {"review": parts.route, **parts.other_routes}
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop: str | None = None  # why no further item is sent
        self._failure: ModelUnavailable | None = None  # the error that stopped the model work
        self._failed_at: float | None = None  # seconds into the model work when it stopped
        self._in_a_row = 0
        self._failed = 0
        self._unsent = 0
        self._done = 0

    # ------------------------------------------------------------------ one item
    def _item(self, item: WorkItem) -> ItemOutcome:
        if self.parts.question:  # asked about the change: every item carries it (repo_qa answers)
            item = replace(item, question=self.parts.question)
        with self._lock:
            if self._stop is None and self.parts.model_deadline is not None:
                if time.monotonic() - self.t0 >= self.parts.model_deadline:
                    self._stop = (
                        f"the model time budget of {self.parts.model_deadline:g} s for one review was spent"
                    )
            if self._stop is not None:
                self._unsent += 1
                return ItemOutcome(
                    not_reviewed=(Skipped(item.id, f"not sent to the model: {self._stop}", "model"),)
                )
        t0 = time.perf_counter()
        findings: list[Finding] = []
        not_reviewed: list[Skipped] = []
        runs: list[RouteRun] = []
        notes: list[str] = []
        p_tok = g_tok = 0
        seconds = 0.0
        ok = True
        try:
            decision = self.parts.router.route(item) if self.parts.router is not None else None
            names = decision.routes if decision is not None else ("review",)
            if decision is not None:
                p_tok += decision.prompt_tokens
                seconds += decision.seconds
                if decision.note:
                    notes.append(decision.note)
            todo = list(names)
            while todo:
                name = todo.pop(0)
                fallback = name == "review" and "review" not in names
                out = self.routes[name].run(item, self.cs)
                runs.append(
                    RouteRun(
                        item.id,
                        name,
                        decision.probabilities.get(name) if decision is not None else None,
                        pinned=decision.pinned if decision is not None else False,
                        second=name != names[0] and not fallback,
                        findings=len(out.findings),
                        not_reviewed=len(out.not_reviewed),
                        seconds=round(out.seconds, 3),
                        fallback=fallback,
                    )
                )
                notes.extend(out.notes)
                findings.extend(stamp(out.findings, name, decision) if decision is not None else out.findings)
                p_tok += out.prompt_tokens
                g_tok += out.generated_tokens
                seconds += out.seconds
                if _declined(name, out, names, decision):
                    # the route could not take the item: `review` does the job instead, and the
                    # reasons become a note, since the item is reviewed after all
                    why = "; ".join(sk.reason for sk in out.not_reviewed)
                    notes.append(f"{item.id}: the {name} route could not take it ({why}); the review route did")
                    todo.append("review")
                    continue
                not_reviewed.extend(out.not_reviewed)
                ok = ok and not out.not_reviewed
        except ModelUnavailable as exc:
            took = time.perf_counter() - t0
            with self._lock:
                self._failed += 1
                self._in_a_row += 1
                if self._failure is None or (exc.down and not self._failure.down):
                    self._failure = exc
                    self._failed_at = time.monotonic() - self.t0
                if self._stop is None and (exc.down or self._in_a_row >= MAX_FAILED_IN_A_ROW):
                    self._stop = (
                        "the model server is unavailable" if exc.down
                        else f"the model server's answers failed for {self._in_a_row} items in a row"
                    )  # fmt: skip
            reason = f"model call failed after {took:.1f} s: {' '.join(str(exc).split())}"
            return ItemOutcome(
                tuple(findings),
                (*not_reviewed, Skipped(item.id, reason, "model")),
                p_tok,
                g_tok,
                took,
                runs=tuple(runs),
                notes=tuple(notes),
            )
        with self._lock:
            self._in_a_row = 0
        return ItemOutcome(
            tuple(findings), tuple(not_reviewed), p_tok, g_tok, seconds, ok, tuple(runs), tuple(notes)
        )

    def _progress(self, total: int, label: str) -> None:
        if self.parts.progress is None:
            return
        with self._lock:
            done = self._done
            self._done += 1
        self.parts.progress(done, total, label)

    # ------------------------------------------------------------------ all items
    def run(self, items: Sequence[WorkItem]) -> list[ItemOutcome]:
        total = len(items)
        workers = max(1, min(self.parts.concurrency, total))
        if workers == 1:
            outs = []
            for item in items:
                self._progress(total, item.id)
                outs.append(self._item(item))
        else:
            from concurrent.futures import ThreadPoolExecutor

            def one(item: WorkItem) -> ItemOutcome:
                self._progress(total, item.id)  # counts items started, in the order they start
                return self._item(item)

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reviewbot-model") as pool:
                outs = list(pool.map(one, items))  # results in the plan's order
        if self.parts.progress is not None and total:
            self.parts.progress(total, total, "done")
        return outs

    def notes(self) -> list[str]:
        exc = self._failure
        if exc is None and self._stop is None:
            return []
        parts = []
        if exc is not None:
            backend = self.parts.backend
            who = f"{backend.name} backend" + (
                f" ({backend.model_id})" if backend and backend.model_id else ""
            )
            when = f"{self._failed_at:.1f} s into the model work" if self._failed_at is not None else ""
            took = f", after trying for {exc.seconds:.1f} s" if exc.seconds else ""
            parts.append(f"model degraded: {who} failed {when}{took}: {' '.join(str(exc).split())}")
        if self._stop is not None and self._unsent:
            parts.append(f"{self._unsent} work item(s) not sent because {self._stop}")
        if self._failed:
            parts.append(f"{self._failed} work item(s) failed in the model call")
        parts.append("those items have the linters' result only (listed as not reviewed)")
        return ["; ".join(parts)]
