"""Change facts: a deterministic, exact account of what a change did, run by run.

For each run of changed lines (removed lines followed by the lines that replace them), the old and
new lines are aligned, and each pair is compared: with Python's ``ast`` where both sides parse as a
statement (``python``), by tokens otherwise (``tokens``: "`X` became `Y`", true in any language).
Lines with no counterpart are statements removed or added, named by their kind (a guard, an
``else``, a ``return``, a ``raise``, an import...). A run whose code tokens do not change is a
comment-only or whitespace-only change.

Every fact quotes code exactly as the diff has it, and states a consequence only where the kind of
change implies it without knowing the values (``>=`` became ``>``: equal sides no longer pass).

API: ``facts_for_run(removed, added, path)`` for one run of ``Line``s; ``facts_for_hunk(hunk,
path)`` for every run of a hunk; ``facts_at(facts, line)`` for the facts about one line;
``naming_fact(line, rows, path)`` for the tokens only one side of the change near a line has.
"""

from __future__ import annotations

from .runs import Fact, changes_no_code, facts_at, facts_for_hunk, facts_for_run, naming_fact, run_of, runs_of

__all__ = [
    "Fact",
    "changes_no_code",
    "facts_at",
    "facts_for_hunk",
    "facts_for_run",
    "naming_fact",
    "run_of",
    "runs_of",
]
