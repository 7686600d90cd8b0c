"""The one review-and-post flow, for any code host behind ``ports.Host``: the GitHub runner
(``github.review_pull``), the GitLab job (``gitlab.review_mr``) and the service's handlers run it.

1. The entry point fetches the change (``Host.fetch``) and remakes its settings from the
   repository's configuration file at the change's base commit (``base_config``: never its head,
   so a change cannot switch its own review off).
2. ``review_change`` reads what the bot posted before (``Host.prior``), reviews only what changed
   since the last reviewed head where the host can say what that is (``Host.interdiff``; the whole
   change otherwise), then plans the post against what was posted before and posts it with the
   summary (``Host.post``), or returns what it would post (``Host.dry_run``).
3. With ``learning`` (``learning_of``: on unless the base's configuration turns it off), it first
   reads the team's verdicts on the bot's earlier comments (``Host.signals``, other changes only)
   and the committed ``.reviewbot/learnings.yml`` of the base commit (never the head's), lowers the
   judge's threshold where they say so (within ``learning.judge``'s bounds), and holds back the
   findings they reject: those leave what is posted and are listed in the summary with the reason.
   A failure to read them is a note in the summary, never a failed review.

This module names no host: a third host is one package of client, positions and bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import CONFIG_FILE, RepoConfig
from ..errors import ReviewbotError
from ..hosts.incremental import restrict, since_filter
from ..merge import fingerprint
from ..model import Anchored, ChangeSet, Result, Unanchored
from ..ports import Change, Host, Posting, Prior, Review

if TYPE_CHECKING:
    from ..learning import Learnings
    from ..learning.cache import SignalCache
    from ..settings import Settings

__all__ = ["Learning", "Outcome", "base_config", "learning_of", "review_change"]


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    items: tuple[Anchored | Unanchored, ...]  # what was (or would be) posted
    posted: Any  # what the host's post did (its ``ports.Posting``); None on a dry run
    payload: Any  # the dry run's plan, as the host would send it; None when posted
    since: str | None  # the head an incremental review started from
    settings: Any = None  # the settings the review ran with (the base's configuration), where asked


def base_config(host: Host, change: Change) -> RepoConfig:
    """The configuration file as the change's base commit holds it (no file: the defaults)."""
    base = change.changeset.base
    if base is None:
        return RepoConfig(None, f"{CONFIG_FILE} (the {host.term} names no base commit)")
    return RepoConfig(host.file_at(CONFIG_FILE, base), f"{base[:7]}:{CONFIG_FILE} (the {host.term}'s base)")


@dataclass(frozen=True, slots=True)
class Learning:
    """Learning from the team in one review, as the base's configuration sets it."""

    pull_requests: int  # the most recently updated changes whose threads are read
    seconds: float  # no new call for signals after this
    min_drop: float  # the likelihood judge's configured minimum drop
    lowered: Callable[[float], Callable[[ChangeSet], Result]]  # the review with the judge's min_drop at this
    cache: SignalCache | None = None  # the service worker's: a repository's signals read once in a while
    repository: str = ""  # the cache's key

    @property
    def base_floor(self) -> float:
        """The judge's configured threshold, as a confidence."""
        from ..routes.review import confidence_of

        return confidence_of(self.min_drop)


def learning_of(
    settings: Settings,
    review: Callable[[ChangeSet, Settings], Result],
    *,
    cache: SignalCache | None = None,
    repository: str = "",
) -> Learning | None:
    """``settings``' learning (None when ``learning.enabled`` is off), over ``review(cs, settings)``;
    ``cache``: where a long-lived process keeps the signals of ``repository`` between reviews."""
    if not settings.learning.enabled:
        return None

    def lowered(min_drop: float) -> Callable[[ChangeSet], Result]:
        return lambda cs: review(cs, settings.updated({"review.min_drop": min_drop}))

    learning = settings.learning
    return Learning(
        learning.pull_requests, learning.seconds, settings.review.min_drop, lowered, cache, repository
    )


def learned(host: Host, change: Change, learning: Learning) -> tuple[Learnings, tuple[str, ...]]:
    """What the review of ``change`` uses: the signals of the other changes and the committed file
    of the base. What could not be read is a note; the review goes on without it."""
    from ..learning.apply import prepare
    from ..learning.file import read_committed
    from ..learning.signals import Signal

    notes: list[str] = []

    def read() -> list[Signal]:
        found, read_notes = host.signals(change, learning.pull_requests, learning.seconds)
        notes.extend(read_notes)
        return [s for s in found if isinstance(s, Signal)]

    try:
        if learning.cache is None:
            signals = read()
        else:
            signals, kept = learning.cache.signals(learning.repository, read)
            if kept:
                notes.append(
                    f"signals: as this worker read them in the last {learning.cache.ttl / 60:g} minutes"
                )
    except (ReviewbotError, KeyError, TypeError, ValueError) as exc:  # a failed call, an unexpected answer
        signals = []
        why = str(exc) if isinstance(exc, ReviewbotError) else f"an unexpected answer: {type(exc).__name__}"
        notes.append(f"learning: the team's signals could not be read ({why}); nothing learned from them")
    base = change.changeset.base
    committed = None
    try:
        committed = read_committed(host.file_at, base) if base is not None else None
    except ReviewbotError as exc:
        notes.append(f"learning: {exc}; the committed lessons are not used")
    today = datetime.now(UTC).date()
    out = prepare(signals, committed, this_pr=change.number, today=today, base_floor=learning.base_floor)
    return out, (*notes, *out.notes)


def review_change(
    host: Host,
    change: Change,
    review: Callable[[ChangeSet], Result],
    *,
    post: bool,
    incremental: bool = True,
    reports: Callable[[Result], None] | None = None,
    note: str | None = None,
    learning: Learning | None = None,
) -> Outcome:
    """Review ``change`` and post it on ``host`` (or plan it, for a dry run). ``reports`` writes the
    result's files before anything is posted; ``note``: a line the posted summary adds; ``learning``:
    what the team taught applied (``learning_of``), None: nothing read, nothing held back."""
    cs = change.changeset
    assert cs.head is not None
    learnings, learning_notes = learned(host, change, learning) if learning is not None else (None, ())
    floor = learnings.judge_floor if learnings is not None else None
    if learning is not None and floor is not None and floor < learning.base_floor:
        from ..learning.judge import route_min_drop  # the route must flag down to the lower threshold

        review = learning.lowered(route_min_drop(floor))
    prior = host.prior(change) if post or incremental else Prior()
    inter = None
    if incremental and prior.head and prior.head != cs.head:
        inter = host.interdiff(change, prior.head)
    result = review(restrict(cs, inter) if inter is not None else cs)
    if learnings is not None:
        from ..learning.apply import hold_back_result

        result, _ = hold_back_result(result, learnings)
        result = replace(result, notes=(*result.notes, *learning_notes))
    items: tuple[Anchored | Unanchored, ...] = (*result.anchored, *result.unanchored)
    if inter is not None:
        items = tuple(since_filter(items, inter))
    since = prior.head if inter is not None else None
    if reports is not None:
        reports(result)
    only = frozenset(fingerprint(i.finding) for i in items) if inter is not None else None
    if not post:
        return Outcome(result, items, None, host.dry_run(change, Review(result, only, since), prior), since)
    if note:
        result = replace(result, notes=(*result.notes, note))
    done: Posting = host.post(change, Review(result, only, since), prior)
    return Outcome(result, items, done, None, since)
