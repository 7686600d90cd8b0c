"""The change's tests on the requests repository: a change that breaks a tested function is
reported as a failing test on the changed line, with the test's name and assertion.

The change (support/requests_repo.make_strip_auth_change, built in tmp_path from the release
tarball) makes ``should_strip_auth`` keep credentials across a host change. requests' own
tests/test_requests.py runs in the bubblewrap sandbox, offline: the tests that need
pytest-httpbin's fixtures are deselected (this Python has no pytest-httpbin) and counted, and
those that need the network are named as not run here, not blamed on the change.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from support.requests_repo import SESSIONS, make_strip_auth_change, requests_available

from reviewbot.platforms.cli import main
from reviewbot.runners.sandbox import BubblewrapSandbox

pytestmark = pytest.mark.skipif(
    not requests_available(), reason="the requests tarballs are not in ../shared/data"
)

TEST = "tests/test_requests.py::TestRequests::test_should_strip_auth_host_change"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = BubblewrapSandbox().probe()
    if reason is not None and os.environ.get("REVIEWBOT_REQUIRE_SANDBOX") == "1":
        pytest.fail(f"REVIEWBOT_REQUIRE_SANDBOX=1 but the sandbox is unavailable: {reason}")
    if reason is not None:
        pytest.skip(f"sandbox unavailable here: {reason}")
    return make_strip_auth_change(tmp_path_factory.mktemp("rq"))


def review(repo: Path, monkeypatch: pytest.MonkeyPatch, *flags: str) -> tuple[int, dict]:
    monkeypatch.chdir(repo)
    out, err = io.StringIO(), io.StringIO()
    rc = main(["review", "--git", "HEAD~1..HEAD", "--format", "json", "--no-progress", *flags], out, err)
    return rc, json.loads(out.getvalue())


def check(rc: int, report: dict) -> None:
    (f,) = [f for f in report["findings"] if f["source"] == "pytest"]
    assert (f["path"], f["line"], f["in_added"]) == (SESSIONS, 132, True)  # `return False`
    assert (f["rule"], f["severity"], f["route"]) == ("pytest/failed", "error", "tests")
    assert f["message"].startswith(f"test {TEST} fails: AssertionError: assert False")
    assert "should_strip_auth('http://example.com/foo', 'http://another.example.com/')" in f["message"]
    assert f["message"].endswith("(passes at base)")
    assert rc == 1  # a failing test is evidence: it fails the run with the default --fail-on error
    notes = "\n".join(report["notes"])
    assert "the change's tests (120 s budget, in the sandbox): 1 file(s) run: tests/test_requests.py" in notes
    assert (
        "deselected: they need fixtures this Python lacks (httpbin, httpbin_ca_bundle, httpbin_secure)"
        in notes
    )
    # the tests that need the network are the machine's, named as not run here, not the change's
    assert (
        "not run here, not failures of the change: it needs the network (the sandbox has only its own "
        "loopback): tests/test_requests.py::TestTimeout::"
    ) in notes


def test_the_broken_function_is_reported_as_its_failing_test(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(*review(repo, monkeypatch, "--backend", "none"))


@pytest.mark.model
def test_the_broken_function_is_reported_with_the_embedded_model(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("xgrammar")
    check(*review(repo, monkeypatch, "--backend", "local"))
