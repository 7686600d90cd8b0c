from types import SimpleNamespace

from reviewbot.service import events


def parse(body):
    return SimpleNamespace(name="ask", arg=body[5:]) if body.startswith("/ask ") else None


def test_github_pull_request_and_comment():
    pr = {"action": "synchronize", "repository": {"full_name": "o/r"},
          "pull_request": {"number": 3, "state": "open", "head": {"sha": "abc"}}}  # fmt: skip
    assert events.github("pull_request", pr) == events.Request("github", "o/r", 3, "abc")
    assert events.github("pull_request", pr | {"action": "closed"}) is None
    comment = {"action": "created", "repository": {"full_name": "o/r"}, "issue": {"number": 3, "pull_request": {"url": "u"}},
               "comment": {"body": "/ask why?", "user": {"login": "alice"}}}  # fmt: skip
    req = events.github("issue_comment", comment, parse)
    assert (req.kind, req.number) == ("command", 3) and '"user": "alice"' in req.arg
    assert events.github("issue_comment", comment | {"comment": {"body": "lgtm"}}, parse) is None
    assert events.github("push", {"repository": {"full_name": "o/r"}}) is None


def test_gitlab_merge_request():
    mr = {"project": {"path_with_namespace": "g/p"},
          "object_attributes": {"action": "update", "oldrev": "x", "state": "opened", "iid": 5, "last_commit": {"id": "def"}}}  # fmt: skip
    assert events.gitlab("Merge Request Hook", mr) == events.Request("gitlab", "g/p", 5, "def")
    mr["object_attributes"].pop("oldrev")  # a title edit: no new commits
    assert events.gitlab("Merge Request Hook", mr) is None
