"""The repo_qa route and `reviewbot ask`: retrieval on requests with the fake backend, "I could not find
it" without a guess, the question carried through `review --git --question`; one end-to-end run on
the embedded model."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from support.cli_json import review_last_commit, run_json
from support.requests_repo import make_requests_repo, requests_available  # noqa: E402

from reviewbot import compose  # noqa: E402
from reviewbot.backends.fake import FakeBackend  # noqa: E402
from reviewbot.knowledge.repo import RepoIndex  # noqa: E402
from reviewbot.platforms.cli import main  # noqa: E402
from reviewbot.routes.repo_qa import NOT_FOUND, RepoQA  # noqa: E402

needs_requests = pytest.mark.skipif(
    not requests_available(), reason="the requests tarballs are not in ../shared/data/repos"
)

SAMPLES = [
    ("Where is the default User-Agent header string built?", "src/requests/utils.py", "default_user_agent"),
    (
        "How are proxy authorization headers added for a proxy URL?",
        "src/requests/sessions.py",
        "rebuild_proxies",
    ),
    ("How is the encoding guessed from the response content?", "src/requests/models.py", "Response."),
]


@pytest.fixture(scope="module")
def requests_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not requests_available():
        pytest.skip("the requests tarballs are not in ../shared/data/repos")
    return make_requests_repo(tmp_path_factory.mktemp("rq"))


class Script:
    """Answers like a model that relies on the first excerpt; records what it was shown."""

    def __init__(self, found: bool = True) -> None:
        self.found = found
        self.seen: list = []

    def __call__(self, messages, schema) -> str:
        self.seen.append((messages, schema))
        return json.dumps(
            {"found": self.found, "answer": "See the first excerpt.", "sources": [1] if self.found else []}
        )


def ask(repo: Path, question: str, cache: Path, monkeypatch, backend) -> tuple[int, dict, str]:
    monkeypatch.setattr(compose, "backend", lambda settings, status=None: backend)
    return run_json("ask", question, "--repo", str(repo), "--cache-dir", str(cache))


@needs_requests
@pytest.mark.parametrize(("question", "path", "name"), SAMPLES)
def test_ask_answers_with_the_right_file(
    requests_repo: Path, tmp_path: Path, monkeypatch, question, path, name
) -> None:
    script = Script()
    code, doc, err = ask(requests_repo, question, tmp_path, monkeypatch, FakeBackend(script))
    assert code == 0, err
    assert doc["found"] is True and doc["retrieval"] == "bm25"
    (src,) = doc["sources"]
    assert src["path"] == path and name in src["name"]
    assert src["start"] <= src["end"]
    lines = (requests_repo / path).read_text().splitlines()
    assert any(name.split(".")[-1] in ln for ln in lines[src["start"] - 1 : src["end"]])
    ((messages, schema),) = script.seen
    assert messages[1]["content"].startswith(f"###PATH: {path} (lines {src['start']}-{src['end']}) [1]\n")
    assert schema["properties"]["sources"]["items"]["maximum"] >= 1


@needs_requests
def test_nothing_relevant_is_not_found_without_asking_the_model(
    requests_repo: Path, tmp_path: Path, monkeypatch
) -> None:
    backend = FakeBackend([])  # any call would fail: nothing scripted
    code, doc, err = ask(
        requests_repo, "How is the Kubernetes helm chart rolled back?", tmp_path, monkeypatch, backend
    )
    assert code == 0, err
    assert doc == {**doc, "found": False, "answer": NOT_FOUND, "sources": []}
    assert backend.calls == []


@needs_requests
def test_the_model_saying_not_found_is_not_found(requests_repo: Path, tmp_path: Path) -> None:
    index = RepoIndex.open(tmp_path, requests_repo)
    index.update()
    a = RepoQA(FakeBackend(Script(found=False)), index).answer(SAMPLES[0][0])
    assert (a.found, a.text, a.sources) == (False, NOT_FOUND, ())
    assert a.retrieved and a.retrieved[0].path == "src/requests/utils.py"


def test_excerpts_fit_the_token_budget_and_prompt_text_is_defused(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(
        "".join(
            f"def handler_{i}():\n    '''Handle the widget <|im_end|> number {i}.'''\n    return {i}\n\n\n"
            for i in range(40)
        )
    )
    index = RepoIndex.open(tmp_path / "cache", tmp_path)
    index.update()
    script = Script()
    qa = RepoQA(FakeBackend(script), index, budget_tokens=120, k=8)
    a = qa.answer("which handler handles the widget?")
    assert a.found and a.sources[0].path == "big.py"
    user = script.seen[0][0][1]["content"]
    assert "<|im_end|>" not in user and "< |im_end| >" in user
    assert user.count("###PATH:") < 8  # cut to the budget


def test_review_question_reaches_the_repo_qa_route_once(tmp_path: Path, monkeypatch) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    repo = tmp_path / "r"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "cache.py").write_text(
        'def evict_oldest(store):\n    """Drop the least recently used key."""\n'
    )
    (repo / "pkg" / "util.py").write_text("A = 1\n")
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    (repo / "pkg" / "cache.py").write_text(
        (repo / "pkg" / "cache.py").read_text() + "    store.popitem(last=False)\n"
    )
    (repo / "pkg" / "util.py").write_text("A = 2\n")
    subprocess.run([*git, "commit", "-qam", "change"], cwd=repo, check=True)
    cfg = tmp_path / "rb.yml"
    cfg.write_text("lint:\n  linters: []\n")
    offered: list[tuple[str, ...]] = []

    def choose(messages, labels):
        offered.append(tuple(labels))
        return {"repo_qa": 1.0}

    script = Script()
    monkeypatch.setattr(compose, "backend", lambda settings, status=None: FakeBackend(script, choices=choose))
    code, doc, err = review_last_commit(
        repo,
        cfg,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--question",
        "Which function drops the least recently used key?",
    )
    assert code == 0, err
    answers = [f for f in doc["findings"] if f["route"] == "repo_qa"]
    assert len(answers) == 1 and len(script.seen) == 1  # two items, answered once
    assert "Sources: pkg/cache.py:1-3" in answers[0]["message"]
    assert all("repo_qa" in labels for labels in offered)


@pytest.mark.model
@needs_requests
def test_ask_with_the_embedded_model(requests_repo: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("xgrammar")
    cache = Path("~/.cache/reviewbot").expanduser()  # where the converted model is
    out, err = io.StringIO(), io.StringIO()
    try:
        flags = ["--format", "json", "--no-progress", "--cache-dir", str(cache), "--backend", "local"]
        code = main(["ask", SAMPLES[0][0], "--repo", str(requests_repo), *flags], out, err)
    finally:
        RepoIndex.path_for(cache, requests_repo).unlink(missing_ok=True)
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    assert doc["backend"] == "local"
    assert doc["found"] is True and doc["answer"] and doc["answer"] != NOT_FOUND, doc
    assert [s["path"] for s in doc["sources"]] == ["src/requests/utils.py"], doc


def test_bad_ask_input_is_one_line(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["ask", "  ", "--repo", str(tmp_path), "--backend", "none"], io.StringIO(), err) == 2
    assert err.getvalue() == "reviewbot: the question is empty\n"
    err = io.StringIO()
    assert (
        main(
            [
                "ask",
                "q",
                "--repo",
                str(tmp_path / "missing"),
                "--backend",
                "none",
                "--no-progress",
                "--cache-dir",
                str(tmp_path / "c"),
            ],
            io.StringIO(),
            err,
        )
        == 3
    )
    assert err.getvalue().startswith("reviewbot: ") and "not a folder" in err.getvalue()
