"""The review route: comments on defects, exactly on changed lines, with optional suggestions.

Two strategies share the numbered rows, the schema, validation and placement (review_answer.py):
``generative`` (review_generative.py: a capable model reads the whole item, new code included, and
writes up to N findings, each with its confidence) and ``likelihood``, below, for small models.
``review.strategy: auto`` picks by the model's size (``pick_strategy``); the report says which ran.

The likelihood strategy: two steps per work item, in which even a 0.5B model cannot ramble or copy
an example (it scores text and writes none, unless asked for fixes):

1. **Judge** each hunk by comparing the old and the new version under the model: the mean
   log-probability per token of the hunk's old text (context and removed lines) and of its new
   text (context and added lines), each scored in one forward pass with no generation. A change
   that makes the code markedly less likely than the code it replaces (`drop`, in nats per token,
   at least `min_drop`) is flagged; the rest get no comment, because a reviewer that comments on
   everything scores zero (docs/evaluation.md). The focus of a flagged hunk is the run of changed
   lines around its least likely added line (or its removed run when it only removes code).
   Hunks with no old text at all (new files) are not judged this way and get no model comment.
   Why not ask the model "which version is right?": measured on 25 review-bugs pairs, the
   0.5B model's A/B answers averaged over both orders stayed at 0.50 +- 0.03 for bug and clean
   alike, while the likelihood drop separated them (docs/benchmarks.md).
2. **Place** each flagged hunk's comment on the judge's own line (``_pick``): of the lines that
   replaced another, the one whose drop line by line is largest; else the least likely added line;
   in a hunk that only removes, its first removed line. No model call: the comment states the
   change fact (review_comment.py), so a second call could add only the row and a fix, and the
   0.5B model's fixes were almost never code that parses there (docs/review.md).
   With ``suggestions`` (``review.suggestions``) the model is asked instead: it writes JSON under
   a schema that points at a numbered row of the focus, quotes its code (one line) and may offer a
   fix; it writes no sentence, since nothing would check one true. The output is validated with
   pydantic; invalid output is retried once with the validation error, then the item is reported
   as not reviewed.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from .. import prompts
from ..facts import changes_no_code, run_of, runs_of
from ..facts.tokens import code_tokens
from ..model import ChangeSet, Finding, Hunk, Line, LineKind, Skipped, WorkItem
from ..ports import ModelBackend, RouteOutcome, Scored
from .review_answer import (
    PointedOutput,
    ReviewComment,
    ReviewOutput,
    ask,
    finding_on,
    hunk_of,
    locate,
    onto_new_code,
    place_line,
    placed,
    render_rows,
    review_schema,
    snap_to_change,
)
from .review_comment import Words
from .review_generative import generative_review

__all__ = [
    "HunkVerdict",
    "PointedOutput",
    "ReviewComment",
    "ReviewOutput",
    "ReviewRoute",
    "confidence_of",
    "focus_rows",
    "judge_hunk",
    "locate",
    "onto_new_code",
    "pick_strategy",
    "render_rows",
    "review_schema",
    "snap_to_change",
]

CAPABLE_BILLIONS = 3.0  # from this size a model is asked to read and judge the change itself


def model_billions(model_id: str | None) -> float | None:
    """The parameter count a model's name states ("Qwen2.5-Coder-7B-Instruct-AWQ" -> 7.0), if any."""
    m = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)\s*[bB](?![a-zA-Z])", model_id or "")
    return float(m.group(1)) if m else None


def pick_strategy(setting: str, backend_name: str, model_id: str | None) -> tuple[str, str]:
    """The strategy that runs, and why. ``auto``: generative for a model of at least 3B parameters
    by its name, or for an OpenAI-compatible server whose model's size is not in its name (a GPU
    runner); likelihood for the small embedded model and any other small model."""
    if setting != "auto":
        return setting, "review.strategy"
    size = model_billions(model_id)
    if size is not None:
        pick = "generative" if size >= CAPABLE_BILLIONS else "likelihood"
        return pick, f"auto: a {size:g}B model"
    if backend_name == "openai":
        return "generative", "auto: a model server"
    return "likelihood", "auto: a local model of unknown size"


@dataclass(frozen=True, slots=True)
class HunkVerdict:
    hunk: Hunk
    drop: float | None  # mean log-prob per token, old minus new; None when not judged
    focus: tuple[Line, ...]  # the changed lines the comment should be about
    prompt_tokens: int
    seconds: float
    line: Line | None = None  # where the comment goes (``_pick``)


def _section(h: Hunk) -> str:
    return f"(in {h.section.strip()})" if h.section.strip() else ""


def _version(h: Hunk, kind: LineKind) -> tuple[str, list[tuple[Line, int, int]]]:
    """One side's text of a hunk, and each line's character span in it."""
    parts, spans, pos = [], [], 0
    for ln in h.lines:
        if ln.kind is LineKind.CONTEXT or ln.kind is kind:
            text = ln.text + "\n"
            spans.append((ln, pos, pos + len(text)))
            parts.append(text)
            pos += len(text)
    return "".join(parts), spans


