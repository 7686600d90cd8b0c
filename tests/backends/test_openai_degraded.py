"""Fault injection through the whole review (CLI, git source, real linters, openai backend, stand-in).

Server down, slow, 429 storm, malformed bodies, malformed model output: no crash, no lost work item
(each is reviewed or listed as not reviewed with its reason), bounded time, the linters' findings
kept, and a note that says what happened. Then concurrency: items really overlap at the server and
the report is the same as a sequential run's.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from support.cli_json import review_git_openai
from support.openai_standin import StandIn, minimal_instance

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]

OLD = """import subprocess


def total(items):
    result = 0
    result = sum(items)
    return result
"""

NEW = """import subprocess


def total(items):
    result = 0
    result = accumulate_every_single_item_of_the_sequence_with_a_helper_nobody_defined(items)
    subprocess.call("ls " + str(result), shell=True)
    return result
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True)


def make_repo(root: Path, files: int) -> Path:
    root.mkdir()
    git(root, "init", "-q")
    for i in range(files):
        (root / f"mod{i}.py").write_text(OLD)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    for i in range(files):
        (root / f"mod{i}.py").write_text(NEW.replace("ls ", f"ls{i} "))
    git(root, "commit", "-qam", "change")
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    return make_repo(tmp_path / "repo", 4)


def answer(schema):
    if "confirmed" in schema.get("properties", {}):  # the generative strategy's check pass
        return {"confirmed": True, "reason": "The rows call a helper that nothing defines."}
    if "findings" not in schema.get("properties", {}):  # the backend's structured-output probe
        return minimal_instance(schema)
    finding = {
        "row": 3,
        "severity": "error",
        "category": "bug",
        "message": "The helper called here is not defined anywhere.",
        "code": "accumulate_every_single_item",
        "suggestion": None,
    }
    if "GenerativeComment" in schema.get("$defs", {}):  # review.strategy auto with a server: generative
        finding["confidence"] = 0.9
    return {"findings": [finding]}


def review(
    repo: Path,
    url: str,
    *,
    timeout: float = 1,
    retries: int = 1,
    concurrency: int | None = None,
    deadline: float | None = None,
) -> tuple[int, dict, str, float]:
    model = {"timeout": timeout, "retries": retries, "concurrency": concurrency, "deadline": deadline}
    return review_git_openai(repo, url, **{k: v for k, v in model.items() if v is not None})


def items_of(doc: dict) -> tuple[int, list[dict]]:
    model_skips = [s for s in doc["not_reviewed"] if s["stage"] == "model"]
    return doc["stats"]["work_items"], model_skips


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_degraded(doc: dict, *, expect: str) -> None:
    total, skips = items_of(doc)
    assert total == 4
    # no lost item: every work item is either reviewed or listed with its reason
    assert doc["stats"]["reviewed_items"] + len({s["path"] for s in skips}) == total, skips
    assert all(s["reason"] for s in skips)
    (note,) = [n for n in doc["notes"] if n.startswith("model degraded")]
    assert expect in note, note
    assert "linters' result only" in note
    # the linters' findings survive the model's failure (bandit: shell=True on every changed file)
    assert {f["path"] for f in doc["findings"] if f["source"] == "bandit"} == {f"mod{i}.py" for i in range(4)}


@pytest.mark.parametrize("concurrency", [1, None])  # None: the openai default, 8 at once
def test_server_down_degrades_to_the_linters(repo: Path, concurrency: int | None) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    code, doc, err, took = review(repo, url, concurrency=concurrency)
    assert code == 0, err
    assert_degraded(doc, expect="ConnectError")
    assert url.removesuffix("/v1") in doc["notes"][-1]  # which server
    assert "s into the model work" in doc["notes"][-1] and "after trying for" in doc["notes"][-1]
    _, skips = items_of(doc)
    assert doc["stats"]["reviewed_items"] == 0 and len(skips) == 4
    unsent = sum("not sent to the model: the model server is unavailable" in s["reason"] for s in skips)
    if concurrency == 1:
        assert unsent == 3  # one item's bounded retries, then the rest is not sent
    assert took < 15  # timeout 1 s, 1 retry: each call gives up within about 2 s


