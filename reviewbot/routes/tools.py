"""The tools route: the model calls linters and the test runner on the change; their findings come back.

    ToolsRoute(backend, compose.default_registry(), max_rounds=3).run(item, changeset) -> RouteOutcome

Each round the model answers one JSON object under a schema (constrained decoding on the local
backend), ``{"calls": [{"name": <tool>, "arguments": {...}}], "done": bool}``, where ``name`` is an
enum of the tools offered, so a constrained model cannot name a tool outside the allow-list. The
tools are shown in the system message the way Qwen2.5's chat template renders its ``tools``
(``# Tools`` ... ``<tools>`` one JSON function spec a line ``</tools>``), and results come back
in a user turn of ``<tool_response>`` blocks, as that template renders ``tool`` messages. For a
backend without constrained output the answer may also be in the model family's own format:
Qwen2.5's ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks, or GLM-4/CodeGeeX4's
```` ```json ```` blocks holding ``[{"name": ..., "arguments": {...}}]``.

Arguments are validated against each tool's JSON schema (tools/base.py); an unknown tool or bad
arguments are fed back as that call's observation, and so is an answer that does not parse. An
identical call is not run twice in one review (its earlier result is reused). Observations are cut
to ``observation_chars`` each. At most ``max_rounds`` model answers; the route stops early when an
answer has no calls or says ``done``. Only tools that can run here are offered (``Registry.available``).

Findings: linters' findings are kept on added lines only (``filter_to_diff(..., "added")``); a
failing test is kept wherever runners/pytest_report.py placed it. A tool that could not run gives a
Skipped (stage "route"); so does an item whose every answer was invalid.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..backends.formats import family_calls
from ..diff import filter_to_diff
from ..model import ChangeSet, Finding, Skipped, WorkItem
from ..ports import Message, ModelBackend, RouteOutcome
from ..router import defuse, diff_text
from ..tools.base import Registry, ToolResult
from . import declined

__all__ = ["ToolCall", "ToolsAnswer", "ToolsRoute", "answer_schema", "parse_answer", "tools_block"]


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolsAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calls: list[ToolCall] = Field(default_factory=list)
    done: bool = False


def answer_schema(names: Sequence[str], max_calls: int) -> dict[str, Any]:
    """The JSON schema the model answers under: tool names are an enum, arguments any object
    (checked against the tool's own schema afterwards, so the grammar stays small)."""
    return {
        "type": "object",
        "properties": {
            "calls": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "enum": list(names)},
                        "arguments": {"type": "object"},
                    },
                    "required": ["name", "arguments"],
                    "additionalProperties": False,
                },
                "maxItems": max_calls,
            },
            "done": {"type": "boolean"},
        },
        "required": ["calls", "done"],
        "additionalProperties": False,
    }


def tools_block(registry: Registry) -> str:
    """One function spec per line, as Qwen2.5's template writes its ``tools`` between <tools> tags."""
    return "\n".join(json.dumps(t.spec(), ensure_ascii=False) for t in registry)


def _family_calls(text: str) -> list[ToolCall] | None:
    """Calls written in Qwen2.5's or GLM-4's own tool-call format; None when there are none."""
    raw = family_calls(text)
    return None if raw is None else [ToolCall.model_validate(item) for item in raw]


def parse_answer(text: str, max_calls: int) -> ToolsAnswer:
    """The model's answer; raises ValueError (with a one-line reason) when it is not valid."""
    try:
        answer = ToolsAnswer.model_validate_json(text.strip())
    except ValidationError as exc:
        try:
            calls = _family_calls(text)
        except (ValueError, ValidationError):
            calls = None
        if calls is None:
            raise ValueError(_first_error(exc)) from exc
        answer = ToolsAnswer(calls=calls, done=False)
    if len(answer.calls) > max_calls:
        raise ValueError(f"calls: at most {max_calls} calls per answer")
    return answer


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    where = ".".join(str(p) for p in e.get("loc", ()))
    return f"{where}: {e.get('msg')}" if where else str(e.get("msg"))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... ({len(text) - limit} more characters cut)"


def _quote(observation: str) -> str:
    """Tool output as data: no chat-template control sequences, no way to close the response block."""
    return defuse(observation).replace("</tool_response>", "< /tool_response>")


