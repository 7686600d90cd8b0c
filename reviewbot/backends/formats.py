"""Prompt formats per model family: how a chat (with tools, tool calls and tool results) becomes the
model's text, and how the model's tool calls are read back. Pure functions; no tokenizer needed.

- ``QWEN25``: Qwen2.5 and Qwen2.5-Coder (the embedded model). ``<|im_start|>role\\n...<|im_end|>``;
  tools in the system turn between ``<tools>`` tags, one JSON spec a line; the model calls
  ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``; results come back in a user
  turn of ``<tool_response>`` blocks. Byte for byte the chat template shipped with the model
  (tests/backends/test_formats.py renders both and compares).
- ``GLM4``: GLM-4-9B-chat and CodeGeeX4-ALL-9B. ``[gMASK]<sop>`` once, then ``<|role|>\\n{content}``
  per message with nothing between messages, and ``<|assistant|>`` to start the answer (the model
  writes the newline after it). That is GLM-4's own chat template (tokenizer_config.json of
  glm-4-9b-chat, as llama.cpp's template tests render it). ../shared/guide/FACTS.md writes a
  newline after each message and after ``<|assistant|>``: the template wins (FACTS.md says the
  documentation does). Tools, CodeGeeX4's way: a message with role ``tool`` whose content is
  ``{"function": [{name, description, parameters}, ...]}``; the model answers with a ```` ```json ````
  block holding ``[{"name": ..., "arguments": {...}}]`` and ends its turn with ``<|observation|>``;
  the result comes back in an ``<|observation|>`` turn as a ```` ```result ```` block. The
  tokenizer adds ``[gMASK]<sop>`` itself when it encodes with special tokens: encode this text
  with ``add_special_tokens=False`` (never twice). vLLM needs ``stop_token_ids=GLM_STOP_TOKEN_IDS``.

``detect`` picks the family from a chat template, a config.json or a model name. Reading the calls
back: `family_calls`, the one parser of both families' blocks (the tools route uses it too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError

GLM_STOP_TOKEN_IDS = (151329, 151336, 151338)  # <|endoftext|>, <|user|>, <|observation|>
QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
QWEN_TOOLS_INTRO = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
QWEN_TOOLS_OUTRO = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}'
    "\n</tool_call><|im_end|>\n"
)

Chat = Sequence[Mapping[str, Any]]  # {"role", "content", optional "tool_calls": [{"name", "arguments"}]}


def _tojson(value: Any) -> str:
    """The chat templates' `tojson` filter (transformers: json.dumps, ensure_ascii=False)."""
    return json.dumps(value, ensure_ascii=False)


def _call(call: Mapping[str, Any]) -> Mapping[str, Any]:
    return call["function"] if "function" in call else call


@dataclass(frozen=True, slots=True)
class ChatFormat:
    name: str
    stop: tuple[str, ...]  # strings that end the model's turn
    stop_token_ids: tuple[int, ...] = ()

    # ------------------------------------------------------------------ render
    def render(
        self, messages: Chat, *, tools: Sequence[Mapping] | None = None, add_generation_prompt: bool = True
    ) -> str:
        if self.name == "qwen2.5":
            return _render_qwen(messages, tools, add_generation_prompt)
        return _render_glm(messages, tools, add_generation_prompt)

    def calls_text(self, calls: Sequence[Mapping[str, Any]]) -> str:
        """How this family's model writes the given calls (for an assistant turn in the history)."""
        if self.name == "qwen2.5":
            return "\n".join(
                f'<tool_call>\n{{"name": "{_call(c)["name"]}", '
                f'"arguments": {_tojson(_call(c)["arguments"])}}}\n</tool_call>'
                for c in calls
            )
        body = _tojson([{"name": _call(c)["name"], "arguments": _call(c)["arguments"]} for c in calls])
        return f"```json\n{body}\n```"

    def result_message(self, result: str) -> dict[str, str]:
        """A tool's result as the message this family expects back."""
        if self.name == "qwen2.5":
            return {"role": "tool", "content": result}
        return {"role": "observation", "content": f"```result\n{result}\n```"}

    # ------------------------------------------------------------------ parse
    def parse_calls(self, text: str, max_calls: int = 8) -> list[tuple[str, dict[str, Any]]]:
        """The (name, arguments) calls in the model's answer; ValueError with a one-line reason when
        it holds none that parse. GLM-4's answer may end with <|observation|> (cut here)."""
        for s in self.stop:
            text = text.split(s, 1)[0]
        try:
            raw = family_calls(text)
        except ValueError as exc:
            raise ValueError(f"tool calls do not parse: {exc}") from exc
        if raw is None:
            raise ValueError("no tool call in the answer (<tool_call> or ```json blocks)")
        calls = []
        for item in raw:
            name, args = item.get("name"), item.get("arguments", {})
            if not isinstance(name, str) or not isinstance(args, dict):
                raise ValueError(f"a tool call needs a string name and an object of arguments; got {item!r}")
            calls.append((name, args))
        if len(calls) > max_calls:
            raise ValueError(f"calls: at most {max_calls} calls per answer")
        return calls