def _line_means(scored: Scored, spans: list[tuple[Line, int, int]]) -> dict[int, float]:
    """Mean token log-prob of each line (by its index in `spans`), tokens placed by their start."""
    sums: dict[int, list[float]] = {}
    j = 0
    for lp, off in zip(scored.logprobs, scored.offsets):
        while j < len(spans) - 1 and off >= spans[j][2]:
            j += 1
        sums.setdefault(j, []).append(lp)
    return {i: sum(v) / len(v) for i, v in sums.items()}


def _run_around(h: Hunk, line: Line) -> tuple[Line, ...]:
    """The contiguous run of changed lines that holds `line`."""
    i = h.lines.index(line)
    lo = hi = i
    while lo > 0 and h.lines[lo - 1].kind is not LineKind.CONTEXT:
        lo -= 1
    while hi < len(h.lines) - 1 and h.lines[hi + 1].kind is not LineKind.CONTEXT:
        hi += 1
    return h.lines[lo : hi + 1]


def _pick(h: Hunk, path: str, old_means: dict[int, float], new_means: dict[int, float]) -> Line:
    """The line the comment goes on. Of the lines that replaced another (the i-th removed and the
    i-th added line of a run), the one whose code the model finds least likely against the line it
    replaced (the largest drop, line by line): where that line changed only a comment, the flag
    came from the comment and the comment is not posted (``changes_no_code`` at the caller). Where
    no replaced line got less likely, the least likely added line that holds code (a new comment or
    blank line holds no defect), else the least likely added line; in a hunk that only removes
    code, its first removed line. A line where no token starts (a blank line's newline is part of
    the token before it) counts 0."""
    pairs = [p for removed, added in runs_of(h) for p in zip(removed, added)]
    drops = [(old_means.get(id(r), 0.0) - new_means.get(id(a), 0.0), a) for r, a in pairs]
    best = max(drops, key=lambda t: t[0], default=None)
    if best is not None and best[0] > 0:
        return best[1]
    added = [ln for ln in h.lines if ln.kind is LineKind.ADDED]
    coded = [ln for ln in added if code_tokens(ln.text, path)] or added
    if coded:
        return min(coded, key=lambda ln: new_means.get(id(ln), 0.0))
    return next(ln for ln in h.lines if ln.kind is LineKind.REMOVED)


def judge_hunk(backend: ModelBackend, path: str, h: Hunk) -> HunkVerdict:
    t0 = time.perf_counter()
    old_text, old_spans = _version(h, LineKind.REMOVED)
    new_text, new_spans = _version(h, LineKind.ADDED)
    if not old_text.strip() or not new_text.strip():
        return HunkVerdict(h, None, (), 0, time.perf_counter() - t0)
    ask = [{"role": "user", "content": prompts.render("score_user", path=path, section=_section(h))}]
    old = backend.score(ask, old_text)
    new = backend.score(ask, new_text)
    if old is None or new is None or not old.logprobs or not new.logprobs:
        return HunkVerdict(h, None, (), 0, time.perf_counter() - t0)
    drop = old.mean - new.mean
    means = _line_means(new, new_spans)
    added = [(means.get(i, 0.0), sp[0]) for i, sp in enumerate(new_spans) if sp[0].kind is LineKind.ADDED]
    if added:
        focus = _run_around(h, min(added, key=lambda t: t[0])[1])
    else:
        focus = _run_around(h, next(ln for ln in h.lines if ln.kind is LineKind.REMOVED))
    old_means = {id(old_spans[i][0]): m for i, m in _line_means(old, old_spans).items()}
    new_means = {id(new_spans[i][0]): m for i, m in means.items()}
    tokens = len(old.logprobs) + len(new.logprobs)
    return HunkVerdict(h, drop, focus, tokens, time.perf_counter() - t0, _pick(h, path, old_means, new_means))


def focus_rows(v: HunkVerdict, context: int = 2) -> list[Line]:
    """The focus run with up to `context` lines of the hunk on each side."""
    lines = v.hunk.lines
    lo = lines.index(v.focus[0])
    hi = lines.index(v.focus[-1])
    return list(lines[max(0, lo - context) : hi + context + 1])


def confidence_of(drop: float, scale: float = 0.25) -> float:
    """A 0..1 reading of the likelihood drop, for sorting and display (1 - exp(-drop / scale))."""
    return round(1.0 - math.exp(-max(drop, 0.0) / scale), 4)


