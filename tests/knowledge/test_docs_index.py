"""The documentation index on a planted environment: static extraction only, re-exports, versions."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support.planted import make_site

from reviewbot.errors import InputError
from reviewbot.knowledge.docs import DocsIndex, Environment


@pytest.fixture
def env(tmp_path: Path):
    marker = tmp_path / "IMPORTED"
    return make_site(tmp_path, marker), marker, tmp_path


def test_indexing_never_imports_or_runs_the_indexed_code(env) -> None:
    environment, marker, tmp = env
    before = set(sys.modules)
    docs = DocsIndex.open(tmp / "cache", environment)
    stats = docs.build()
    assert stats.rebuilt == 2 and stats.failed == 0  # dist:oldlib and stdlib:textwrap2 (test/ skipped)
    assert docs.resolve("oldlib.fetch") is not None
    assert not marker.exists(), "indexing ran a module of the indexed environment"
    assert not {m for m in set(sys.modules) - before if m.startswith(("oldlib", "textwrap2"))}
    # the trap is real: importing the module does write the marker and fail
    sys.path.insert(0, str(environment.site[0]))
    try:
        with pytest.raises(SystemExit):
            __import__("oldlib")
    finally:
        sys.path.remove(str(environment.site[0]))
        for m in [m for m in sys.modules if m.startswith("oldlib")]:
            del sys.modules[m]
    assert marker.exists()


def test_entries_carry_package_version_signature_and_deprecations(env) -> None:
    environment, _, tmp = env
    docs = DocsIndex.open(tmp / "cache", environment)
    docs.ensure(["oldlib"])
    fetch = docs.resolve("oldlib.fetch")  # re-exported from oldlib.client
    assert fetch is not None and fetch.row.name == "oldlib.client.fetch"
    x = fetch.row.extra
    assert (x["package"], x["version"]) == ("oldlib", "2.1.0")
    assert fetch.row.signature == "def fetch(url, timeout=None, *, verify=True, retries=0)"
    assert x["params"] == ["url", "timeout", "verify", "retries"] and x["varkw"] is False
    assert x["deprecated"] is None  # only its `retries` argument is
    assert "retries" in x["param_notes"] and "deprecated since 2.0" in x["param_notes"]["retries"]
    get_json = docs.resolve("oldlib.client.get_json")
    assert get_json.row.extra["deprecated"].startswith("This function is deprecated since 2.0")
    session = docs.resolve("oldlib.Session")
    assert session.row.extra["params"] == ["retries", "backoff_factor"]
    assert docs.resolve("oldlib.quote_path").row.name == "oldlib.helpers.quote_path"  # via `import *`
    assert docs.resolve("oldlib.nothing_here") is None
    assert docs.resolve("textwrap2.dedent").row.extra["package"] == "python"


def test_a_new_package_version_rebuilds_only_that_package(env) -> None:
    environment, marker, tmp = env
    docs = DocsIndex.open(tmp / "cache", environment)
    assert docs.build().rebuilt == 2
    assert DocsIndex.open(tmp / "cache", environment).build().rebuilt == 0  # nothing changed
    make_site(tmp, marker, version="3.0.0")
    again = DocsIndex.open(tmp / "cache", environment)
    st = again.build()
    assert st.rebuilt == 1
    assert again.resolve("oldlib.fetch").row.extra["version"] == "3.0.0"
    assert again.store.count() == docs.store.count()  # the old version's entries are gone


def test_search_ranks_by_words_of_the_docstrings(env) -> None:
    environment, _, tmp = env
    docs = DocsIndex.open(tmp / "cache", environment)
    docs.build()
    names = [h.row.name for h in docs.search("percent encode url path", k=3)]
    assert names[0] == "oldlib.helpers.quote_path"
    assert docs.search("zzzz qqqq") == []


def test_the_index_file_is_per_environment_and_a_foreign_file_is_a_clear_error(env) -> None:
    environment, _, tmp = env
    other = Environment("3.12.0", environment.stdlib, environment.site)
    assert DocsIndex.path_for(tmp, environment) != DocsIndex.path_for(tmp, other)
    bad = DocsIndex.path_for(tmp / "c2", environment)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(InputError, match="not a reviewbot index"):
        DocsIndex.open(tmp / "c2", environment)


def test_the_real_environment_resolves_a_stdlib_re_export(tmp_path: Path) -> None:
    docs = DocsIndex.open(tmp_path, Environment.current())
    hit = docs.resolve("os.path.join")  # os imports posixpath as path
    assert hit is not None and hit.row.name == "posixpath.join" and hit.row.extra["package"] == "python"


def test_the_repository_docs_and_docstrings_join_the_index(env) -> None:
    environment, marker, tmp = env
    repo = tmp / "proj"
    (repo / "docs").mkdir(parents=True)
    (repo / "src" / "proj").mkdir(parents=True)
    (repo / "README.md").write_text("# Proj\n\n## Throttling\nRequests are throttled by the token bucket.\n")
    (repo / "docs" / "guide.rst").write_text("Guide\n=====\n\nHow to rotate the signing keys.\n")
    (repo / "src" / "proj" / "__init__.py").write_text(f"open({str(marker)!r}, 'w')\nraise SystemExit(1)\n")
    (repo / "src" / "proj" / "bucket.py").write_text(
        'def refill(rate):\n    """Refill the token bucket at `rate`."""\n'
    )
    docs = DocsIndex.open(tmp / "cache", environment)
    assert (
        docs.add_repository(repo) == 6
    )  # README: 2 sections; the guide: 1; modules proj, proj.bucket; refill
    assert docs.add_repository(repo) == 0  # unchanged
    top = docs.search("token bucket throttled", k=2)
    assert {h.row.name for h in top} == {"README.md > Proj > Throttling", "proj.bucket.refill"}
    assert docs.resolve("proj.bucket.refill").row.path == "src/proj/bucket.py"
    assert docs.search("rotate signing keys")[0].row.extra["package"] == "proj"
    assert not marker.exists()
