"""The judge's threshold for one repository, moved within bounds by what the team did.

The review keeps a model finding only when the judge is sure enough (its confidence, 0..1). When
the repository's writers rejected consistently the comments under some confidence (at least
``JUDGE_SHARE`` of at least ``MIN_BELOW`` comments from ``MIN_PRS`` pull requests), the threshold
rises to the highest such confidence, by at most ``MAX_UP`` above the configured one; when they
acted on nearly all of at least ``MIN_COMMENTS`` comments (``ACCEPT_SHARE``), it falls by ``DOWN``.
No evidence, no move.
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
JUDGE_SHARE = 0.9
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


def judge_floor(signals: list[Signal], base: float) -> tuple[float | None, str]:
    """The judge's minimum confidence for this repository (``base``: the configured one), and why;
    None: no move."""
    judged = verdicts(signals)
    if len(judged) < MIN_COMMENTS or len({pr for _, _, pr in judged}) < MIN_PRS:
        return None, ""
    best = None
    for i in range(MIN_BELOW, len(judged) + 1):
        below = judged[:i]
        if i < len(judged) and judged[i][0] == below[-1][0]:
            continue  # a threshold falls between two confidences, never inside a tie
        rejected = sum(r for _, r, _ in below)
        prs = sorted({pr for _, r, pr in below if r})
        # the threshold: the next comment's confidence, or as close to it as the bound allows
        top = min(judged[i][0] if i < len(judged) else 1.0, round(base + MAX_UP, 4))
        if rejected / i >= JUDGE_SHARE and len(prs) >= MIN_PRS and below[-1][0] < top and base < top:
            best = (top, rejected, i, prs)
    if best is not None:
        top, rejected, n, prs = best
        return (
            top,
            f"writers rejected {rejected} of the {n} comments under confidence {top:.2f} (in {_prs(prs)})",
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
