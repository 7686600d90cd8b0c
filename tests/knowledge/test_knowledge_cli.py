"""`reviewbot index docs|repo` and `reviewbot search` through the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

from reviewbot.platforms.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_index_docs_then_search(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    code, out, err = run("search", "anything", "--cache-dir", cache)
    assert (code, err) == (
        2,
        "reviewbot: the documentation index is empty: run `reviewbot index docs` first\n",
    )
    code, out, err = run("index", "docs", "--package", "textwrap", "--cache-dir", cache)
    assert code == 0, err
    assert out.startswith("docs index: 1 units (1 rebuilt)") and "0 did not parse" in out
    assert "[1/1] stdlib:textwrap" in err  # progress on stderr
    code, out, err = run(
        "search", "remove common leading whitespace from every line", "--format", "json", "--cache-dir", cache
    )
    assert code == 0, err
    first = json.loads(out)["results"][0]
    assert (first["object"], first["package"]) == ("textwrap.dedent", "python")
    assert first["signature"] == "def dedent(text)"
    code, out, err = run("search", "x", "-k", "0", "--cache-dir", cache)
    assert code == 2 and err == "reviewbot: -k must be at least 1\n"


def test_index_repo_is_incremental(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "a.py").write_text("def f():\n    return 1\n")
    args = ("index", "repo", "--repo", str(repo), "--no-progress", "--cache-dir", str(tmp_path / "c"))
    code, out, err = run(*args)
    assert code == 0 and out.startswith("repo index: 1 files (1 reindexed, 0 removed), 1 chunks"), err
    code, out, _ = run(*args)
    assert out.startswith("repo index: 1 files (0 reindexed, 0 removed), 1 chunks")