class ReviewRoute:
    """The review route; ``strategy``: ``likelihood`` (judge by the likelihood drop, then explain
    each flagged hunk) or ``generative`` (the model reads the whole item and writes the findings)."""

    name = "review"

    def __init__(
        self,
        backend: ModelBackend,
        *,
        strategy: str = "auto",
        min_drop: float = 0.05,
        max_findings: int = 2,
        max_new_tokens: int = 160,
        suggestions: bool = False,
    ) -> None:
        self.backend = backend
        self.suggestions = suggestions  # likelihood: the model points at the row and may offer a fix
        self.strategy = strategy  # auto: picked on each item, once a server has named its model
        self.min_drop = min_drop
        self.max_findings = max_findings
        self.max_new_tokens = max_new_tokens

    def run(
        self, item: WorkItem, changeset: ChangeSet, route_probability: float | None = None
    ) -> RouteOutcome:
        strategy, why = pick_strategy(self.strategy, self.backend.name, self.backend.model_id)
        note = f"review strategy: {strategy} ({why})"
        if strategy == "generative":
            out = generative_review(
                self.backend, item, changeset, self.max_findings, self.max_new_tokens, route_probability
            )
            return RouteOutcome(
                out.findings,
                out.skipped,
                out.prompt_tokens,
                out.generated_tokens,
                out.seconds,
                (note, *out.notes),
            )
        t0 = time.perf_counter()
        verdicts = [judge_hunk(self.backend, item.path, h) for h in item.hunks]
        prompt_tokens = sum(v.prompt_tokens for v in verdicts)
        flagged = sorted(
            (v for v in verdicts if v.drop is not None and v.drop >= self.min_drop), key=lambda v: -v.drop
        )[: self.max_findings]
        findings: list[Finding] = []
        skipped: list[Skipped] = [
            Skipped(
                f"{item.path}:{h.new_start}-{h.new_start + max(h.new_len, 1) - 1}", NEW_CODE, stage="route"
            )
            for h in item.hunks
            if all(ln.kind is LineKind.ADDED for ln in h.lines)
        ]
        generated = 0
        words = Words(model_speaks=False)  # the fact alone: see review_comment
        for v in flagged:
            if self.suggestions:
                finding, skip, p_tok, g_tok = self._explain(
                    item, focus_rows(v), confidence_of(v.drop), route_probability, words
                )
            else:
                finding, skip = _judged(item, v, route_probability, words)
                p_tok = g_tok = 0
            prompt_tokens += p_tok
            generated += g_tok
            if finding is not None and all(f.location != finding.location for f in findings):
                findings.append(finding)
            if skip is not None:
                skipped.append(skip)
        return RouteOutcome(
            tuple(findings),
            tuple(skipped),
            prompt_tokens,
            generated,
            time.perf_counter() - t0,
            (note, *words.notes()),
        )

    def _explain(
        self,
        item: WorkItem,
        rows: list[Line],
        confidence: float,
        route_probability: float | None,
        words: Words,
    ):
        messages = [
            {"role": "system", "content": prompts.render("review_system")},
            {
                "role": "user",
                "content": prompts.render("review_user", path=item.path, rows=render_rows(rows)),
            },
        ]
        out, error, prompt_tokens, generated = ask(
            self.backend,
            messages,
            PointedOutput,
            review_schema(len(rows), 1, PointedOutput),
            len(rows),
            self.max_new_tokens,
        )
        if out is None:
            where = f"{item.path}:{rows[0].number}"
            return (
                None,
                Skipped(where, f"model output invalid twice ({error})", stage="route"),
                prompt_tokens,
                generated,
            )
        line, _ = place_line(out.findings[0], rows)
        if changes_no_code(*run_of(line, hunk_of(item, line, rows)), item.path):
            where = f"{item.path}:{line.number}"
            return None, Skipped(where, NO_CODE, stage="route"), prompt_tokens, generated
        finding = placed(item, out.findings[0], rows, confidence, route_probability, words=words)
        return finding, None, prompt_tokens, generated


def _judged(
    item: WorkItem, v: HunkVerdict, route_probability: float | None, words: Words
) -> tuple[Finding | None, Skipped | None]:
    """The finding of a flagged hunk on the judge's own line (``_pick``; a removed line that was
    replaced moves onto its replacement), with no model call."""
    assert v.line is not None and v.drop is not None
    rows = list(v.hunk.lines)
    line = onto_new_code(v.line, rows)
    if changes_no_code(*run_of(line, rows), item.path):
        return None, Skipped(f"{item.path}:{line.number}", NO_CODE, stage="route")
    # claimed as a defect (an error), shown as a warning unless review.error_confidence says it is
    # sure enough (pipeline.graded), as a model's own severity is
    finding = finding_on(item, line, rows, confidence_of(v.drop), route_probability, words, severity="error")
    return finding, None


NO_CODE = (
    "the flagged lines change only comments or whitespace (or, in Python, a string's quotes): "
    "no changed code there to hold a defect, so it is not posted"
)
NEW_CODE = (
    "new code (no old version to compare): the likelihood strategy does not judge it; "
    "linters and the change's tests cover it (review.strategy: generative reads it)"
)