_QWEN_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)
_JSON_BLOCK = re.compile(r"```json\s*(.*?)```", re.DOTALL)


def family_calls(text: str) -> list[dict[str, Any]] | None:
    """Calls written in Qwen2.5's (`<tool_call>{...}</tool_call>`) or GLM-4's (```` ```json ````
    blocks) own format, as dicts with `arguments` decoded when given as a JSON string; None when the
    text holds none. ValueError (json's) when a block is not JSON."""
    raw: list[Any] = [json.loads(block) for block in _QWEN_CALL.findall(text)]
    if not raw:
        for block in _JSON_BLOCK.findall(text):
            data = json.loads(block)
            raw.extend(data if isinstance(data, list) else [data])
    if not raw:
        return None
    return [
        {**item, "arguments": json.loads(item["arguments"])}
        if isinstance(item, dict) and isinstance(item.get("arguments"), str)
        else item
        for item in raw
    ]


def _render_qwen(messages: Chat, tools: Sequence[Mapping] | None, gen: bool) -> str:
    out: list[str] = []
    first_system = bool(messages) and messages[0]["role"] == "system"
    if tools:
        out.append("<|im_start|>system\n" + (messages[0]["content"] if first_system else QWEN_DEFAULT_SYSTEM))
        out.append(QWEN_TOOLS_INTRO + "".join("\n" + _tojson(t) for t in tools) + QWEN_TOOLS_OUTRO)
    elif first_system:
        out.append(f"<|im_start|>system\n{messages[0]['content']}<|im_end|>\n")
    else:
        out.append(f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n")
    for i, m in enumerate(messages):
        role = m["role"]
        if (
            role == "user"
            or (role == "system" and i > 0)
            or (role == "assistant" and not m.get("tool_calls"))
        ):
            out.append(f"<|im_start|>{role}\n{m['content']}<|im_end|>\n")
        elif role == "assistant":
            out.append("<|im_start|>assistant" + (f"\n{m['content']}" if m.get("content") else ""))
            for c in m["tool_calls"]:
                c = _call(c)
                out.append(
                    f'\n<tool_call>\n{{"name": "{c["name"]}", '
                    f'"arguments": {_tojson(c["arguments"])}}}\n</tool_call>'
                )
            out.append("<|im_end|>\n")
        elif role == "tool":
            if i == 0 or messages[i - 1]["role"] != "tool":
                out.append("<|im_start|>user")
            out.append(f"\n<tool_response>\n{m['content']}\n</tool_response>")
            if i == len(messages) - 1 or messages[i + 1]["role"] != "tool":
                out.append("<|im_end|>\n")
    if gen:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def _render_glm(messages: Chat, tools: Sequence[Mapping] | None, gen: bool) -> str:
    out = ["[gMASK]<sop>"]
    chat = list(messages)
    if tools:  # CodeGeeX4: the tools as a `tool` message in the history, after the system prompt
        functions = [dict(t.get("function", t)) for t in tools]
        spec = {"role": "tool", "content": _tojson({"function": functions})}
        at = 1 if chat and chat[0]["role"] == "system" else 0
        chat.insert(at, spec)
    for m in chat:
        content = m.get("content") or ""
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = GLM4.calls_text(m["tool_calls"])
            content = f"{content}\n{calls}" if content else calls
        if content:  # the template skips empty messages
            out.append(f"<|{m['role']}|>{m.get('metadata', '')}\n{content}")
    if gen:
        out.append("<|assistant|>")
    return "".join(out)


QWEN25 = ChatFormat("qwen2.5", stop=("<|im_end|>", "<|endoftext|>"))
GLM4 = ChatFormat(
    "glm4", stop=("<|user|>", "<|observation|>", "<|endoftext|>"), stop_token_ids=GLM_STOP_TOKEN_IDS
)
FORMATS = {"qwen2.5": QWEN25, "glm4": GLM4}


def detect(
    *,
    chat_template: str | None = None,
    config: Mapping[str, Any] | None = None,
    model_name: str | None = None,
) -> ChatFormat:
    """The family from the chat template (most reliable), else config.json, else the model's name."""
    if chat_template:
        if "<|im_start|>" in chat_template:
            return QWEN25
        if "[gMASK]" in chat_template or "<|observation|>" in chat_template:
            return GLM4
    if config:
        kind = str(config.get("model_type", "")).lower()
        archs = " ".join(map(str, config.get("architectures") or ())).lower()
        if kind in ("chatglm", "glm", "glm4") or "chatglm" in archs or "glm4" in archs:
            return GLM4
        if kind in ("qwen2", "qwen2_moe") or "qwen2" in archs:
            return QWEN25
    if model_name:
        low = model_name.lower()
        if "codegeex4" in low or "glm-4" in low or "glm4" in low:
            return GLM4
        if "qwen2.5" in low or "qwen2" in low:
            return QWEN25
    seen = model_name or (config or {}).get("model_type") or "this model"
    raise ModelError(f"unknown prompt format for {seen}: reviewbot knows {', '.join(FORMATS)}")