class ToolsRoute:
    name = "tools"

    def __init__(
        self,
        backend: ModelBackend,
        registry: Registry,
        *,
        max_rounds: int = 3,
        max_calls: int = 3,
        observation_chars: int = 1500,
        max_diff_chars: int = 6000,
        max_new_tokens: int = 200,
    ) -> None:
        if max_rounds < 1 or max_calls < 1:
            raise ValueError("max_rounds and max_calls must be at least 1")
        self.backend = backend
        self.registry = registry
        self.max_rounds = max_rounds
        self.max_calls = max_calls
        self.observation_chars = observation_chars
        self.max_diff_chars = max_diff_chars
        self.max_new_tokens = max_new_tokens
        self._offered: Registry | None = None
        self._results: dict[tuple[Any, ...], ToolResult] = {}

    def offered(self) -> Registry:
        """The tools that can run here (checked once: the check may start the sandbox)."""
        if self._offered is None:
            self._offered = self.registry.available()
        return self._offered

    def messages(self, item: WorkItem, changeset: ChangeSet, tools: Registry) -> list[Message]:
        paths = [f.path for f in changeset.files]
        files = ", ".join(paths[:30]) + (f" and {len(paths) - 30} more" if len(paths) > 30 else "")
        system = prompts.render("tools_system", tools=tools_block(tools), max_calls=str(self.max_calls))
        user = prompts.render(
            "tools_user",
            path=defuse(item.path),
            files=defuse(files),
            diff=defuse(diff_text(item, self.max_diff_chars)),
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        t0 = time.perf_counter()
        tools = self.offered()
        if not len(tools):
            missing = "; ".join(reason for _, reason in self.registry.unavailable()) or "no tools configured"
            skip = Skipped(item.path, f"no tool can run here ({missing})", "route")
            return RouteOutcome(not_reviewed=(skip,), seconds=time.perf_counter() - t0, declined=skip.reason)
        messages = self.messages(item, changeset, tools)
        schema = answer_schema(tools.names, self.max_calls)
        findings: list[Finding] = []
        skipped: list[Skipped] = []
        ran: list[str] = []
        notes: list[str] = []  # the tools' own (the sandbox's limits)
        seen: set[tuple[Any, ...]] = set()
        prompt_tokens = generated = 0
        valid = False
        error = ""
        for _round in range(self.max_rounds):
            gen = self.backend.generate(messages, schema=schema, max_tokens=self.max_new_tokens)
            prompt_tokens += gen.prompt_tokens
            generated += gen.generated_tokens
            messages = [*messages, {"role": "assistant", "content": gen.text}]
            try:
                answer = parse_answer(gen.text, self.max_calls)
            except ValueError as exc:
                error = str(exc)
                retry = f"That answer is invalid: {error}. Answer again with the JSON object."
                messages.append({"role": "user", "content": _quote(retry)})
                continue
            valid = True
            if not answer.calls:
                break
            blocks = []
            for call in answer.calls:
                observation = self._call(call, item, changeset, tools, findings, skipped, seen, notes)
                first = (
                    " | ".join(ln.strip() for ln in observation.splitlines() if ln.strip()) or "(no output)"
                )
                args = json.dumps(call.arguments, sort_keys=True) if call.arguments else ""
                ran.append(f"{item.id}: tools route called {call.name}{args}: {first[:300]}")
                blocks.append(
                    f"<tool_response>\n{_quote(_cut(observation, self.observation_chars))}\n</tool_response>"
                )
            messages.append({"role": "user", "content": "\n".join(blocks)})
            if answer.done:
                break
        if not valid:
            skipped.append(Skipped(item.path, f"model output invalid in every round ({error})", "route"))
        kept, why_not = tuple(_unique(findings)), tuple(_unique(skipped))
        return RouteOutcome(
            kept,
            why_not,
            prompt_tokens,
            generated,
            time.perf_counter() - t0,
            tuple(_unique([*ran, *notes])),
            declined=declined(kept, why_not),
        )

    def _call(
        self,
        call: ToolCall,
        item: WorkItem,
        changeset: ChangeSet,
        tools: Registry,
        findings: list[Finding],
        skipped: list[Skipped],
        seen: set[tuple[Any, ...]],
        notes: list[str],
    ) -> str:
        """Run one call (or reuse its result); record its findings; return the observation."""
        problem = tools.validate(call.name, call.arguments)
        if problem is not None:
            return f"error: {problem}"
        args = json.dumps(call.arguments, sort_keys=True)
        key = (changeset.description, changeset.head, changeset.workdir, call.name, args)
        again = key in seen
        seen.add(key)
        result = self._results.get(key)
        if result is None:
            result = tools.call(call.name, changeset, call.arguments)
            if not result.error:
                self._results[key] = result
        if result.error:
            return f"error: {result.observation}"
        if again:
            return f"(the same call was already made; its result again)\n{result.observation}"
        kept: Sequence[Finding] = result.findings
        if result.anchored_only:
            kept, _ = filter_to_diff(result.findings, changeset.files, "added")
        findings.extend(kept)
        notes.extend(n for n in result.notes if n not in notes)
        skipped.extend(
            Skipped(item.path if s.path == "*" else s.path, s.reason, "route") for s in result.skipped
        )
        return (
            f"{call.name}: {result.observation}"
            if not result.observation.startswith(call.name)
            else result.observation
        )


def _unique(items: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for it in items:
        if it not in out:
            out.append(it)
    return out
