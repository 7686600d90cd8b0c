"""The one review-and-post flow, for any code host behind ``ports.Host``: the GitHub runner
(``github.review_pull``), the GitLab job (``gitlab.review_mr``) and the service's handlers run it.

1. The entry point fetches the change (``Host.fetch``) and remakes its settings from the
   repository's configuration file at the change's base commit (``base_config``: never its head,
   so a change cannot switch its own review off).
2. ``review_change`` reads what the bot posted before (``Host.prior``), reviews only what changed
   since the last reviewed head where the host can say what that is (``Host.interdiff``; the whole
   change otherwise), then plans the post against what was posted before and posts it with the
   summary (``Host.post``), or returns what it would post (``Host.dry_run``).

This module names no host: a third host is one package of client, positions and bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..config import CONFIG_FILE, RepoConfig
from ..hosts.incremental import restrict, since_filter
from ..merge import fingerprint
from ..model import Anchored, ChangeSet, Result, Unanchored
from ..ports import Change, Host, Posting, Prior, Review

__all__ = ["Outcome", "base_config", "review_change"]


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


def review_change(
    host: Host,
    change: Change,
    review: Callable[[ChangeSet], Result],
    *,
    post: bool,
    incremental: bool = True,
    reports: Callable[[Result], None] | None = None,
    note: str | None = None,
) -> Outcome:
    """Review ``change`` and post it on ``host`` (or plan it, for a dry run). ``reports`` writes the
    result's files before anything is posted; ``note``: a line the posted summary adds."""
    cs = change.changeset
    assert cs.head is not None
    prior = host.prior(change) if post or incremental else Prior()
    inter = None
    if incremental and prior.head and prior.head != cs.head:
        inter = host.interdiff(change, prior.head)
    result = review(restrict(cs, inter) if inter is not None else cs)
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
