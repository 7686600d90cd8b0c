"""The echo guard reads only the model's words: the change fact a model finding opens with quotes
the change on purpose and stays whole, while a model sentence that repeats the change is left out."""

from __future__ import annotations

from reviewbot.diff.parse import parse_diff
from reviewbot.model import ChangeSet, Finding, Location, Severity, Side
from reviewbot.pipeline.echo import guard_echoes

DIFF = (
    "--- a/t.py\n+++ b/t.py\n@@ -1,1 +1,1 @@\n"
    '-expected = "exclusive"\n'
    '+expected = "parameters are mutually exclusive: string one, box fox"\n'
)
FACT = 'The constant `"exclusive"` became `"parameters are mutually exclusive: string one, box fox"`.'


def finding(message: str, fact: str = FACT, said: str | None = None) -> Finding:
    where = Location("t.py", Side.RIGHT, 1)
    return Finding(where, Severity.WARNING, message, "review/bug", "review", said=said, fact=fact)


def test_the_fact_stays_whole_and_an_echoed_model_sentence_goes() -> None:
    cs = ChangeSet(parse_diff(DIFF), "test")
    said = "The test now expects `parameters`. Parameters are mutually exclusive."
    (f,), notes = guard_echoes([finding(FACT + " " + said, said=said)], cs)
    assert f.message == FACT + " The test now expects `parameters`."
    assert notes and "repeat the change's own text" in notes[0]
    (g,), notes = guard_echoes([finding(FACT, said="The message is wrong now.")], cs)
    assert g.message == FACT and notes == []


def test_a_finding_whose_own_sentence_only_echoed_the_change_goes_as_before() -> None:
    """Whether to comment is decided as before the fact was put first."""
    cs = ChangeSet(parse_diff(DIFF), "test")
    out, notes = guard_echoes([finding(FACT, said="Parameters are mutually exclusive.")], cs)
    assert out == [] and "dropped" in notes[0]


def test_without_a_fact_an_echo_alone_still_drops_the_finding() -> None:
    cs = ChangeSet(parse_diff(DIFF), "test")
    out, notes = guard_echoes([finding("Parameters are mutually exclusive.", fact="")], cs)
    assert out == [] and "dropped" in notes[0]
