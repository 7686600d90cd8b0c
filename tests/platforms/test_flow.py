"""The one review flow over ``ports.Host``, run on a third host written here in a few lines: its
server is a list, its positions and bodies are its own, placement, the summary and the markers are
the shared ones. The flow asks the port for the interdiff and reviews only what changed since the
last reviewed head; a dry run posts nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewbot.diff import DiffIndex, added_numbers, anchor_all, parse_diff
from reviewbot.hosts.bodies import SUMMARY_MARKER, marker
from reviewbot.hosts.incremental import to_post
from reviewbot.hosts.markers import Signer
from reviewbot.hosts.placement import place
from reviewbot.hosts.summary import summary_body
from reviewbot.model import ChangeSet, FileDiff, Finding, Location, Result, Severity, Side, Stats
from reviewbot.platforms.flow import base_config, review_change
from reviewbot.ports import Change, Host, Prior, Review

FIRST = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,3 @@\n one\n+two\n three\n"
SECOND = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,4 @@\n one\n+two\n three\n+four\n"
H1, H2 = "1" * 40, "2" * 40
SINCE = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -2,2 +2,3 @@\n two\n three\n+four\n"


class Bodies:
    off_diff = "not on the change's diff"

    def position(self, index: DiffIndex, location: Location) -> dict[str, Any] | None:
        line = index.line_at(location.path, location.side, location.line)
        return None if line is None else {"path": location.path, "line": location.line}

    def inline(self, f: Finding, fp: str, key: str) -> str:
        return f"{f.message} {marker(fp, key)}"

    def listed(self, f: Finding, fp: str, key: str, why: str | None = None) -> str:
        return f"- {f.message} ({why}) {marker(fp, key)}"


class ListHost:
    """A code host whose server is ``self.comments``."""

    name = "list"
    term = "change request"

    def __init__(self) -> None:
        self.heads = {H1: FIRST, H2: SECOND}
        self.head = H1
        self.comments: list[str] = []
        self.signer = Signer(b"k" * 32, "list#1")

    def fetch(self, number: int) -> Change:
        return Change(number, ChangeSet(parse_diff(self.heads[self.head]), "list#1", "b0", self.head))

    def file_at(self, path: str, ref: str) -> str | None:
        return "fail_on: warning\n" if ref == "b0" else None

    def prior(self, change: Change) -> Prior:
        keys = {k for c in self.comments for fk in self.signer.findings(c) for k in fk}
        heads = [h for c in self.comments if (h := self.signer.head(c))]
        return Prior(frozenset(keys), heads[-1] if heads else None)

    def interdiff(self, change: Change, since: str) -> Sequence[FileDiff] | None:
        return parse_diff(SINCE) if (since, change.changeset.head) == (H1, H2) else None

    def _plan(self, change: Change, review: Review, prior: Prior):
        index = DiffIndex(change.changeset.files)
        items, _ = to_post(review, index)
        return place(items, index, Bodies(), posted=prior.keys)

    def dry_run(self, change: Change, review: Review, prior: Prior) -> list[str]:
        return [body for body, _ in self._plan(change, review, prior).inline]

    def post(self, change: Change, review: Review, prior: Prior) -> Any:
        plan = self._plan(change, review, prior).signed(self.signer.sign, 10_000)
        self.comments += [body for body, _ in plan.inline]
        head = str(change.changeset.head)
        since = review.since
        summary = summary_body(
            review.result,
            head=head,
            term=self.term,
            plan=plan,
            posting=(),
            errors=(),
            since=since,
            limit=10_000,
        )
        self.comments.append(self.signer.sign(summary))
        return plan


def _review(cs: ChangeSet) -> Result:
    """A finding on every added line."""
    found = [
        Finding(Location("a.py", Side.RIGHT, n), Severity.WARNING, f"line {n}", "model/bug", "review")
        for fd in cs.files
        for n in sorted(added_numbers(fd.hunks))
    ]
    anchored, unanchored = anchor_all(found, DiffIndex(cs.files))
    return Result(cs, anchored, unanchored, (), Stats(files=len(cs.files), backend="test"))


def test_a_third_host_reviews_posts_and_re_reviews_only_what_changed() -> None:
    host: Host = ListHost()
    change = host.fetch(1)
    config = base_config(host, change)
    assert config.text == "fail_on: warning\n"
    assert config.origin == "b0:.reviewbot.yml (the change request's base)"
    dry = review_change(host, change, _review, post=False)
    assert dry.payload and dry.payload[0].startswith("line 2 <!-- reviewbot:fp=") and host.comments == []
    first = review_change(host, change, _review, post=True, note="a note")
    assert len(first.posted.inline) == 1 and first.since is None and "a note" in first.result.notes
    assert host.comments[-1].startswith(SUMMARY_MARKER) and "the whole change request" in host.comments[-1]
    host.head = H2
    again = review_change(host, host.fetch(1), _review, post=True)
    assert again.since == H1 and [i.finding.message for i in again.items] == ["line 4"]
    posted = [c.split(" <!--")[0] for c in host.comments if not c.startswith(SUMMARY_MARKER)]
    assert posted == ["line 2", "line 4"] and f"the changes since `{H1[:12]}`" in host.comments[-1]
