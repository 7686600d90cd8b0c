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

Second route. With `second_route_margin` m > 0: when p(best) - p(runner-up) < m, the
runner-up is run too (`RouteDecision.second`). m = 0 never adds one; m = 1 always does when
there are two or more candidates. Pinned and single-candidate decisions never get a second route.

Prompt. The system prompt holds only our text (the job and the candidate routes' short
descriptions), the same for every item; the PR's text goes only into the user message, marked
as data, with chat-template control sequences (`<|...|>`) broken so that a diff cannot open a turn
of its own. The item's diff is cut to `max_chars` characters for the router (the route itself
still gets the whole item).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from . import prompts
from .errors import ConfigError
from .model import Finding, WorkItem
from .plan import hunk_text
from .ports import Message, ModelBackend

ROUTES: tuple[str, ...] = ("review", "interpreter", "search", "tools", "repo_qa")
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


def diff_text(item: WorkItem, max_chars: int) -> str:
    """The item's hunks as unified-diff text, cut at a line boundary to `max_chars` characters."""
    text = "".join(hunk_text(h) for h in item.hunks)
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars) + 1 or max_chars
    rest = text[cut:].count("\n")
    return text[:cut] + f"[... {rest} more diff lines not shown]\n"


class Router:
    def __init__(
        self,
        backend: ModelBackend,
        *,
        available: Sequence[str],
        pins: Sequence[tuple[str, str]] = (),
        forbid: Sequence[str] = (),
        second_route_margin: float = 0.0,
        max_chars: int = 4000,
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
                raise ConfigError(f"routes.pin: {glob!r} pins route {r!r}, which is not available "
                                  f"(available: {', '.join(self.available)})")  # fmt: skip
        if not 0.0 <= second_route_margin <= 1.0:
            raise ConfigError(f"routes.second_margin must be from 0 to 1; got {second_route_margin!r}")
        self.second_route_margin = float(second_route_margin)
        self.max_chars = max_chars
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
        q = f"Question asked in a PR comment:\n<<<\n{defuse(question.strip())}\n>>>\n\n" if question else ""
        user = prompts.render(
            "route_user",
            path=defuse(item.path),
            diff=defuse(diff_text(item, self.max_chars))
            or "(no diff: the question is about the repository)\n",
            question=q,
            labels=", ".join(labels),
        )
        return [{"role": "system", "content": system_prompt(labels)}, {"role": "user", "content": user}]

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
        t0 = time.perf_counter()
        choice = self.backend.choose(self.messages(item, question), labels)
        seconds = choice.seconds or (time.perf_counter() - t0)
        probs = {lb: float(choice.probabilities.get(lb, 0.0)) for lb in labels}
        ranked = sorted(labels, key=lambda lb: (-probs[lb], labels.index(lb)))
        best, runner = ranked[0], ranked[1]
        second = runner if probs[best] - probs[runner] < self.second_route_margin else None
        return RouteDecision(best, probs[best], probs, second, False, seconds, choice.prompt_tokens)


@cache
def system_prompt(labels: tuple[str, ...]) -> str:
    routes = "\n".join(f"- {lb}: {DESCRIPTIONS[lb]}" for lb in labels)
    return prompts.render("route_system", routes=routes, labels=", ".join(labels))


def stamp(findings: Iterable[Finding], route: str, decision: RouteDecision) -> tuple[Finding, ...]:
    """The findings of `route` with the route and its probability recorded on each."""
    p = decision.probabilities.get(route, decision.probability if route == decision.route else None)
    return tuple(replace(f, route=route, route_probability=p) for f in findings)
