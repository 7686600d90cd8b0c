"""What the local backend hands xgrammar: no maximum string lengths (slow to compile there) and no
minimum lengths beside a pattern (ignored there, with a warning on stderr); validation still
checks them."""

from __future__ import annotations

from reviewbot.backends.local import _for_xgrammar
from reviewbot.routes.review_answer import PointedOutput, ReviewOutput, review_schema


def test_string_bounds_that_xgrammar_handles_badly_are_left_to_validation() -> None:
    pointed = review_schema(4, 1, PointedOutput)
    props = _for_xgrammar(pointed)["$defs"]["PointedComment"]["properties"]
    assert props["code"] == {"title": "Code", "type": "string", "pattern": "^[^\\n]*$"}
    assert props["suggestion"]["anyOf"][0] == {"type": "string"}
    assert pointed["$defs"]["PointedComment"]["properties"]["code"]["maxLength"] > 0  # not mutated
    plain = review_schema(4, 1, ReviewOutput)
    assert _for_xgrammar(plain) == plain  # no maximum lengths there; the minimum lengths stay
    assert plain["$defs"]["ReviewComment"]["properties"]["message"]["minLength"] == 8
