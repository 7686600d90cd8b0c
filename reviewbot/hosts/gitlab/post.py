"""Post one Result on one GitLab merge request: threads as draft notes published at once, and a
summary note edited in place.

- Every thread's ``position`` is computed by ``diff.gitlab_position`` on the version's own diff with
  the version's three SHAs; a finding it cannot place goes in the summary note, never in a position
  GitLab would refuse (400 "line_code can't be blank").
- The threads are created as draft notes and published with one ``bulk_publish`` (one notification
  burst, like GitHub's single review). Drafts left by a run that stopped half-way are reused.
- A re-run posts only findings whose fingerprint and content key no note of the bot carries (in a
  validly signed marker, ``markers``), and
  resolves the bot's open threads (on files this run reviewed) whose finding is gone, where the
  token's role allows; where not, the summary says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...diff import DiffIndex, gitlab_position
from ...errors import ReviewbotError
from ...model import Anchored, Finding, Location, Result, Unanchored
from ..markers import Signer
from ..placement import MAX_INLINE, place
from ..summary import summary_body
from .client import GitLabClient
from .render import BODY_LIMIT, SUMMARY_MARKER, listed, thread_body
from .values import NoteInfo, VersionInfo

__all__ = ["Bodies", "GitLabReviewer", "Posted"]


SUMMARY_LIMIT = 100_000  # the summary note's length (GitLab takes 1,000,000)


class Bodies:
    """GitLab's positions (``position`` with the version's SHAs) and bodies, for ``placement.place``."""

    off_diff = "not on the MR's diff"

    def __init__(self, version: VersionInfo) -> None:
        self.shas = {
            "base_sha": version.base_sha,
            "start_sha": version.start_sha,
            "head_sha": version.head_sha,
        }

    def position(self, index: DiffIndex, location: Location) -> dict[str, Any] | None:
        return gitlab_position(index, location, **self.shas)

    def inline(self, f: Finding, fp: str, key: str) -> str:
        return thread_body(f, fp, key)

    def listed(self, f: Finding, fp: str, key: str, why: str | None = None) -> str:
        return listed(f, fp, key, why)


@dataclass(frozen=True, slots=True)
class Posted:
    """What a publish did."""

    inline: int  # threads published
    listed: int  # findings in the summary note
    repeated: int  # already posted by an earlier run
    invalid: int  # anchored findings GitLab's position could not be computed for
    summary: int | None  # the summary note's id
    errors: tuple[str, ...] = ()
    resolved: int = 0
    stale: str | None = None  # the newer head the MR moved on to: nothing was posted


class GitLabReviewer:
    """Posts on one merge request. No request is made until a method is called."""

    def __init__(
        self,
        client: GitLabClient,
        project: str,
        iid: int,
        *,
        bot_login: str | None = None,
        max_threads: int = MAX_INLINE,
        signer: Signer | None = None,
    ) -> None:
        self.client = client
        self.project = project
        self.iid = iid
        self.signer = (signer or Signer()).for_scope(f"{project}!{iid}")
        self.bot_login = bot_login
        self.max_threads = max_threads

    def bot(self) -> str | None:
        if self.bot_login is None:
            self.bot_login = self.client.login()
        return self.bot_login

    def previous(self) -> tuple[frozenset[str], str | None, NoteInfo | None]:
        """Keys the bot posted before, the last reviewed head, the bot's summary note."""
        bot = self.bot()
        seen: set[str] = set()
        summary = None
        for n in self.client.notes(self.project, self.iid):
            if n.author != bot or n.system:
                continue
            for fp, key in self.signer.findings(n.body):
                seen.update((fp, key))
            if n.body.startswith(SUMMARY_MARKER) and self.signer.head(n.body) is not None:
                summary = n
        return frozenset(seen), (self.signer.head(summary.body) if summary is not None else None), summary

    def publish(
        self,
        result: Result,
        index: DiffIndex,
        version: VersionInfo,
        *,
        posted: frozenset[str],
        summary: NoteInfo | None,
        findings: Sequence[Anchored | Unanchored],
        current: frozenset[str],
        since: str | None = None,
    ) -> Posted:
        now = self.client.latest_version(self.project, self.iid)
        if now.head_sha != version.head_sha:
            return Posted(0, 0, 0, 0, None, stale=now.head_sha)
        plan = place(findings, index, Bodies(version), posted=posted, max_inline=self.max_threads)
        plan = plan.signed(self.signer.sign, BODY_LIMIT)
        errors: list[str] = []
        inline = self._threads(plan.inline, errors)
        notes: list[str] = []
        resolved = self._resolve(result, current, notes) if posted else 0
        posting = [f"threads posted: {inline}; findings listed below: {len(plan.listed)}"]
        text = summary_body(
            result,
            head=version.head_sha,
            term="merge request",
            plan=plan,
            posting=posting,
            errors=errors,
            since=since,
            listed=plan.listed,
            resolved=f"earlier threads resolved (the finding is gone): {resolved}" if resolved else None,
            notes=notes,
            limit=SUMMARY_LIMIT,
        )
        note_id = None
        try:
            note_id = self._summary(self.signer.sign(text), summary)
        except ReviewbotError as exc:
            errors.append(f"the summary note was not posted: {exc}")
        return Posted(inline, len(plan.listed), plan.repeated, plan.invalid, note_id, tuple(errors), resolved)

    def _threads(self, threads: Sequence[tuple[str, dict[str, Any]]], errors: list[str]) -> int:
        if not threads:
            return 0
        try:
            waiting = {
                m for d in self.client.drafts(self.project, self.iid) for m in self.signer.findings(d.body)
            }
            for body, pos in threads:
                marks = self.signer.findings(body)
                if marks and marks[0] in waiting:
                    continue  # a draft of a run that stopped before publishing

                def recover(body: str = body) -> NoteInfo | None:
                    return next(
                        (d for d in self.client.drafts(self.project, self.iid) if d.body == body), None
                    )

                self.client.create_draft(self.project, self.iid, body, pos, recover)
            self.client.publish_drafts(self.project, self.iid)
        except ReviewbotError as exc:
            errors.append(f"the threads were not all posted: {exc}")
            return 0
        return len(threads)

    def _resolve(self, result: Result, current: frozenset[str], notes: list[str]) -> int:
        """Resolve the bot's open threads on reviewed files whose finding this run no longer reports."""
        bot = self.bot()
        reviewed = {p for fd in result.changeset.files for p in (fd.old_path, fd.new_path) if p}
        n = 0
        try:
            for d in self.client.discussions(self.project, self.iid):
                if d.author != bot or not d.resolvable or d.resolved or (d.path and d.path not in reviewed):
                    continue
                marks = self.signer.findings(d.body)
                if marks and not any(fp in current or key in current for fp, key in marks):
                    self.client.resolve(self.project, self.iid, d.id)
                    n += 1
        except ReviewbotError as exc:
            why = (
                " (the token's role cannot resolve threads: Developer or above is needed)"
                if "403" in str(exc)
                else ""
            )
            notes.append(f"earlier threads were not resolved: {exc}{why}")
        return n

    def _summary(self, text: str, existing: NoteInfo | None) -> int:
        if existing is not None:
            self.client.edit_note(self.project, self.iid, existing.id, text)
            return existing.id
        bot = self.bot()

        def recover() -> NoteInfo | None:
            notes = self.client.notes(self.project, self.iid)
            return next(
                (
                    n
                    for n in notes
                    if n.author == bot
                    and n.body.startswith(SUMMARY_MARKER)
                    and self.signer.head(n.body) is not None
                ),
                None,
            )

        return self.client.create_note(self.project, self.iid, text, recover).id
