"""FakeBackend answers as a real backend would: within the schema and within max_tokens."""

from __future__ import annotations

import pytest

from reviewbot.backends.fake import FakeBackend, ScriptError

SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer", "maximum": 3}},
    "required": ["n"],
    "additionalProperties": False,
}
ASK = [{"role": "user", "content": "go"}]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not JSON"),
        ('{"n": 9}', "at n: 9 is greater than the maximum of 3"),
        ("{}", "at (top): 'n' is a required property"),
        ('{"n": 1, "x": 0}', "Additional properties"),
    ],
)
def test_an_answer_outside_the_schema_is_a_script_error(text: str, words: str) -> None:
    with pytest.raises(ScriptError, match="fake backend") as err:
        FakeBackend([text]).generate(ASK, schema=SCHEMA)
    assert words in str(err.value)


def test_conforming_answers_and_answers_without_a_schema_pass() -> None:
    b = FakeBackend(['{"n": 2}', "free text"])
    assert b.generate(ASK, schema=SCHEMA).text == '{"n": 2}'
    assert b.generate(ASK).text == "free text"
    assert FakeBackend(lambda messages, schema: '{"n": 3}').generate(ASK, schema=SCHEMA).text == '{"n": 3}'


def test_an_unconstrained_fake_returns_what_it_was_given() -> None:
    assert FakeBackend(['{"n": 9}'], constrained=False).generate(ASK, schema=SCHEMA).text == '{"n": 9}'


@pytest.mark.parametrize("max_tokens", [1, 2, 5, 10, 100])
def test_the_answer_stops_at_max_tokens(max_tokens: int) -> None:
    text = "word " * 20  # 100 characters, 29 tokens by the estimate
    b = FakeBackend([text])
    g = b.generate(ASK, max_tokens=max_tokens)
    assert text.startswith(g.text)
    assert g.generated_tokens == b.count_tokens(g.text) <= max_tokens
    if max_tokens < b.count_tokens(text):
        assert b.count_tokens(text[: len(g.text) + 1]) > max_tokens  # the longest prefix that fits
    else:
        assert g.text == text


def test_a_cut_answer_may_no_longer_be_json_as_with_a_real_model() -> None:
    g = FakeBackend(['{"n": 1}']).generate(ASK, schema=SCHEMA, max_tokens=1)
    assert g.text == '{"n'
