"""What a reviewer reads first: repeats grouped, findings ranked, the inline budget spent in rank order.

    anchored, notes = triage(anchored)     # the pipeline, once, after anchoring: grouped and ranked
    shown, rest = split(items, budget)      # the reporters and hosts: the first ``budget`` in full

Every reporter and host reads the Result's findings in this order, so the inline comments of
GitHub and GitLab, and the findings the terminal shows in full, are the same ones; the rest are
listed one line each (review body, summary note, terminal), never dropped.

- **Groups**: the same check (a linter's or a tool's rule, the same source) on ``GROUP_MIN`` or
  more places of one file becomes one finding on its first place, whose message gives the count,
  the lines and the first message. The change's failing tests placed on the same lines become one
  finding: the first test's, naming the others. A model's rule is a category, not a check: its
  findings are not grouped.
- **Rank** (``rank_key``): errors and the change's failing tests first; then the bug-finding rules
  (warnings of linters and security checks, secrets, the model's findings); style last (``info``
  findings and the rules in ``STYLE_RULES``: an unused import is worth fixing, not worth a
  reviewer's first look). Within a tier: higher severity, then findings on added lines, then by
  file and line.
- **Inline**: the budget goes to the first two tiers in rank order; style findings never take an
  inline comment (like CodeRabbit's nitpicks, they are listed in the summary).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from .model import Anchored, Finding, Severity, Unanchored

__all__ = ["GROUP_MIN", "STYLE_RULES", "inline", "rank_key", "split", "tier", "triage"]

GROUP_MIN = 3  # places of one check in one file that become one grouped finding
_LINES_SHOWN = 12  # line numbers named in a group's message before "..."

# Rules that find untidy code rather than defects: ranked with the info findings, after every bug.
STYLE_RULES = frozenset(
    {
        "ruff/F401",  # imported but unused
        "ruff/F403",  # `from x import *`
        "ruff/F405",  # a name that may come from a star import
        "ruff/F541",  # an f-string without placeholders
        "ruff/F841",  # a local variable assigned but never used
        "ruff/B007",  # a loop variable not used in the loop
        "ruff/B009",  # getattr with a constant name
        "ruff/B010",  # setattr with a constant name
        "ruff/B028",  # warnings.warn without stacklevel
    }
)
_UNGROUPED_SOURCES = ("model", "pytest")

Item = TypeVar("Item", Anchored, Unanchored)


def tier(f: Finding) -> int:
    """0: errors and failing tests; 1: the bug-finding rules; 2: style."""
    if f.severity is Severity.ERROR or f.source == "pytest":
        return 0
    if f.severity is Severity.INFO or f.rule in STYLE_RULES:
        return 2
    return 1


def rank_key(item: Anchored | Unanchored) -> tuple:
    """Sorts the findings a reviewer should read first to the front (see the module docstring)."""
    f = item.finding
    in_added = isinstance(item, Anchored) and item.in_added
    loc = f.location
    return (tier(f), -f.severity.rank, not in_added, loc.path, loc.line, f.rule)


def _lines(places: Sequence[Finding]) -> str:
    nums = sorted({p.location.line for p in places})
    shown = ", ".join(str(n) for n in nums[:_LINES_SHOWN])
    return shown + (f" and {len(nums) - _LINES_SHOWN} more" if len(nums) > _LINES_SHOWN else "")


def _grouped(members: Sequence[Item]) -> Item:
    """One finding for ``members`` (one check, one file): on the first place, with the count."""
    first = min(members, key=lambda m: (m.finding.location.line, m.finding.location.first))
    fs = [m.finding for m in members]
    lead = first.finding
    worst = max(fs, key=lambda f: f.severity.rank).severity
    message = (
        f"{lead.rule} on {len(fs)} lines of this file ({_lines(fs)}); "
        f"line {lead.location.line}: {lead.message}"
    )
    return replace(first, finding=replace(lead, message=message, severity=worst, suggestion=None))


def _same_line(members: Sequence[Item]) -> Item:
    """One finding for the failing tests whose tracebacks pass through the same line: the first
    test's finding, naming the others."""
    lead = members[0]
    others = [m.finding.message.split(" ", 2)[1] for m in members[1:]]
    named = ", ".join(others[:_LINES_SHOWN]) + (
        f" and {len(others) - _LINES_SHOWN} more" if len(others) > _LINES_SHOWN else ""
    )
    message = f"{lead.finding.message}; {len(others)} more failing test(s) through this line: {named}"
    return replace(lead, finding=replace(lead.finding, message=message))


def group(items: Iterable[Item], minimum: int = GROUP_MIN) -> tuple[list[Item], int]:
    """The items with each check repeated ``minimum`` or more times in one file made one, and the
    failing tests on one line made one; and how many findings went into groups."""
    buckets: dict[tuple[str, ...], list[Item]] = {}
    order: list[tuple[str, ...] | Item] = []
    for it in items:
        f = it.finding
        loc = f.location
        if f.source == "pytest" and f.message.startswith("test "):
            key: tuple[str, ...] = (loc.path, loc.side.value, f.source, f.rule, str(loc.first), str(loc.line))
        elif f.source in _UNGROUPED_SOURCES or f.rule.startswith(("model/", "pytest/")):
            order.append(it)
            continue
        else:
            key = (loc.path, loc.side.value, f.source, f.rule)
        if key not in buckets:
            buckets[key] = []
            order.append(key)
        buckets[key].append(it)
    out: list[Item] = []
    merged = 0
    for entry in order:
        if not isinstance(entry, tuple):
            out.append(entry)
            continue
        members = buckets[entry]
        tests = len(entry) == 6
        if len(members) >= (2 if tests else minimum):
            out.append(_same_line(members) if tests else _grouped(members))
            merged += len(members)
        else:
            out.extend(members)
    return out, merged


def triage(anchored: Iterable[Anchored]) -> tuple[tuple[Anchored, ...], list[str]]:
    """The anchored findings grouped and ranked, and a note on the groups."""
    items = list(anchored)
    grouped, merged = group(items)
    notes = []
    if merged:
        made = merged - (len(items) - len(grouped))
        notes.append(
            f"{merged} findings are shown as {made} grouped finding(s): a check repeated on {GROUP_MIN} or "
            "more lines of one file (with the count and the lines), failing tests on the same line"
        )
    return tuple(sorted(grouped, key=rank_key)), notes


def inline(f: Finding) -> bool:
    """Whether ``f`` may take an inline comment: style findings are listed in the summary only."""
    return tier(f) < 2


def split(items: Sequence[Item], budget: int) -> tuple[list[Item], list[Item]]:
    """The first ``budget`` items that may go inline (shown in full) and the rest (listed one line
    each), each in the order given."""
    shown: list[Item] = []
    rest: list[Item] = []
    for it in items:
        (shown if len(shown) < budget and inline(it.finding) else rest).append(it)
    return shown, rest
