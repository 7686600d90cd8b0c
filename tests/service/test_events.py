from types import SimpleNamespace

import pytest

from reviewbot.service import events

A, D = "a" * 40, "d" * 40


def parse(body):
    return SimpleNamespace(name="ask", arg=body[5:]) if body.startswith("/ask ") else None


def test_github_pull_request_and_comment():
    pr = {
        "action": "synchronize",
        "repository": {"full_name": "o/r"},
        "pull_request": {"number": 3, "state": "open", "head": {"sha": A}},
    }
    assert events.github("pull_request", pr) == events.Request("github", "o/r", 3, A)
    assert events.github("pull_request", pr | {"action": "closed"}) is None
    comment = {
        "action": "created",
        "repository": {"full_name": "o/r"},
        "issue": {"number": 3, "pull_request": {"url": "u"}},
        "comment": {"id": 11, "body": "/ask why?", "user": {"login": "alice"}},
    }
    req = events.github("issue_comment", comment, parse)
    assert (req.kind, req.number) == ("command", 3) and '"user": "alice"' in req.arg
    assert req.key == "github:comment:o/r:11"  # the job is the comment's, whichever delivery brings it
    assert events.github("issue_comment", comment | {"comment": {"body": "lgtm"}}, parse) is None
    assert events.github("push", {"repository": {"full_name": "o/r"}}) is None


def test_gitlab_merge_request():
    mr = {
        "project": {"path_with_namespace": "g/p"},
        "object_attributes": {
            "action": "update",
            "oldrev": "x",
            "state": "opened",
            "iid": 5,
            "last_commit": {"id": D},
        },
    }
    assert events.gitlab("Merge Request Hook", mr) == events.Request("gitlab", "g/p", 5, D)
    mr["object_attributes"].pop("oldrev")  # a title edit: no new commits
    assert events.gitlab("Merge Request Hook", mr) is None


def _note(**attrs):
    return {
        "project": {"path_with_namespace": "g/sub/p"},
        "merge_request": {"iid": 5},
        "user": {"username": "bob"},
        "object_attributes": {
            "id": 77,
            "noteable_type": "MergeRequest",
            "note": "/ask why?",
            "discussion_id": "abc",
            **attrs,
        },
    }


def test_a_new_gitlab_note_is_a_command_and_an_edited_one_is_not():
    req = events.gitlab("Note Hook", _note(action="create"), parse)
    assert req is not None and req.key == "gitlab:comment:g/sub/p:77"
    assert events.gitlab("Note Hook", _note(), parse) is not None  # GitLab before 16: no action field
    assert events.gitlab("Note Hook", _note(action="update"), parse) is None


def _pull(repo="o/r", number=3, head=A):
    return {
        "action": "opened",
        "repository": {"full_name": repo},
        "pull_request": {"number": number, "state": "open", "head": {"sha": head}},
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_pull(repo="o/r\nreviewbot: job 1 (github o/x#1 review): done"), "repository path"),
        (_pull(repo="o"), "repository path"),
        (_pull(repo="o/.."), "repository path"),
        (_pull(repo="../../etc/passwd"), "repository path"),
        (_pull(head="abc"), "head commit"),
        (_pull(head=A + "\n"), "head commit"),
        (_pull(head="A" * 40), "head commit"),
        (_pull(number=1e300), "number"),
        (_pull(number=10**300), "number"),
        (_pull(number=True), "number"),
        (_pull(number=0), "number"),
        (_pull(number="3"), "number"),
    ],
)
def test_fields_are_checked(payload, field):
    with pytest.raises(events.Malformed, match=field):
        events.github("pull_request", payload)


def test_a_command_without_a_comment_id_is_malformed():
    with pytest.raises(events.Malformed, match="comment id"):
        events.gitlab("Note Hook", _note(id=1e300), parse)
