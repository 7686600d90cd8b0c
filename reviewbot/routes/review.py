"""The review route: comments on defects, exactly on changed lines, with optional suggestions.

Two steps per work item, both constrained so that even a 0.5B model cannot ramble or copy an example:

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
2. **Explain** each flagged focus: the model writes JSON under a schema (xgrammar on the local
   backend) that points at a numbered row, with a one-sentence message and an optional fix. The
   output is validated with pydantic; invalid output is retried once with the validation error,
   then the item is reported as not reviewed. Rows map to exact (side, line) pairs of the diff and
   the quoted code is checked against the rows, so a model's line numbers are never trusted blindly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..model import ChangeSet, Finding, Hunk, Line, LineKind, Location, Severity, Side, Skipped, WorkItem
from ..ports import ModelBackend, RouteOutcome, Scored

MARK = {LineKind.ADDED: "+", LineKind.REMOVED: "-", LineKind.CONTEXT: " "}


class ReviewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    row: int = Field(ge=1)
    severity: Literal["warning", "error"]
    category: Literal["bug", "security", "error-handling", "performance", "api-misuse"]
    message: str = Field(min_length=8, max_length=500)
    code: str = Field(max_length=300)
    suggestion: str | None = Field(default=None, max_length=1000)


class ReviewOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[ReviewComment] = Field(min_length=1, max_length=3)


def review_schema(rows: int, max_findings: int) -> dict:
    """The JSON schema the model writes under; `row` is bounded by the rows shown.

    Maximum string lengths are left to validation (ReviewOutput) and to the token limit: a
    maxLength of 240 makes xgrammar's compile take about 3.5 s here, against 0.16 s for the
    minimum lengths, which stay in the grammar.
    """
    schema = ReviewOutput.model_json_schema()
    item = schema["$defs"]["ReviewComment"]
    for prop in item["properties"].values():
        for part in (prop, *prop.get("anyOf", ())):
            part.pop("maxLength", None)
    item["properties"]["row"]["maximum"] = rows
    schema["properties"]["findings"]["maxItems"] = max_findings
    return schema


@dataclass(frozen=True, slots=True)
class HunkVerdict:
    hunk: Hunk
    drop: float | None  # mean log-prob per token, old minus new; None when not judged
    focus: tuple[Line, ...]  # the changed lines the comment should be about
    prompt_tokens: int
    seconds: float


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


def judge_hunk(backend: ModelBackend, path: str, h: Hunk) -> HunkVerdict:
    t0 = time.perf_counter()
    old_text, _ = _version(h, LineKind.REMOVED)
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
    tokens = len(old.logprobs) + len(new.logprobs)
    return HunkVerdict(h, drop, focus, tokens, time.perf_counter() - t0)


def focus_rows(v: HunkVerdict, context: int = 2) -> list[Line]:
    """The focus run with up to `context` lines of the hunk on each side."""
    lines = v.hunk.lines
    lo = lines.index(v.focus[0])
    hi = lines.index(v.focus[-1])
    return list(lines[max(0, lo - context) : hi + context + 1])


def render_rows(rows: list[Line]) -> str:
    return "\n".join(f"R{i} {MARK[ln.kind]} {ln.text}" for i, ln in enumerate(rows, 1))


def _norm(s: str) -> str:
    return " ".join(s.split())


def locate(comment: ReviewComment, rows: list[Line]) -> tuple[Line, str | None]:
    """The row the comment is about, checked against the code it quotes.

    The quoted code wins when it matches exactly one changed row other than the one named.
    Returns the row and a note when the model's row was corrected.
    """
    named = rows[comment.row - 1]
    quote = _norm(comment.code)
    if not quote or quote in _norm(named.text):
        return named, None
    matches = [ln for ln in rows if ln.kind is not LineKind.CONTEXT and quote in _norm(ln.text)]
    if len(matches) == 1:
        return matches[0], f"row R{comment.row} corrected by its quoted code"
    return named, None


def snap_to_change(line: Line, rows: list[Line]) -> Line:
    """A comment on an unchanged row moves to the nearest changed row (a defect is in the change)."""
    if line.kind is not LineKind.CONTEXT:
        return line
    i = rows.index(line)
    for d in range(1, len(rows)):
        for j in (i - d, i + d):
            if 0 <= j < len(rows) and rows[j].kind is not LineKind.CONTEXT:
                return rows[j]
    return line


def onto_new_code(line: Line, rows: list[Line]) -> Line:
    """A comment on a removed row that was replaced moves to its replacement: the new code is what
    is under review, and only new-side lines can carry a suggestion. The i-th removed row of a run
    pairs with the i-th added row of the same run (or the last one). Pure removals stay LEFT."""
    if line.kind is not LineKind.REMOVED:
        return line
    i = rows.index(line)
    lo = hi = i
    while lo > 0 and rows[lo - 1].kind is not LineKind.CONTEXT:
        lo -= 1
    while hi < len(rows) - 1 and rows[hi + 1].kind is not LineKind.CONTEXT:
        hi += 1
    run = rows[lo : hi + 1]
    removed = [ln for ln in run if ln.kind is LineKind.REMOVED]
    added = [ln for ln in run if ln.kind is LineKind.ADDED]
    if not added:
        return line
    return added[min(removed.index(line), len(added) - 1)]


def confidence_of(drop: float, scale: float = 0.25) -> float:
    """A 0..1 reading of the likelihood drop, for sorting and display (1 - exp(-drop / scale))."""
    return round(1.0 - math.exp(-max(drop, 0.0) / scale), 4)


class ReviewRoute:
    name = "review"

    def __init__(
        self,
        backend: ModelBackend,
        *,
        min_drop: float = 0.05,
        max_findings: int = 2,
        max_new_tokens: int = 160,
    ) -> None:
        self.backend = backend
        self.min_drop = min_drop
        self.max_findings = max_findings
        self.max_new_tokens = max_new_tokens

    def run(
        self, item: WorkItem, changeset: ChangeSet, route_probability: float | None = None
    ) -> RouteOutcome:
        t0 = time.perf_counter()
        verdicts = [judge_hunk(self.backend, item.path, h) for h in item.hunks]
        prompt_tokens = sum(v.prompt_tokens for v in verdicts)
        flagged = sorted(
            (v for v in verdicts if v.drop is not None and v.drop >= self.min_drop), key=lambda v: -v.drop
        )[: self.max_findings]
        findings: list[Finding] = []
        skipped: list[Skipped] = []
        generated = 0
        for v in flagged:
            rows = focus_rows(v)
            finding, skip, p_tok, g_tok = self._explain(item, rows, confidence_of(v.drop), route_probability)
            prompt_tokens += p_tok
            generated += g_tok
            if finding is not None and all(f.location != finding.location for f in findings):
                findings.append(finding)
            if skip is not None:
                skipped.append(skip)
        return RouteOutcome(
            tuple(findings), tuple(skipped), prompt_tokens, generated, time.perf_counter() - t0
        )

    def _explain(self, item: WorkItem, rows: list[Line], confidence: float, route_probability: float | None):
        messages = [
            {"role": "system", "content": prompts.render("review_system")},
            {
                "role": "user",
                "content": prompts.render("review_user", path=item.path, rows=render_rows(rows)),
            },
        ]
        schema = review_schema(len(rows), 1)
        prompt_tokens = generated = 0
        error = ""
        for _attempt in range(2):
            gen = self.backend.generate(messages, schema=schema, max_tokens=self.max_new_tokens)
            prompt_tokens += gen.prompt_tokens
            generated += gen.generated_tokens
            try:
                out = ReviewOutput.model_validate_json(gen.text)
                if any(c.row > len(rows) for c in out.findings):
                    raise ValueError(f"row must be between 1 and {len(rows)}")
                break
            except (ValidationError, ValueError) as exc:
                error = _first_error(exc)
                messages = messages + [
                    {"role": "assistant", "content": gen.text},
                    {
                        "role": "user",
                        "content": f"That answer is invalid: {error}. Answer again in the required JSON.",
                    },
                ]
        else:
            where = f"{item.path}:{rows[0].number}"
            return (
                None,
                Skipped(where, f"model output invalid twice ({error})", stage="route"),
                prompt_tokens,
                generated,
            )
        c = out.findings[0]
        line, _ = locate(c, rows)
        line = onto_new_code(snap_to_change(line, rows), rows)
        suggestion = c.suggestion if line.side is Side.RIGHT and c.suggestion else None
        finding = Finding(
            location=Location(item.path, line.side, line.number),
            severity=Severity(c.severity),
            message=c.message.strip(),
            rule=f"review/{c.category}",
            route="review",
            category=c.category,
            suggestion=suggestion,
            route_probability=route_probability,
            confidence=confidence,
            source="model",
        )
        return finding, None, prompt_tokens, generated


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e.get("loc", ()))
        return f"{where}: {e.get('msg')}" if where else str(e.get("msg"))
    return str(exc).splitlines()[0]
