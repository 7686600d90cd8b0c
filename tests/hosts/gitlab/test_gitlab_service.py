"""GitLabServiceHost against the stand-in: access levels through members/all, replies in MR threads,
open merge requests with their review state."""

from __future__ import annotations

import pytest
from support.gitlab_helpers import client
from support.gitlab_standin import GitLabStandIn, gitlab_files

from reviewbot.diff import DiffIndex, anchor_all
from reviewbot.errors import PublishError
from reviewbot.hosts.gitlab.host import GitLabHost
from reviewbot.hosts.gitlab.service import GitLabServiceHost
from reviewbot.model import Finding, Location, Result, Severity, Side, Stats
from reviewbot.ports import OpenChange, Review, ServiceHost

DIFF = b"diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n"
BASE, HEAD, NEWER = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture()
def served():
    with GitLabStandIn() as s:
        for iid in (1, 2, 3):
            s.add_mr("g/p", iid, base=BASE, head=HEAD, files=gitlab_files(DIFF))
        yield s


def _service(s: GitLabStandIn) -> GitLabServiceHost:
    return GitLabServiceHost(GitLabHost(client(s), "g/p"))


def test_developer_and_above_can_write(served):
    for name, level in [("guest", 10), ("reporter", 20), ("dev", 30), ("maint", 40), ("owner", 50)]:
        served.add_member("g/p", name, level)
    served.add_member("other/q", "elsewhere", 50)
    host: ServiceHost = _service(served)
    got = {
        u: host.can_write(u) for u in ("guest", "reporter", "dev", "maint", "owner", "elsewhere", "nobody")
    }
    assert got == {
        "guest": False,
        "reporter": False,
        "dev": True,
        "maint": True,
        "owner": True,
        "elsewhere": False,
        "nobody": False,
    }
    assert 404 in served.statuses("GET", r"/members/all/")  # a user of the server, not of this project


def test_a_reply_lands_in_the_mr_thread(served):
    mr = served.mrs[("g/p", 1)]
    served._note(mr, "/ask why?", None)
    mr.discussions.append({"id": "abc123", "individual_note": False, "notes": [mr.notes[-1]]})
    host = _service(served)
    host.reply(1, "abc123", "because")
    assert [n["body"] for n in mr.discussions[-1]["notes"]] == ["/ask why?", "because"]
    host.reply(1, None, "on the MR")
    assert mr.discussions[-1]["notes"][0]["body"] == "on the MR" and len(mr.discussions) == 2
    with pytest.raises(PublishError, match="404"):
        host.reply(1, "nothere", "lost")


def test_open_changes_say_which_heads_the_bot_reviewed(served):
    served.close("g/p", 3)
    gl = GitLabHost(client(served), "g/p")
    change = gl.fetch(1)
    f = Finding(Location("m.py", Side.RIGHT, 2), Severity.WARNING, "changed", "model/bug", "review")
    a, u = anchor_all([f], DiffIndex(change.changeset.files))
    gl.post(change, Review(Result(change.changeset, a, u, (), Stats())), gl.prior(change))
    host = _service(served)
    assert host.open_changes() == [OpenChange(1, HEAD, True), OpenChange(2, HEAD, False)]
    served.add_version("g/p", 1, base=BASE, head=NEWER, files=gitlab_files(DIFF))
    assert host.open_changes()[0] == OpenChange(1, NEWER, False)
