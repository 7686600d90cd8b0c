"""WorkItem -> route: the model picks which job to do with a constrained first token.

The model reads the work item (one file's hunks, and the question when one was asked in a PR
comment) and its first answer token is restricted to the labels of the candidate routes; the
softmax over those labels' first-token logits is the route's probability (`ModelBackend.choose`).

Labels. `review`, `interpreter`, `search`, `tools`, `repo_qa` are used exactly as written: in
Qwen2.5's tokenizer (the embedded model's) each starts with a distinct single token, and the chat
template puts the assistant's first token straight after `<|im_start|>assistant\\n`, with no leading
space: review 19417, interpreter 90554, search 1836, tools 15918, repo_qa -> `repo` 23476 (+ `_q`,
`a`). Only the first token is scored, so only first tokens must be distinct
(tests/test_router.py checks them with the real tokenizer file when it is present).

Candidates, in this order of rules:
1. **Pins**: the first `(glob, route)` pair whose glob matches the item's path (`fnmatch`, so
   `*` also crosses `/`) decides without a model call: probability 1.0, `pinned=True`.
2. Otherwise the candidates are the available routes minus the forbidden ones; `repo_qa` is a
   candidate only when the item carries a question (it answers questions; with none there is
   nothing to answer). A single candidate is chosen without a model call (probability 1.0: a
   softmax over one label). `tools` and `interpreter` run programs on the head checkout, so they
   are candidates only for items of a change whose checkout is on disk (`WorkItem.at_head`: a git
   range whose head is the checked-out, clean work tree); for a bare diff they are never offered.
3. Otherwise the model chooses among the candidates.

Fallback (pipeline/items.py). When the chosen route cannot take the item (it returns no finding, only
route-stage reasons: search finds no documented API use, the sandbox does not start, ...), the
`review` route reviews it instead and the reasons become a note; a pinned route is not replaced.

Second route. With `second_route_margin` m > 0: when p(best) - p(runner-up) < m, the
runner-up is run too (`RouteDecision.second`). m = 0 never adds one; m = 1 always does when
there are two or more candidates. Pinned and single-candidate decisions never get a second route.

Calibration (off by default, `routes.calibrate`). A small model has strong priors over the
labels themselves: asked about any diff, Qwen2.5-Coder-0.5B answers `review` almost always. With
calibration on, the router also asks once per set of candidate labels for the probabilities on a
content-free item (path `N/A`, an empty diff) and divides each item's label probabilities by those
priors before renormalising ("contextual calibration", Zhao et al., 2021). Measured on the
routing set (docs/benchmarks.md) it does not help this model: the prior of `interpreter` is so
small that dividing by it sends every item there (20% accuracy, the same as raw 21%). It stays
available for larger models. `RouteDecision.probabilities` holds the figures decided on (and
recorded on findings); `raw` the model's own.

Prompt. The system prompt holds only our text (the job and the candidate routes' short
descriptions), the same for every item; the PR's text goes only into the user message, marked
as data, with chat-template control sequences (`<|...|>`) broken so that a diff cannot open a turn
of its own. The router sees the item compactly, to keep its forward pass short: the hunk headers
and the changed lines only (no context lines), cut to `max_chars` characters (the route itself
still gets the whole item).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from . import prompts
from .errors import ConfigError, ModelError, ModelUnavailable
from .model import ROUTE_NAMES, LineKind, WorkItem
from .plan import hunk_text
from .ports import Message, ModelBackend

ROUTES = ROUTE_NAMES  # the one list, from model
NEEDS_CHECKOUT: frozenset[str] = frozenset({"interpreter", "tools"})  # they run programs on the head checkout

DESCRIPTIONS: Mapping[str, str] = {
    "review": "find defects in changed code: wrong behaviour, crashes, missing checks, security holes",
    "interpreter": "write and run a unit test for a new or changed function that has no test",
    "search": "look up the documentation of a dependency or external library API that the change "
    "bumps, adds or calls",
    "tools": "run linters and the test suite on a change to tests or to lint, test or CI configuration",
    "repo_qa": "answer a question about the repository's code",
}


@dataclass(frozen=True, slots=True)
class RouteDecision:
    route: str
    probability: float  # of `route` among the candidates; 1.0 when pinned or the only candidate
    probabilities: dict[str, float] = field(default_factory=dict)  # every candidate's probability
    second: str | None = None  # also run this route (close call, see the module docstring)
    pinned: bool = False
    seconds: float = 0.0  # time spent deciding (0 without a model call)
    prompt_tokens: int = 0
    raw: dict[str, float] = field(default_factory=dict)  # the model's probabilities before calibration
    note: str | None = None  # for the report: the model could not choose, so the default route ran

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes to run, first choice first."""
        return (self.route,) if self.second is None else (self.route, self.second)


