"""The model side of a review: each work item routed and run, up to `concurrency` at once.

``route_item`` routes one item, runs the chosen routes and returns their findings, each already
carrying its route (recorded once, where the route's result is taken). A route that declines
(``RouteOutcome.declined``) hands the item to the review route, unless the route was pinned or
the review route runs anyway.

A `ModelUnavailable` from the backend (server down, timeouts, 5xx or 429 beyond the retry bound,
an open circuit breaker) marks that item as not reviewed with the error and counts against the
``Budget``, which decides when no further item is sent. Malformed answers (not `down`) cost only
their item. The findings of the items that were reviewed, and every linter finding, are kept:
the review degrades to the linters' result for the rest and says so in a note. Other ModelErrors
(a wrong model name, a rejected key) still end the review: they need the user, not a retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..errors import ModelUnavailable
from ..model import ChangeSet, Finding, RouteRun, Skipped, WorkItem
from ..ports import Progress, Route, RouteOutcome
from ..router import RouteDecision, Router
from .budget import Budget


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


def _taken(
    item: WorkItem, name: str, out: RouteOutcome, decision: RouteDecision | None, names: Sequence[str]
) -> tuple[RouteRun, tuple[Finding, ...]]:
    """The record of one route run on ``item``, and its findings carrying the route."""
    fallback = name == "review" and "review" not in names
    run = RouteRun(
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
    return run, (stamp(out.findings, name, decision) if decision is not None else out.findings)


def stamp(findings: Iterable[Finding], route: str, decision: RouteDecision) -> tuple[Finding, ...]:
    """The findings of `route` with the route and its probability recorded on each."""
    p = decision.probabilities.get(route, decision.probability if route == decision.route else None)
    return tuple(replace(f, route=route, route_probability=p) for f in findings)


def _hand_over(name: str, out: RouteOutcome, names: Sequence[str], decision: RouteDecision | None) -> bool:
    """The route declined and `review` is not run yet (pinned routes are the user's choice: kept)."""
    return (
        out.declined is not None
        and name != "review"
        and "review" not in names
        and not (decision is not None and decision.pinned)
    )


def route_item(
    item: WorkItem, cs: ChangeSet, routes: Mapping[str, Route], router: Router | None, budget: Budget
) -> ItemOutcome:
    """Route and run one item within ``budget``; its findings already carry their route."""
    refused = budget.refuse(item.id)
    if refused is not None:
        return ItemOutcome(not_reviewed=(refused,))
    t0 = time.perf_counter()
    findings: list[Finding] = []
    not_reviewed: list[Skipped] = []
    runs: list[RouteRun] = []
    notes: list[str] = []
    p_tok = g_tok = 0
    seconds = 0.0
    ok = True
    try:
        decision = router.route(item) if router is not None else None
        names = decision.routes if decision is not None else ("review",)
        if decision is not None:
            p_tok += decision.prompt_tokens
            seconds += decision.seconds
            if decision.note:
                notes.append(decision.note)
        todo = list(names)
        while todo:
            name = todo.pop(0)
            out = routes[name].run(item, cs)
            run, found = _taken(item, name, out, decision, names)
            runs.append(run)
            notes.extend(out.notes)
            findings.extend(found)
            p_tok += out.prompt_tokens
            g_tok += out.generated_tokens
            seconds += out.seconds
            if _hand_over(name, out, names, decision):
                # the review route does the job instead; the reason becomes a note, since the item
                # is reviewed after all
                notes.append(
                    f"{item.id}: the {name} route could not take it ({out.declined}); the review route did"
                )
                todo.append("review")
                continue
            not_reviewed.extend(out.not_reviewed)
            ok = ok and not out.not_reviewed
    except ModelUnavailable as exc:
        took = time.perf_counter() - t0
        budget.failed(exc)
        reason = f"model call failed after {took:.1f} s: {' '.join(str(exc).split())}"
        failed = (*not_reviewed, Skipped(item.id, reason, "model"))
        return ItemOutcome(tuple(findings), failed, p_tok, g_tok, took, runs=tuple(runs), notes=tuple(notes))
    budget.succeeded()
    return ItemOutcome(
        tuple(findings), tuple(not_reviewed), p_tok, g_tok, seconds, ok, tuple(runs), tuple(notes)
    )


def run_items(
    items: Sequence[WorkItem],
    one: Callable[[WorkItem], ItemOutcome],
    concurrency: int,
    progress: Progress | None,
) -> list[ItemOutcome]:
    """``one(item)`` for each item, up to ``concurrency`` at once; the outcomes in the items' order."""
    total = len(items)
    workers = max(1, min(concurrency, total))
    started = iter(range(total))  # counts items started, in the order they start (next() is atomic)

    def tick(item: WorkItem) -> ItemOutcome:
        n = next(started)
        if progress is not None:
            progress(n, total, item.id)
        return one(item)

    if workers == 1:
        outs = [tick(item) for item in items]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reviewbot-model") as pool:
            outs = list(pool.map(tick, items))  # results in the plan's order
    if progress is not None and total:
        progress(total, total, "done")
    return outs