def test_slow_server_times_out_and_degrades(repo: Path) -> None:
    with StandIn(json_answer=answer, latency=5.0) as server:
        code, doc, err, took = review(repo, server.url)
    assert code == 0, err
    assert_degraded(doc, expect="timed out after")
    assert took < 20  # not 4 items x 5 s x retries


def test_429_storm_beyond_the_retry_bound_degrades(repo: Path) -> None:
    with StandIn(json_answer=answer) as server:
        server.fail("429", times=1000, retry_after=0)
        code, doc, err, took = review(repo, server.url, retries=2, concurrency=1)
        chats = sum(p.endswith("/chat/completions") for p in server.paths())
    assert code == 0, err
    assert_degraded(doc, expect="HTTP 429")
    assert chats == 3  # one item's three attempts; the other items were not sent
    assert took < 15


def test_malformed_bodies_cost_their_items_then_stop(repo: Path) -> None:
    with StandIn(json_answer=answer) as server:
        server.fail("truncated", times=1000)
        # no retries: three failed attempts stay below the circuit breaker's threshold (5)
        code, doc, err, took = review(repo, server.url, retries=0, concurrency=1)
    assert code == 0, err
    assert_degraded(doc, expect="malformed JSON body")
    _, skips = items_of(doc)
    failed = [s for s in skips if s["reason"].startswith("model call failed")]
    unsent = [s for s in skips if s["reason"].startswith("not sent")]
    assert (len(failed), len(unsent)) == (3, 1)  # three failures in a row, then the rest is not sent
    assert "answers failed for 3 items in a row" in unsent[0]["reason"]
    assert took < 30


def test_malformed_model_output_is_retried_once_then_not_reviewed(repo: Path) -> None:
    # a server without structured output (mode "none") whose model answers prose, not JSON
    with StandIn(honours=(), text="I think this looks fine.") as server:
        code, doc, err, _ = review(repo, server.url)
        bodies = [b for _, p, _, b in server.requests if p.endswith("/chat/completions")]
    assert code == 0, err
    generations = [b for b in bodies if b.get("max_tokens", 0) > 1 and not b.get("continue_final_message")]
    probes = [b for b in generations if "hello" in b["messages"][0]["content"].lower()]
    assert len(generations) - len(probes) == 2 * 4  # each flagged item: one answer, one retry
    invalid = [s for s in doc["not_reviewed"] if "model output invalid twice" in s["reason"]]
    assert {s["path"].split(":")[0] for s in invalid} == {f"mod{i}.py" for i in range(4)}
    assert not any(n.startswith("model degraded") for n in doc["notes"])  # the server itself was fine


def test_concurrent_items_overlap_and_match_the_sequential_report(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    repo = make_repo(tmp_path / "repo", 6)
    runs = {}
    for n in (1, 6):
        with StandIn(json_answer=answer, latency=0.3) as server:
            code, doc, err, took = review(repo, server.url, timeout=10, concurrency=n)
            runs[n] = (doc, took, server.max_in_flight)
        assert code == 0, err
    (seq, t_seq, peak_seq), (par, t_par, peak_par) = runs[1], runs[6]
    assert peak_seq == 1 and peak_par >= 4, (peak_seq, peak_par)
    assert sum(f["source"] == "model" for f in seq["findings"]) == 6  # one per file
    for key in ("findings", "not_reviewed", "unplaced"):
        assert par.get(key) == seq.get(key), key
    assert par["stats"]["reviewed_items"] == seq["stats"]["reviewed_items"] == 6
    assert t_par < t_seq * 0.6, (t_par, t_seq)


def test_deadline_bounds_a_slow_review(repo: Path) -> None:
    with StandIn(json_answer=answer, latency=0.8) as server:
        code, doc, err, took = review(repo, server.url, timeout=10, deadline=1, concurrency=1)
    assert code == 0, err
    _, skips = items_of(doc)
    unsent = [s for s in skips if "time budget of 1 s" in s["reason"]]
    assert unsent and doc["stats"]["reviewed_items"] + len(unsent) == 4
    assert any("time budget of 1 s" in n for n in doc["notes"])