def _check_routes(names: Iterable[str], what: str) -> tuple[str, ...]:
    names = tuple(names)
    unknown = [n for n in names if n not in ROUTES]
    if unknown:
        raise ConfigError(
            f"{what}: unknown route(s) {', '.join(map(repr, unknown))} (known: {', '.join(ROUTES)})"
        )
    return names


def defuse(text: str) -> str:
    """PR text with chat-template control sequences broken (`<|im_end|>` -> `< |im_end| >`)."""
    return text.replace("<|", "< |").replace("|>", "| >")


def changed_text(item: WorkItem, max_chars: int) -> str:
    """The item's hunk headers and changed lines (no context), cut at a line boundary."""
    out: list[str] = []
    for h in item.hunks:
        out.append(hunk_text(h).split("\n", 1)[0] + "\n")
        out.extend(
            ("+" if ln.kind is LineKind.ADDED else "-") + ln.text + "\n"
            for ln in h.lines
            if ln.kind is not LineKind.CONTEXT
        )
    return _cut("".join(out), max_chars)


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars) + 1 or max_chars
    rest = text[cut:].count("\n")
    return text[:cut] + f"[... {rest} more diff lines not shown]\n"


def diff_text(item: WorkItem, max_chars: int) -> str:
    """The item's hunks as unified-diff text, cut at a line boundary to `max_chars` characters."""
    return _cut("".join(hunk_text(h) for h in item.hunks), max_chars)


