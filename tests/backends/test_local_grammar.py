"""What the local backend hands xgrammar: a string's length bounds are left out where it also has
a pattern (xgrammar would ignore them with a warning on stderr); validation still checks them."""

from __future__ import annotations

from reviewbot.backends.local import _pattern_alone
from reviewbot.routes.review_answer import PointedOutput, ReviewOutput, review_schema


def test_length_bounds_beside_a_pattern_are_left_to_validation() -> None:
    pointed = review_schema(4, 1, PointedOutput)
    code = _pattern_alone(pointed)["$defs"]["PointedComment"]["properties"]["code"]
    assert code == {"title": "Code", "type": "string", "pattern": "^[^\\n]*$"}
    assert pointed["$defs"]["PointedComment"]["properties"]["code"]["maxLength"] > 0  # not mutated
    plain = review_schema(4, 1, ReviewOutput)
    assert _pattern_alone(plain) == plain  # no pattern: the minimum lengths stay
