"""`reviewbot eval`'s words: of the model's comments, how many are grounded, fragments, prompt copies;
and the same for the model's own sentences before the fact was put first."""

from __future__ import annotations

from pathlib import Path

from reviewbot.evaluation.cases import Case
from reviewbot.evaluation.words import count_words, format_words
from reviewbot.model import Finding, Location, Severity, Side
from reviewbot.routes.review_comment import instructions

DIFF = """\
--- a/pkg/limits.py
+++ b/pkg/limits.py
@@ -1,3 +1,3 @@
 def allowed(x, limit):
-    return x <= limit
+    return x < limit
 
"""


def model(message: str, said: str) -> Finding:
    return Finding(
        Location("pkg/limits.py", Side.RIGHT, 2), Severity.WARNING, message, "review/bug", "review", said=said
    )


def test_counts_grounded_fragments_and_prompt_copies(tmp_path: Path) -> None:
    (tmp_path / "change.diff").write_text(DIFF)
    case = Case("limits-1-bug", "bug", tmp_path, tmp_path / "change.diff", ())
    fact = "The comparison operator `<=` became `<`: `x <= limit` became `x < limit`."
    findings = [
        model(fact, "File:"),  # a grounded fact; the model's own words were a fragment
        model("File:", "File:"),  # a fragment posted as it is
        model(
            "The change below was flagged as likely introducing a defect in the code.",
            "The change below was flagged as likely introducing a defect in the code.",
        ),  # a copy of the prompt
        model(
            "The value `limit` is now excluded by `x < limit`.",
            "The value `limit` is now excluded by `x < limit`.",
        ),
        Finding(
            Location("pkg/limits.py", Side.RIGHT, 2),
            Severity.WARNING,
            "E501",
            "ruff/E501",
            "lint",
            source="ruff",
        ),
    ]
    w = count_words([(case, findings, None)], instructions())
    assert (w.comments, w.grounded, w.fragments, w.prompt_copies) == (4, 2, 1, 1)
    assert (w.said_grounded, w.said_fragments, w.said_prompt_copies) == (1, 2, 1)
    text = format_words(w)
    assert "model comments: 4; grounded 2/4 (50%); fragments 1; prompt copies 1" in text
