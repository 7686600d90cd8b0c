"""The search route with the fake backend: the planted library's documentation (deprecations, removed
keywords, the model's check with cited sentences), and `reviewbot review --git` on requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli_json import review_last_commit
from support.planted import make_site  # noqa: E402
from support.requests_repo import make_requests_repo, requests_available  # noqa: E402

from reviewbot import compose  # noqa: E402
from reviewbot.backends.fake import FakeBackend  # noqa: E402
from reviewbot.diff import parse_diff  # noqa: E402
from reviewbot.knowledge.docs import DocsIndex  # noqa: E402
from reviewbot.model import ChangeSet, WorkItem  # noqa: E402
from reviewbot.routes.search import SearchRoute  # noqa: E402

HEAD = """\
from oldlib import fetch, Session
from oldlib.client import get_json
from . import local_helper


def load(url):
    body = fetch(url, retries=3)
    data = get_json(url)
    s = Session(retry=2)
    page = fetch(url, timeout=5)
    local_helper.run(url, flag=1)
    return body, data, s, page
"""

DIFF = """\
diff --git a/app/load.py b/app/load.py
new file mode 100644
--- /dev/null
+++ b/app/load.py
@@ -0,0 +1,12 @@
""" + "".join("+" + line + "\n" for line in HEAD.splitlines())


@pytest.fixture
def docs(tmp_path: Path):
    marker = tmp_path / "IMPORTED"
    env = make_site(tmp_path, marker)
    yield lambda: DocsIndex.open(tmp_path / "cache", env)
    assert not marker.exists()


def changeset(with_head: bool = True) -> tuple[ChangeSet, WorkItem]:
    files = parse_diff(DIFF)
    cs = ChangeSet(
        files, "test", read_head=(lambda p: HEAD if p == "app/load.py" else None) if with_head else None
    )
    f = files[0]
    return cs, WorkItem("app/load.py#1", f.path, f, f.hunks, 100, 1.0)


class Script:
    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.seen: list = []

    def __call__(self, messages, schema) -> str:
        self.seen.append((messages, schema))
        return json.dumps(self.answer)


@pytest.mark.parametrize("with_head", [True, False])  # the file at head (ast), or a bare diff (regex)
def test_deprecations_and_removed_keywords_come_first_with_citations(docs, with_head: bool) -> None:
    script = Script(
        {"problems": [{"use": 1, "sentence": 0, "severity": "warning", "message": "No timeout handling."}]}
    )
    route = SearchRoute(FakeBackend(script), docs)
    cs, item = changeset(with_head)
    out = route.run(item, cs)
    got = [(f.rule, f.location.line) for f in out.findings]
    assert got == [
        ("search/deprecated-parameter", 7),
        ("search/deprecated", 8),
        ("search/unknown-parameter", 9),
        ("search/docs", 10),
    ]
    dep_param, dep, unknown, model = out.findings
    assert dep_param.message.endswith(
        "Documentation: oldlib 2.1.0, `oldlib.client.fetch`: "
        "\"The 'retries' argument is deprecated since 2.0 and will be removed; use Session(retries=...).\""
    )
    assert 'oldlib 2.1.0, `oldlib.client.get_json`: "This function is deprecated since 2.0' in dep.message
    assert (
        "has no parameter `retry`" in unknown.message
        and "def __init__(self, retries=0, backoff_factor=0.0)" in unknown.message
    )
    # the model saw only the use not already reported, with numbered sentences, and cited sentence 0
    ((messages, schema),) = script.seen
    user = messages[1]["content"]
    assert "[use 1] line 10: page = fetch(url, timeout=5) (keywords: timeout)" in user
    assert "(0) The timeout is in seconds; None waits forever." in user  # it names the keyword: first
    assert (
        "local_helper" not in user.split("API uses and their documentation")[1]
    )  # the repository's own code
    assert schema["properties"]["problems"]["maxItems"] == 2
    assert model.message == (
        "No timeout handling. Documentation: oldlib 2.1.0, `oldlib.client.fetch`: "
        '"The timeout is in seconds; None waits forever."'
    )
    assert all(f.route == "search" for f in out.findings)


def test_a_citation_must_be_a_sentence_that_was_shown(docs) -> None:
    script = Script(
        {
            "problems": [
                {"use": 1, "sentence": 7, "severity": "info", "message": "x"},
                {"use": 9, "sentence": 0, "severity": "info", "message": "y"},
            ]
        }
    )
    out = SearchRoute(FakeBackend(script, constrained=False), docs).run(*reversed(changeset()))
    assert [f.rule for f in out.findings if f.rule == "search/docs"] == []


def test_no_external_use_is_said_and_costs_no_model_call(docs) -> None:
    files = parse_diff("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n")
    item = WorkItem("x", "x.py", files[0], files[0].hunks, 5, 1.0)
    backend = FakeBackend([])
    out = SearchRoute(backend, docs).run(item, ChangeSet(files, "t"))
    assert out.findings == () and backend.calls == []
    assert "no external API use" in out.not_reviewed[0].reason


@pytest.mark.skipif(not requests_available(), reason="the requests tarballs are not in ../shared/data/repos")
def test_review_git_on_requests_gives_search_findings_that_cite_documentation(
    tmp_path: Path, monkeypatch
) -> None:
    repo = make_requests_repo(tmp_path)
    cfg = tmp_path / "rb.yml"
    cfg.write_text("lint:\n  linters: []\nplan:\n  budget_tokens: 6000\n")

    def answer(messages, schema):
        assert "problems" in schema["properties"]
        return json.dumps(
            {"problems": [{"use": 1, "sentence": 0, "severity": "info", "message": "Check this use."}]}
        )

    fake = FakeBackend(answer, choices=lambda messages, labels: {"search": 1.0})
    monkeypatch.setattr(compose, "backend", lambda settings, status=None: fake)
    code, doc, err = review_last_commit(repo, cfg, "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, err
    search = [f for f in doc["findings"] if f["route"] == "search"]
    assert search, doc["not_reviewed"]
    for f in search:
        assert f["path"].startswith("src/requests/") and f["side"] == "RIGHT"
        assert "Documentation: " in f["message"]
    # citations name a package and its installed version (urllib3 or the standard library)
    import urllib3

    cited = " ".join(f["message"] for f in search)
    assert f"urllib3 {urllib3.__version__}, `urllib3." in cited or "python 3." in cited


def test_the_web_backend_is_cited_by_url_for_what_the_index_cannot_resolve(docs) -> None:
    from support.searx_standin import searx_standin

    from reviewbot.knowledge.web import SearxNG

    head = "import notinstalled\n\n\ndef go():\n    return notinstalled.connect(retries=2)\n"
    diff = "--- /dev/null\n+++ b/g.py\n@@ -0,0 +1,5 @@\n" + "".join(
        "+" + ln + "\n" for ln in head.splitlines()
    )
    files = parse_diff(diff)
    cs = ChangeSet(files, "t", read_head=lambda p: head)
    item = WorkItem("g", "g.py", files[0], files[0].hunks, 20, 1.0)
    results = [
        {
            "url": "https://docs.example.org/notinstalled/connect",
            "title": "notinstalled.connect",
            "content": "Open a connection. The retries argument was removed in 3.0.",
        }
    ]
    script = Script(
        {"problems": [{"use": 1, "sentence": 1, "severity": "warning", "message": "retries is gone."}]}
    )
    with searx_standin(results) as (url, seen):
        out = SearchRoute(FakeBackend(script), docs, web=SearxNG(url)).run(item, cs)
    assert seen[0]["q"] == "notinstalled.connect python documentation"
    (f,) = out.findings
    assert f.message == (
        "retries is gone. Documentation: https://docs.example.org/notinstalled/connect, "
        '`notinstalled.connect`: "The retries argument was removed in 3.0."'
    )
    # off by default: without a web backend the same use is not checked at all
    out = SearchRoute(FakeBackend([]), docs).run(item, cs)
    assert out.findings == () and "no external API use" in out.not_reviewed[0].reason


@pytest.mark.model
def test_the_search_route_with_the_embedded_model_cites_what_it_relies_on(docs) -> None:
    """The real model on the planted library: the static checks report the deprecations and the
    unknown keyword; whatever the model adds must cite a documentation sentence it was shown."""
    pytest.importorskip("torch")
    from reviewbot.backends.local import LocalBackend
    from reviewbot.config import load

    backend = LocalBackend(cache_dir=load({}, __import__("os").environ, None).cache)
    cs, item = changeset(True)
    out = SearchRoute(backend, docs).run(item, cs)
    rules = [f.rule for f in out.findings]
    assert rules[:3] == ["search/deprecated-parameter", "search/deprecated", "search/unknown-parameter"]
    assert not [s for s in out.not_reviewed if "invalid" in s.reason]  # the answer was valid JSON
    for f in out.findings:
        assert "Documentation: oldlib 2.1.0, `oldlib." in f.message, f.message
        cited = f.message.split("Documentation: ", 1)[1]
        assert cited.count('"') >= 2  # a quoted sentence
    assert out.generated_tokens > 0  # the model was asked about the remaining use
