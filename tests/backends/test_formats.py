"""Prompt formats per model family (backends/formats.py): render and parse each.

Qwen2.5 is compared byte for byte with the chat template shipped with the embedded model (rendered by
transformers' own jinja environment). GLM-4's tokenizer files cannot be had here: its format is
compared with GLM-4's template string (glm-4-9b-chat's tokenizer_config.json, its generic part, as
llama.cpp's chat-template tests carry it) rendered with jinja2, and with that test's expected text.
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import pytest

from reviewbot.backends.formats import GLM4, QWEN25, detect
from reviewbot.errors import ModelError

MODEL_DIRS = sorted(glob.glob(os.path.expanduser("~/.cache/reviewbot/models/*/bf16")))

# GLM-4's template without its built-in tool descriptions (the `tools` branch is the one CodeGeeX4
# does not use: it passes tools as a `tool` message instead).
GLM4_TEMPLATE = (
    "[gMASK]<sop>{% for item in messages %}{% if item['content'] %}<|{{ item['role'] }}|>"
    "{{ item['metadata'] }}\n{{ item['content'] }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]
GLM4_EXPECTED = (  # llama.cpp tests/test-chat-template.cpp, "ChatGLM4"
    "[gMASK]<sop><|system|>\nYou are a helpful assistant<|user|>\nHello<|assistant|>\nHi there<|user|>\n"
    "Who are you<|assistant|>\n   I am an assistant   <|user|>\nAnother question<|assistant|>"
)
RUFF = {
    "type": "function",
    "function": {
        "name": "ruff",
        "description": "Lint Python files with ruff.",
        "parameters": {
            "type": "object",
            "properties": {"paths": {"type": "array", "items": {"type": "string"}}},
        },
    },
}
CALLS = [{"name": "ruff", "arguments": {"paths": ["app/ü.py"]}}, {"name": "pytest", "arguments": {}}]
WITH_TOOLS = [
    {"role": "system", "content": "You review code."},
    {"role": "user", "content": "Check app/ü.py"},
    {"role": "assistant", "content": "", "tool_calls": CALLS},
    {"role": "tool", "content": "app/ü.py:1:1: F401 `os` imported but unused"},
    {"role": "tool", "content": "1 passed"},
    {"role": "user", "content": "Anything else?"},
]


@pytest.fixture(scope="module")
def qwen_tokenizer():
    pytest.importorskip("transformers")
    if not MODEL_DIRS:
        pytest.skip("the embedded model is not converted on this machine (reviewbot model prepare)")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(MODEL_DIRS[0], local_files_only=True)


@pytest.mark.parametrize(
    ("messages", "tools", "gen"),
    [
        (CONVERSATION, None, True),
        (CONVERSATION[1:], None, True),  # no system message: Qwen's default one
        (WITH_TOOLS, [RUFF], True),
        (WITH_TOOLS[1:], [RUFF], False),
        (WITH_TOOLS, None, True),
    ],
)
def test_qwen25_renders_exactly_as_its_chat_template(qwen_tokenizer, messages, tools, gen) -> None:
    ours = QWEN25.render(messages, tools=tools, add_generation_prompt=gen)
    theirs = qwen_tokenizer.apply_chat_template(
        messages, tools=tools, tokenize=False, add_generation_prompt=gen
    )
    assert ours == theirs


def test_glm4_renders_as_its_template_and_llama_cpp_expects() -> None:
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment()
    rendered = env.from_string(GLM4_TEMPLATE).render(
        messages=[{**m, "metadata": ""} for m in CONVERSATION], add_generation_prompt=True
    )
    assert rendered == GLM4_EXPECTED
    assert GLM4.render(CONVERSATION) == GLM4_EXPECTED
    assert GLM4.render(CONVERSATION).count("[gMASK]<sop>") == 1  # once; encode with add_special_tokens=False


def test_glm4_tools_are_a_tool_message_and_calls_a_json_block() -> None:
    text = GLM4.render(WITH_TOOLS[:3], tools=[RUFF], add_generation_prompt=False)
    head = "[gMASK]<sop><|system|>\nYou review code.<|tool|>\n"
    assert text.startswith(head)
    spec = json.loads(text[len(head) : text.index("<|user|>")])
    assert spec == {"function": [RUFF["function"]]}
    assert text.endswith(
        '<|assistant|>\n```json\n[{"name": "ruff", "arguments": {"paths": ["app/ü.py"]}}, '
        '{"name": "pytest", "arguments": {}}]\n```'
    )
    observed = GLM4.render([*WITH_TOOLS[:3], GLM4.result_message("1 passed")])
    assert observed.endswith("<|observation|>\n```result\n1 passed\n```<|assistant|>")


@pytest.mark.parametrize("fmt", [QWEN25, GLM4], ids=["qwen2.5", "glm4"])
def test_calls_written_in_the_family_format_parse_back(fmt) -> None:
    text = fmt.calls_text(CALLS)
    assert fmt.parse_calls(text) == [(c["name"], c["arguments"]) for c in CALLS]


def test_model_answers_in_each_format_parse() -> None:
    qwen = (
        'I will lint it.\n<tool_call>\n{"name": "ruff", "arguments": {"paths": ["a.py"]}}\n'
        "</tool_call><|im_end|>"
    )
    glm = (
        'Let me run the linter.\n```json\n[{"name": "ruff", "arguments": {"paths": ["a.py"]}}]\n'
        "```<|observation|>"
    )
    assert QWEN25.parse_calls(qwen) == [("ruff", {"paths": ["a.py"]})]
    assert GLM4.parse_calls(glm) == [("ruff", {"paths": ["a.py"]})]
    # arguments as a JSON string (OpenAI's tool_calls shape) are accepted too
    assert GLM4.parse_calls('```json\n[{"name": "ruff", "arguments": "{\\"paths\\": []}"}]\n```') == [
        ("ruff", {"paths": []})
    ]
    with pytest.raises(ValueError):
        GLM4.parse_calls("No tool is needed here.")


def test_detect_from_template_config_or_name() -> None:
    if MODEL_DIRS:
        assert detect(chat_template=(Path(MODEL_DIRS[0]) / "chat_template.jinja").read_text()) is QWEN25
    assert detect(chat_template=GLM4_TEMPLATE) is GLM4
    assert detect(config={"model_type": "chatglm", "architectures": ["ChatGLMModel"]}) is GLM4
    assert detect(config={"model_type": "glm4"}) is GLM4
    assert detect(config={"model_type": "qwen2"}) is QWEN25
    assert detect(model_name="THUDM/codegeex4-all-9b") is GLM4
    assert detect(model_name="Qwen/Qwen2.5-Coder-7B-Instruct-AWQ") is QWEN25
    with pytest.raises(ModelError, match="unknown prompt format for llama"):
        detect(config={"model_type": "llama"})


def test_openai_backend_sends_glm_stop_tokens_by_the_served_model_name() -> None:
    from support.openai_standin import StandIn

    from reviewbot.backends.openai import GLM_STOP_TOKEN_IDS, OpenAIBackend

    for name, expected in (("codegeex4-all-9b", list(GLM_STOP_TOKEN_IDS)), ("qwen2.5-coder-7b", None)):
        with StandIn(model=name) as server, OpenAIBackend(server.url, name) as b:
            b.generate([{"role": "user", "content": "hi"}], max_tokens=4)
            body = server.requests[-1][3]
        assert body.get("stop_token_ids") == expected, name
