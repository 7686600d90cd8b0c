"""The `fake` backend: scripted answers, for tests only. It records every call it gets.

`generate` answers come from `texts` in order (a callable gets the messages and the schema);
`choose` answers from `choices` (label -> probability tables, or a callable), and when none are
scripted it prefers the first label with probability 0.5 + nothing else; `score` from `scores`.
It runs out loudly: a test that asks more than it scripted fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..errors import ModelError
from ..ports import Choice, Generation, Message, Scored
from ..tokens import estimate_tokens

TextScript = Sequence[str] | Callable[[Sequence[Message], Mapping | None], str]
ChoiceScript = (
    Sequence[Mapping[str, float]] | Callable[[Sequence[Message], Sequence[str]], Mapping[str, float]]
)


class FakeBackend:
    name = "fake"
    model_id = "fake"

    def __init__(
        self,
        texts: TextScript = (),
        choices: ChoiceScript | None = None,
        scores: Callable[[Sequence[Message], str], Scored] | None = None,
    ) -> None:
        self._texts = texts if callable(texts) else list(texts)
        self._choices = choices if callable(choices) or choices is None else list(choices)
        self._scores = scores
        self.calls: list[tuple[str, object]] = []

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

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