class Router:
    def __init__(
        self,
        backend: ModelBackend,
        *,
        available: Sequence[str],
        pins: Sequence[tuple[str, str]] = (),
        forbid: Sequence[str] = (),
        second_route_margin: float = 0.0,
        max_chars: int = 1500,
        calibrate: bool = False,
    ) -> None:
        self.backend = backend
        self.available = _check_routes(available, "available routes")
        self.forbid = _check_routes(forbid, "routes.forbid")
        self.pins = tuple((str(g), r) for g, r in pins)
        _check_routes((r for _, r in self.pins), "routes.pin")
        for glob, r in self.pins:
            if r in self.forbid:
                raise ConfigError(f"routes.pin: {glob!r} pins route {r!r}, which routes.forbid forbids")
            if r not in self.available:
                raise ConfigError(
                    f"routes.pin: {glob!r} pins route {r!r}, which is not available "
                    f"(available: {', '.join(self.available)})"
                )
        if not 0.0 <= second_route_margin <= 1.0:
            raise ConfigError(f"routes.second_margin must be from 0 to 1; got {second_route_margin!r}")
        self.second_route_margin = float(second_route_margin)
        self.max_chars = max_chars
        self.calibrate = calibrate
        self._cannot_choose: str | None = None  # the backend failed to choose once: review from then on
        self._priors: dict[tuple[str, ...], dict[str, float]] = {}
        self.allowed = tuple(r for r in ROUTES if r in self.available and r not in self.forbid)
        if not self.allowed:
            raise ConfigError("every available route is forbidden (routes.forbid): nothing could be run")

    # ------------------------------------------------------------------ parts
    def candidates(self, question: str | None, at_head: bool = True) -> tuple[str, ...]:
        """The labels offered to the model, in the fixed order of ROUTES."""
        return tuple(
            r for r in self.allowed if (r != "repo_qa" or question) and (at_head or r not in NEEDS_CHECKOUT)
        )

    def pin_for(self, path: str) -> str | None:
        for glob, r in self.pins:
            if fnmatch.fnmatch(path, glob):
                return r
        return None

    def messages(self, item: WorkItem, question: str | None = None) -> list[Message]:
        labels = self.candidates(question, item.at_head)
        diff = changed_text(item, self.max_chars) or "(no diff: the question is about the repository)\n"
        return self._messages(labels, item.path, diff, question)

    def _messages(self, labels: Sequence[str], path: str, diff: str, question: str | None) -> list[Message]:
        q = f"Question asked in a PR comment:\n<<<\n{defuse(question.strip())}\n>>>\n\n" if question else ""
        user = prompts.render(
            "route_user", path=defuse(path), diff=defuse(diff), question=q, labels=", ".join(labels)
        )
        return [
            {"role": "system", "content": system_prompt(tuple(labels))},
            {"role": "user", "content": user},
        ]

    def prior(self, labels: tuple[str, ...]) -> tuple[dict[str, float], float, int]:
        """The model's label probabilities on a content-free item (cached per label set), and the
        seconds and prompt tokens spent the first time (0 afterwards)."""
        if labels in self._priors:
            return self._priors[labels], 0.0, 0
        choice = self.backend.choose(self._messages(labels, "N/A", "N/A\n", None), labels)
        table = {lb: max(float(choice.probabilities.get(lb, 0.0)), 1e-6) for lb in labels}
        self._priors[labels] = table
        return table, choice.seconds, choice.prompt_tokens

    # ------------------------------------------------------------------ verb
    def route(self, item: WorkItem, question: str | None = None) -> RouteDecision:
        question = question if question is not None else item.question
        pinned = self.pin_for(item.path)
        if pinned is not None:
            return RouteDecision(pinned, 1.0, {pinned: 1.0}, pinned=True)
        labels = self.candidates(question, item.at_head)
        if not labels:  # only repo_qa is allowed and there is no question: it is still the only job
            labels = self.allowed
        if len(labels) == 1:
            return RouteDecision(labels[0], 1.0, {labels[0]: 1.0})
        if self._cannot_choose is not None:
            return self._fallback(labels, None)
        t0 = time.perf_counter()
        try:
            choice = self.backend.choose(self.messages(item, question), labels)
        except ModelUnavailable:
            raise  # the server is down or failing: the pipeline degrades the whole review
        except ModelError as exc:  # this backend cannot answer a choice (e.g. no logprobs)
            self._cannot_choose = " ".join(str(exc).split())
            return self._fallback(labels, self._cannot_choose)
        seconds = choice.seconds or (time.perf_counter() - t0)
        tokens = choice.prompt_tokens
        raw = {lb: float(choice.probabilities.get(lb, 0.0)) for lb in labels}
        probs = raw
        if self.calibrate:
            prior, prior_s, prior_tokens = self.prior(labels)
            seconds, tokens = seconds + prior_s, tokens + prior_tokens
            weights = {lb: raw[lb] / prior[lb] for lb in labels}
            total = sum(weights.values()) or 1.0
            probs = {lb: w / total for lb, w in weights.items()}
        ranked = sorted(labels, key=lambda lb: (-probs[lb], labels.index(lb)))
        best, runner = ranked[0], ranked[1]
        second = runner if probs[best] - probs[runner] < self.second_route_margin else None
        return RouteDecision(best, probs[best], probs, second, False, seconds, tokens, raw)

    def _fallback(self, labels: Sequence[str], why: str | None) -> RouteDecision:
        """`review` (or the first candidate) when the model cannot choose; noted once."""
        route = "review" if "review" in labels else labels[0]
        note = None
        if why is not None:
            note = f"router: the model could not choose a route ({why}); every item goes to {route}"
        return RouteDecision(route, 1.0, {route: 1.0}, note=note)


@cache
def system_prompt(labels: tuple[str, ...]) -> str:
    routes = "\n".join(f"- {lb}: {DESCRIPTIONS[lb]}" for lb in labels)
    return prompts.render("route_system", routes=routes, labels=", ".join(labels))
