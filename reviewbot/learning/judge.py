"""The judge's threshold for one repository, moved within bounds by what the team did.

The review keeps a model finding only when the judge is sure enough (its confidence, 0..1). A rise
is a trade: every comment under the new threshold would have been held back, the rejected ones and
the acted-on ones alike. The threshold rises to the confidence ``t`` that gains the most, counting
the comments the writers judged with a confidence under ``t``: (rejected) - ``LAMBDA`` x (acted
on), when that is above zero, at least ``MIN_BELOW`` of them were rejected, on at least ``MIN_PRS``
pull requests, and ``t`` is at most ``MAX_UP`` above the configured threshold. ``t`` is the next
judged comment's confidence (or the bound), so a tie of confidences is wholly under it or over it;
of equal gains, the lowest ``t``. When the writers acted on nearly all of the comments judged
(``ACCEPT_SHARE``), it falls by ``DOWN``. Either move needs at least ``MIN_COMMENTS`` judged
comments from ``MIN_PRS`` pull requests. No evidence, no move.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .signals import Signal

MAX_UP = 0.3
DOWN = 0.05
MIN_COMMENTS = 8
MIN_BELOW = 4
MIN_PRS = 3
LAMBDA = 3.0
"""What one acted-on comment weighs against rejected ones when the threshold rises: a rise holds
back at most one comment the team acted on for every ``LAMBDA`` comments it rejected, among the
comments it judged (with 3, a rise that would have hidden 2 comments the team acted on needs more
than 6 rejected ones under it). Lower: quieter sooner, at the cost of more comments the team would
have acted on; higher: a rise only where the comments under it were nearly all rejected. The
threshold is the best of many a history could pick, so its gain there flatters it: 3 asks for a
clear margin."""
ACCEPT_SHARE = 0.9


def _prs(prs: list[int]) -> str:
    shown = ", ".join(f"#{p}" for p in prs[:5])
    return shown + (f" and {len(prs) - 5} more" if len(prs) > 5 else "")


def verdicts(signals: list[Signal]) -> list[tuple[float, bool, int]]:
    """(confidence, rejected, pull request) per judged comment: the majority of its verdicts."""
    votes: dict[tuple, list[Signal]] = defaultdict(list)
    for s in signals:
        if s.subject.confidence is not None:
            votes[(s.subject, s.pr)].append(s)
    out = []
    for (subject, pr), group in votes.items():
        rejected = sum(s.rejects for s in group)
        accepted = sum(s.accepts for s in group)
        if rejected != accepted:
            out.append((subject.confidence, rejected > accepted, pr))
    return sorted(out)


def _rise(judged: list[tuple[float, bool, int]], base: float) -> tuple[float, int, int, list[int]] | None:
    """The rise that gains the most, as (threshold, rejected, acted on, pull requests of the
    rejected) of the comments under it; the lowest threshold of equal gains; None: no rise pays."""
    cap = round(base + MAX_UP, 4)
    best, gain = None, 0.0
    for i in range(1, len(judged) + 1):
        below = judged[:i]
        if i < len(judged) and judged[i][0] == below[-1][0]:
            continue  # a threshold falls between two confidences, never inside a tie
        # the threshold: the next comment's confidence, or as close to it as the bound allows
        top = min(judged[i][0] if i < len(judged) else 1.0, cap)
        if not below[-1][0] < top or top <= base:
            continue
        rejected = sum(r for _, r, _ in below)
        acted = i - rejected
        prs = sorted({pr for _, r, pr in below if r})
        if rejected >= MIN_BELOW and len(prs) >= MIN_PRS and rejected - LAMBDA * acted > gain:
            best, gain = (top, rejected, acted, prs), rejected - LAMBDA * acted
    return best


def judge_floor(signals: list[Signal], base: float) -> tuple[float | None, str]:
    """The judge's minimum confidence for this repository (``base``: the configured one), and why;
    None: no move."""
    judged = verdicts(signals)
    if len(judged) < MIN_COMMENTS or len({pr for _, _, pr in judged}) < MIN_PRS:
        return None, ""
    rise = _rise(judged, base)
    if rise is not None:
        top, rejected, acted, prs = rise
        return top, (
            f"writers rejected {rejected} and acted on {acted} of the comments under confidence "
            f"{top:.2f} (rejected in {_prs(prs)})"
        )
    accepted = sum(not r for _, r, _ in judged)
    if accepted / len(judged) >= ACCEPT_SHARE:
        return round(
            max(base - DOWN, 0.0), 4
        ), f"writers acted on {accepted} of the {len(judged)} comments judged"
    return None, ""


def bounded(floor: float, base: float) -> float:
    """``floor`` held within the bounds a repository may move the threshold (a committed file's
    included): at most ``DOWN`` under the configured ``base`` and ``MAX_UP`` over it."""
    return round(min(max(floor, base - DOWN, 0.0), base + MAX_UP), 4)


def route_min_drop(floor: float, scale: float = 0.25) -> float:
    """The likelihood judge's minimum drop that gives confidence ``floor`` (the inverse of
    ``routes.review.confidence_of``): where the repository's threshold falls below the configured
    one, the route must flag down to it (a threshold above is a filter on the kept findings)."""
    return round(-scale * math.log(1.0 - min(floor, 0.9999)), 6)
