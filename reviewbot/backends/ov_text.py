"""The embedded model's text side for the OpenVINO backend: the tokenizer (the `tokenizers`
library) and the chat template (jinja2) read from the verified cache, the tokens that end an
answer, and the JSON schema as llguidance is given it. No openvino, no numpy."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..ports import Message
from . import decoding


def strict_schema(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that does not say otherwise."""
    if isinstance(schema, dict):
        out = {k: strict_schema(v) for k, v in schema.items()}
        if out.get("type") == "object" and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict_schema(v) for v in schema]
    return schema


class Text:
    """The tokenizer (the `tokenizers` library) and the chat template (jinja2), from the cache."""

    def __init__(self, tokenizer_json: str, template: str) -> None:
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        from tokenizers import Tokenizer

        self.json = tokenizer_json
        self.tok = Tokenizer.from_str(tokenizer_json)
        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
        )
        env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False, **kw)
        self.template = env.from_string(template)
        self.specials = tuple(
            t.content for t in self.tok.get_added_tokens_decoder().values() if len(t.content) > 1
        )

    def prompt(self, messages: Sequence[Message]) -> list[int]:
        safe = [{**m, "content": decoding.defuse(m["content"], self.specials)} for m in messages]
        text = self.template.render(messages=safe, tools=None, add_generation_prompt=True)
        return self.tok.encode(text, add_special_tokens=False).ids

    def encode(self, text: str) -> Any:
        """Plain text: special-token spellings in it are text, as the local backend's score reads them."""
        self.tok.encode_special_tokens = True
        try:
            return self.tok.encode(text, add_special_tokens=False)
        finally:
            self.tok.encode_special_tokens = False


def eos_of(arch: Mapping[str, Any], text: Text) -> set[int]:
    """The tokens that end an answer: the model's EOS and the chat template's end of turn."""
    return {*arch["eos"], text.tok.token_to_id("<|im_end|>") or arch["eos"][0]}
