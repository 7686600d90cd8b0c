"""The generative review strategy: the model reads the work item as numbered rows (all of its
hunks, new code included, with the old code where it exists, and the enclosing functions at head
when the source has a checkout) and writes up to N findings under the JSON schema, each with its
own confidence. Validation, the retry and the placement on changed lines are review_answer's.

Meant for a capable model (a 7-9B code model on a GPU runner); the embedded 0.5B model can run it
too, and docs/benchmarks.md says how well it does.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from .. import prompts
from ..facts import facts_for_hunk
from ..model import ChangeSet, Finding, Hunk, Line, LineKind, Skipped, WorkItem
from ..ports import ModelBackend
from .review_answer import ReviewComment, ask, place_line, placed, render_rows, review_schema
from .review_comment import Words

MIN_CONFIDENCE = 0.5  # a finding the model itself gives less than even odds is left out (and counted)
CONTEXT_LINES = 60  # the most lines of enclosing code shown beside the rows
FACTS_SHOWN = 30  # the most change facts shown to the model for one item
CHECK_TOKENS = 120  # the check's answer: a yes or no and one sentence


class GenerativeComment(ReviewComment):
    confidence: float = Field(ge=0.0, le=1.0)


class GenerativeOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[GenerativeComment] = Field(min_length=0, max_length=10)


class CheckOutput(BaseModel):
    """The second pass: does the finding hold, given the rows and the facts?"""

    model_config = ConfigDict(extra="forbid")
    confirmed: bool
    reason: str = Field(min_length=8, max_length=400)


@dataclass(frozen=True, slots=True)
class GenerativeOutcome:
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


def item_rows(hunks: tuple[Hunk, ...]) -> tuple[list[Line], str]:
    """Every line of the item's hunks as rows numbered across hunks, and their text with a header
    line per hunk."""
    rows: list[Line] = []
    parts: list[str] = []
    for h in hunks:
        section = f" (in {h.section.strip()})" if h.section.strip() else ""
        parts.append(f"@@ new line {h.new_start}{section}")
        parts.append(render_rows(h.lines, start=len(rows) + 1))
        rows.extend(h.lines)
    return rows, "\n".join(parts)


def facts_text(path: str, hunks: tuple[Hunk, ...], most: int = FACTS_SHOWN) -> str:
    """The change facts of each hunk, one line each, under the hunk's header line."""
    out: list[str] = []
    shown = 0
    for h in hunks:
        facts = facts_for_hunk(h, path)[: max(0, most - shown)]
        shown += len(facts)
        if facts:
            out.append(f"@@ new line {h.new_start}")
            out.extend(f"- {f.sentence}" for f in facts)
    return "\n".join(out) or "- (no code tokens changed)"


def check_finding(
    backend: ModelBackend, item: WorkItem, c: ReviewComment, rows: list[Line]
) -> tuple[CheckOutput | None, int, int]:
    """The second, constrained pass: the finding re-read with its hunk's rows and facts; a yes/no
    with a reason (None when the answer was invalid twice)."""
    line, _ = place_line(c, rows)
    hunk = next((h for h in item.hunks if any(ln is line for ln in h.lines)), None)
    shown = list(hunk.lines) if hunk is not None else rows
    row = next(i for i, ln in enumerate(shown, 1) if ln is line)
    facts = facts_text(item.path, (hunk,) if hunk is not None else item.hunks)
    user = prompts.render(
        "review_check_user",
        path=item.path,
        rows=render_rows(shown),
        facts=facts,
        row=str(row),
        message=" ".join(c.message.split()),
    )
    messages = [
        {"role": "system", "content": prompts.render("review_system")},
        {"role": "user", "content": user},
    ]
    out, _error, p_tok, g_tok = ask(
        backend, messages, CheckOutput, CheckOutput.model_json_schema(), len(shown), CHECK_TOKENS
    )
    return out, p_tok, g_tok


def enclosing_code(changeset: ChangeSet, item: WorkItem, limit: int = CONTEXT_LINES) -> str | None:
    """The functions at head that hold the item's added lines, beyond what the rows show: only for a
    Python file the source can read at head (a git range or a checkout); None otherwise."""
    if changeset.read_head is None or not item.path.endswith(".py"):
        return None
    text = changeset.read_head(item.path)
    if not text:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    shown = {ln.number for h in item.hunks for ln in h.lines if ln.kind is not LineKind.REMOVED}
    added = {ln.number for h in item.hunks for ln in h.lines if ln.kind is LineKind.ADDED}
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
            span = range(node.lineno, node.end_lineno + 1)
            if added & set(span) and not set(span) <= shown:
                spans.append((node.lineno, node.end_lineno))
    inner = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    lines = text.splitlines()
    out: list[str] = []
    for lo, hi in sorted(set(inner)):
        if len(out) >= limit:
            break
        out.append(f"# {item.path}, lines {lo}-{hi} at head:")
        out.extend(lines[lo - 1 : min(hi, lo - 1 + limit - len(out))])
    return "\n".join(out) or None


def generative_review(
    backend: ModelBackend,
    item: WorkItem,
    changeset: ChangeSet,
    max_findings: int,
    max_new_tokens: int,
    route_probability: float | None = None,
) -> GenerativeOutcome:
    t0 = time.perf_counter()
    rows, text = item_rows(item.hunks)
    if not rows:
        return GenerativeOutcome(seconds=time.perf_counter() - t0)
    code = enclosing_code(changeset, item)
    context = (
        f"\nFor reference, the code around the change at head (not rows, do not point at it):\n{code}\n"
        if code
        else ""
    )
    messages = [
        {"role": "system", "content": prompts.render("review_system")},
        {
            "role": "user",
            "content": prompts.render(
                "review_generative_user",
                path=item.path,
                rows=text,
                context=context,
                most=str(max_findings),
                facts=facts_text(item.path, item.hunks),
            ),
        },
    ]
    schema = review_schema(len(rows), max_findings, GenerativeOutput)
    out, error, p_tok, g_tok = ask(
        backend, messages, GenerativeOutput, schema, len(rows), max_new_tokens * max(1, max_findings)
    )
    if out is None:
        where = f"{item.path}:{rows[0].number}"
        skip = Skipped(where, f"model output invalid twice ({error})", stage="route")
        return GenerativeOutcome((), (skip,), p_tok, g_tok, time.perf_counter() - t0)
    findings: list[Finding] = []
    unsure = rejected = unchecked = 0
    words = Words()
    for c in sorted(out.findings, key=lambda c: -c.confidence)[:max_findings]:
        if c.confidence < MIN_CONFIDENCE:
            unsure += 1
            continue
        verdict, cp, cg = check_finding(backend, item, c, rows)
        p_tok, g_tok = p_tok + cp, g_tok + cg
        if verdict is None or not verdict.confirmed:
            rejected += verdict is not None
            unchecked += verdict is None
            continue
        f = placed(item, c, rows, round(c.confidence, 4), route_probability, words=words)
        if all(g.location != f.location for g in findings):
            findings.append(f)
    notes = (
        [f"review: findings the model gave under {MIN_CONFIDENCE} confidence are left out"] if unsure else []
    )
    if rejected:
        notes.append(
            f"review: the check pass left out {rejected} finding(s) it did not confirm on re-reading"
        )
    if unchecked:
        notes.append(f"review: {unchecked} finding(s) left out: the check's answer was invalid twice")
    notes.extend(words.notes())
    return GenerativeOutcome(tuple(findings), (), p_tok, g_tok, time.perf_counter() - t0, tuple(notes))
