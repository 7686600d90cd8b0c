"""The review route: comments on defects, exactly on changed lines, with optional suggestions.

Two steps per work item, both constrained so that even a 0.5B model cannot ramble or copy an example:

1. **Judge** each hunk with one forward pass per question (`choose`, no generation). A hunk that
   changes code is shown as two unlabeled versions (before and after) and the model is asked which
   one is correct; the question is asked twice with the order swapped, and the two answers are
   averaged, which cancels the model's preference for a letter. `p_defect` is the probability that
   the new version is the wrong one. A hunk that only adds code is asked "does this contain a
   definite bug?" (Y/N). Hunks under `min_confidence` get no comment: a reviewer that flags
   everything scores zero (see docs/evaluation.md).
2. **Explain** the flagged hunks: the model writes JSON under a schema (xgrammar on the local
   backend) that points at a numbered row, with a one-sentence message and an optional fix. The
   output is validated with pydantic; invalid output is retried once with the validation error,
   then the item is reported as not reviewed. Rows map to exact (side, line) pairs of the diff, and
   the quoted code is checked against the rows, so a model's line numbers are never trusted blindly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..model import ChangeSet, Finding, Hunk, Line, LineKind, Location, Severity, Side, Skipped, WorkItem
from ..ports import ModelBackend, RouteOutcome

MARK = {LineKind.ADDED: "+", LineKind.REMOVED: "-", LineKind.CONTEXT: " "}


class ReviewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    row: int = Field(ge=1)
    severity: Literal["warning", "error"]
    category: Literal["bug", "security", "error-handling", "performance", "api-misuse"]
    message: str = Field(min_length=8, max_length=240)
    code: str = Field(max_length=120)
    suggestion: str | None = Field(default=None, max_length=400)


class ReviewOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[ReviewComment] = Field(min_length=1, max_length=3)


def review_schema(rows: int, max_findings: int) -> dict:
    """The JSON schema the model writes under; `row` is bounded by the rows shown."""
    schema = ReviewOutput.model_json_schema()
    item = schema["$defs"]["ReviewComment"]
    item["properties"]["row"]["maximum"] = rows
    schema["properties"]["findings"]["maxItems"] = max_findings
    return schema


@dataclass(frozen=True, slots=True)
class HunkVerdict:
    hunk: Hunk
    p_defect: float
    prompt_tokens: int
    seconds: float


def _code(lines, kinds) -> str:
    return "\n".join(ln.text for ln in lines if ln.kind in kinds) or "(no lines)"


def _section(h: Hunk) -> str:
    return f"In: {h.section.strip()}" if h.section.strip() else ""


def judge_hunk(backend: ModelBackend, path: str, h: Hunk) -> HunkVerdict:
    t0 = time.perf_counter()
    system = {"role": "system", "content": prompts.render("judge_system")}
    if not h.removed:
        user = prompts.render("judge_added", path=path, section=_section(h), code=_code(h.lines, {LineKind.ADDED, LineKind.CONTEXT}))
        c = backend.choose([system, {"role": "user", "content": user}], ["Y", "N"])
        return HunkVerdict(h, c.probabilities["Y"], c.prompt_tokens, time.perf_counter() - t0)
    old = _code(h.lines, {LineKind.REMOVED, LineKind.CONTEXT})
    new = _code(h.lines, {LineKind.ADDED, LineKind.CONTEXT})
    p_old_right = 0.0
    tokens = 0
    for a, b, old_label in ((old, new, "A"), (new, old, "B")):
        user = prompts.render("judge_pair", path=path, section=_section(h), version_a=a, version_b=b)
        c = backend.choose([system, {"role": "user", "content": user}], ["A", "B"])
        p_old_right += c.probabilities[old_label] / 2
        tokens += c.prompt_tokens
    return HunkVerdict(h, p_old_right, tokens, time.perf_counter() - t0)


def rows_of(hunks: tuple[Hunk, ...]) -> list[Line]:
    return [ln for h in hunks for ln in h.lines]


def render_rows(rows: list[Line]) -> str:
    out = []
    for i, ln in enumerate(rows, 1):
        out.append(f"R{i} {MARK[ln.kind]} {ln.text}")
    return "\n".join(out)


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
    for d in range(1, 4):
        for j in (i - d, i + d):
            if 0 <= j < len(rows) and rows[j].kind is not LineKind.CONTEXT:
                return rows[j]
    return line


class ReviewRoute:
    name = "review"

    def __init__(
        self,
        backend: ModelBackend,
        *,
        min_confidence: float = 0.6,
        max_findings: int = 2,
        max_new_tokens: int = 160,
    ) -> None:
        self.backend = backend
        self.min_confidence = min_confidence
        self.max_findings = max_findings
        self.max_new_tokens = max_new_tokens

    def run(self, item: WorkItem, changeset: ChangeSet, route_probability: float | None = None) -> RouteOutcome:
        t0 = time.perf_counter()
        verdicts = [judge_hunk(self.backend, item.path, h) for h in item.hunks]
        prompt_tokens = sum(v.prompt_tokens for v in verdicts)
        flagged = [v for v in verdicts if v.p_defect >= self.min_confidence]
        if not flagged:
            return RouteOutcome((), (), prompt_tokens, 0, time.perf_counter() - t0)
        hunks = tuple(v.hunk for v in flagged)
        confidence = max(v.p_defect for v in flagged)
        rows = rows_of(hunks)
        messages = [
            {"role": "system", "content": prompts.render("review_system")},
            {"role": "user", "content": prompts.render("review_user", path=item.path, rows=render_rows(rows))},
        ]
        schema = review_schema(len(rows), self.max_findings)
        generated = 0
        error = ""
        for attempt in range(2):
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
                    {"role": "user", "content": f"That answer is invalid: {error}. Answer again in the required JSON."},
                ]
        else:
            skip = Skipped(item.id, f"model output invalid twice ({error})", stage="route")
            return RouteOutcome((), (skip,), prompt_tokens, generated, time.perf_counter() - t0)
        findings = []
        seen: set[tuple[Side, int]] = set()
        for c in out.findings:
            line, _ = locate(c, rows)
            line = snap_to_change(line, rows)
            key = (line.side, line.number)
            if key in seen:
                continue
            seen.add(key)
            suggestion = c.suggestion if line.side is Side.RIGHT and c.suggestion else None
            findings.append(
                Finding(
                    location=Location(item.path, line.side, line.number),
                    severity=Severity(c.severity),
                    message=c.message.strip(),
                    rule=f"review/{c.category}",
                    route="review",
                    category=c.category,
                    suggestion=suggestion,
                    route_probability=route_probability,
                    confidence=round(confidence, 4),
                    source="model",
                )
            )
        return RouteOutcome(tuple(findings), (), prompt_tokens, generated, time.perf_counter() - t0)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e.get("loc", ()))
        return f"{where}: {e.get('msg')}" if where else str(e.get("msg"))
    return str(exc).splitlines()[0]
