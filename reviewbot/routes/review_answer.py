"""What both review strategies share: the numbered rows the model reads, the JSON it writes under a
schema, validation with one retry, and the placement of each answer on an exact changed line.

Rows map to exact (side, line) pairs of the diff and the quoted code is checked against the rows,
so a model's line numbers are never trusted blindly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..model import Finding, Line, LineKind, Location, Severity, Side, WorkItem
from ..ports import Message, ModelBackend
from .review_comment import Words, compose, run_of, suggestion_fits

MARK = {LineKind.ADDED: "+", LineKind.REMOVED: "-", LineKind.CONTEXT: " "}
QUOTE_CHARS = 160  # the grammar's bound on the quoted code under PointedOutput
FIX_CHARS = 320  # and on the fix: a row's worth of code, or a few lines
Category = Literal["bug", "security", "error-handling", "performance", "api-misuse"]


class ReviewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    row: int = Field(ge=1)
    severity: Literal["warning", "error"]
    category: Category
    message: str = Field(min_length=8, max_length=500)
    code: str = Field(max_length=300)
    suggestion: str | None = Field(default=None, max_length=1000)


class ReviewOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[ReviewComment] = Field(min_length=1, max_length=3)


class PointedComment(ReviewComment):
    # What the likelihood strategy asks for (review.py): the row, the code it holds, a fix; no
    # sentence, since nothing would check it true (the comment states the change fact alone). An
    # answer that carries one anyway (a server ignoring the schema) is read, not posted.
    message: str = Field(default="", max_length=500)


class PointedOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[PointedComment] = Field(min_length=1, max_length=3)


def review_schema(rows: int, max_findings: int, output: type[BaseModel] = ReviewOutput) -> dict:
    """The JSON schema the model writes under; `row` is bounded by the rows shown.

    Maximum string lengths are left to validation (the pydantic model) and to the token limit: a
    maxLength of 240 makes xgrammar's compile take about 3.5 s here, against 0.16 s for the
    minimum lengths, which stay in the grammar. Under `PointedOutput` the model writes no sentence
    and `code` is one line (a quote of several rows matches none of them: `locate`) of at most
    QUOTE_CHARS, the fix at most FIX_CHARS: bounds that llguidance keeps at no cost and that the
    local backend leaves to validation (its xgrammar compiles them slowly).
    """
    schema = output.model_json_schema()
    (item,) = schema["$defs"].values()
    for prop in item["properties"].values():
        for part in (prop, *prop.get("anyOf", ())):
            part.pop("maxLength", None)
    if output is PointedOutput:
        del item["properties"]["message"]
        # one line, and no longer than a quote needs to be: a model that cannot end a line loops
        # inside it instead (seen on requests v2.32.3: 200 tokens of the same key and value); a fix
        # is bounded too (a model that closed the JSON inside the string looped on after it)
        item["properties"]["code"].update(pattern="^[^\\n]*$", maxLength=QUOTE_CHARS)
        item["properties"]["suggestion"]["anyOf"][0]["maxLength"] = FIX_CHARS
    item["properties"]["row"]["maximum"] = rows
    schema["properties"]["findings"]["maxItems"] = max_findings
    return schema


def render_rows(rows: Sequence[Line], start: int = 1) -> str:
    return "\n".join(f"R{i} {MARK[ln.kind]} {ln.text}" for i, ln in enumerate(rows, start))


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
    removed, added = run_of(line, rows)
    if not added:
        return line
    return added[min(removed.index(line), len(added) - 1)]


T = TypeVar("T", bound=BaseModel)


def ask(
    backend: ModelBackend,
    messages: list[Message],
    output: type[T],
    schema: dict,
    rows: int,
    max_tokens: int,
) -> tuple[T | None, str, int, int]:
    """The model's answer under ``schema``, validated as ``output``; an invalid answer is sent back
    once with the error. Returns (answer or None, the last error, prompt tokens, generated tokens)."""
    prompt_tokens = generated = 0
    error = ""
    for _attempt in range(2):
        gen = backend.generate(messages, schema=schema, max_tokens=max_tokens)
        prompt_tokens += gen.prompt_tokens
        generated += gen.generated_tokens
        try:
            out = output.model_validate_json(gen.text)
            if any(c.row > rows for c in getattr(out, "findings", ())):
                raise ValueError(f"row must be between 1 and {rows}")
            return out, "", prompt_tokens, generated
        except (ValidationError, ValueError) as exc:
            error = _first_error(exc)
            messages = [
                *messages,
                {"role": "assistant", "content": gen.text},
                {
                    "role": "user",
                    "content": f"That answer is invalid: {error}. Answer again in the required JSON.",
                },
            ]
    return None, error, prompt_tokens, generated


def place_line(c: ReviewComment, rows: list[Line]) -> tuple[Line, str | None]:
    """The changed row a comment lands on: its quoted code, then the nearest change, then the new
    code that replaced a removed row; and a note when the quote corrected the model's row."""
    line, note = locate(c, rows)
    return onto_new_code(snap_to_change(line, rows), rows), note


def placed(
    item: WorkItem,
    c: ReviewComment,
    rows: list[Line],
    confidence: float | None,
    route_probability: float | None,
    to_note: Callable[[str], None] | None = None,
    words: Words | None = None,
) -> Finding:
    """The finding of one comment, on the changed line it is about (new code before old); its
    message is the change fact (over the line's whole hunk), then the model's sentence when it is
    grounded and the model speaks (review_comment)."""
    named, note = locate(c, rows)
    changed = snap_to_change(named, rows)
    line = onto_new_code(changed, rows)
    if note and to_note:
        to_note(note)
    # the fix is for the row the model named (or the new code that replaced it): not for another
    # changed line that a comment on an unchanged row moved to
    offered = c.suggestion if changed is named and line.side is Side.RIGHT and c.suggestion else None
    return finding_on(
        item,
        line,
        rows,
        confidence,
        route_probability,
        words,
        severity=c.severity,
        category=c.category,
        said=c.message,
        offered=offered,
    )


def finding_on(
    item: WorkItem,
    line: Line,
    rows: list[Line],
    confidence: float | None,
    route_probability: float | None,
    words: Words | None,
    *,
    severity: str,
    category: str = "bug",
    said: str = "",
    offered: str | None = None,
) -> Finding:
    """The model's finding on ``line``: the change fact over the line's hunk (then ``said``, the
    model's sentence, where it is grounded and the model speaks), and ``offered`` where it fits."""
    message, fact = compose(item.path, line, hunk_of(item, line, rows), said, words)
    return Finding(
        location=Location(item.path, line.side, line.number),
        severity=Severity(severity),
        message=message,
        rule=f"review/{category}",
        route="review",
        category=category,
        suggestion=suggestion_fits(offered, line, item.path, words),
        route_probability=route_probability,
        confidence=confidence,
        source="model",
        said=said.strip() or None,
        fact=fact,
    )


def hunk_of(item: WorkItem, line: Line, rows: list[Line]) -> list[Line]:
    """Every row of the hunk that holds ``line`` (the fact is composed over the whole hunk, as a
    reader sees it: a block moved within the hunk is not "added"), else the rows shown."""
    for h in item.hunks:
        if any(x is line for x in h.lines):
            return list(h.lines)
    return rows


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e.get("loc", ()))
        return f"{where}: {e.get('msg')}" if where else str(e.get("msg"))
    return str(exc).splitlines()[0]
