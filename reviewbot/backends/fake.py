"""The `fake` backend: scripted answers, for tests only. It records every call it gets.

`generate` answers come from `texts` in order (a callable gets the messages and the schema);
`choose` answers from `choices` (label -> probability tables, or a callable), and when none are
scripted it prefers the first label with probability 0.5 + nothing else; `score` from `scores`.
It runs out loudly: a test that asks more than it scripted fails.

It answers as a real backend would: under `generate(schema=...)` a scripted answer must conform to
the schema (a constrained decoder cannot write anything else; `constrained=False` is a server that
applies no constraint, whose answers the routes validate themselves), else ScriptError; and the
text is cut to at most `max_tokens` tokens by `count_tokens`, as a model stops there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from ..errors import ModelError
from ..ports import Choice, Generation, Message, Scored
from ..tokens import estimate_tokens

TextScript = Sequence[str] | Callable[[Sequence[Message], Mapping | None], str]
ChoiceScript = (
    Sequence[Mapping[str, float]] | Callable[[Sequence[Message], Sequence[str]], Mapping[str, float]]
)


class ScriptError(AssertionError):
    """A scripted answer that no constrained backend could give: the test's script is wrong."""


def check_answer(text: str, schema: Mapping) -> None:
    """ScriptError unless `text` is JSON valid against `schema`."""
    import jsonschema

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ScriptError(f"fake backend: scripted answer is not JSON ({exc}): {text[:200]!r}") from exc
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ScriptError(
            f"fake backend: scripted answer does not match the schema at {where}: {exc.message}"
        ) from exc


class FakeBackend:
    name = "fake"
    model_id = "fake"

    def __init__(
        self,
        texts: TextScript = (),
        choices: ChoiceScript | None = None,
        scores: Callable[[Sequence[Message], str], Scored] | None = None,
        *,
        constrained: bool = True,
    ) -> None:
        self._texts = texts if callable(texts) else list(texts)
        self._choices = choices if callable(choices) or choices is None else list(choices)
        self._scores = scores
        self.constrained = constrained
        self.calls: list[tuple[str, object]] = []

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _cut(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` within `max_tokens` tokens."""
        if self.count_tokens(text) <= max_tokens:
            return text
        lo, hi = 0, len(text)  # count_tokens(text[:lo]) <= max_tokens < count_tokens(text[:hi])
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self.count_tokens(text[:mid]) <= max_tokens else (lo, mid)
        return text[:lo]

    def generate(
        self, messages: Sequence[Message], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> Generation:
        self.calls.append(("generate", messages))
        if callable(self._texts):
            text = self._texts(messages, schema)
        elif self._texts:
            text = self._texts.pop(0)
        else:
            raise ModelError("fake backend: no scripted answer left for generate()")
        if schema is not None and self.constrained:
            check_answer(text, schema)
        text = self._cut(text, max_tokens)
        prompt = sum(estimate_tokens(m["content"]) for m in messages)
        return Generation(text, prompt, estimate_tokens(text), 0.0, None)

    def choose(self, messages: Sequence[Message], labels: Sequence[str]) -> Choice:
        self.calls.append(("choose", messages))
        if self._choices is None:
            table = {lb: (1.0 if i == 0 else 0.0) for i, lb in enumerate(labels)}
        elif callable(self._choices):
            table = dict(self._choices(messages, labels))
        elif self._choices:
            table = dict(self._choices.pop(0))
        else:
            raise ModelError("fake backend: no scripted answer left for choose()")
        total = sum(table.get(lb, 0.0) for lb in labels) or 1.0
        probs = {lb: table.get(lb, 0.0) / total for lb in labels}
        best = max(labels, key=probs.__getitem__)
        prompt = sum(estimate_tokens(m["content"]) for m in messages)
        return Choice(best, probs[best], probs, prompt, 0.0)

    def score(self, messages: Sequence[Message], continuation: str) -> Scored | None:
        self.calls.append(("score", messages))
        return self._scores(messages, continuation) if self._scores else None
