"""The webhook app on a real uvicorn on loopback, with the SQLite store and with the Redis store:
forged signatures, replays, oversized bodies, ignored events, GitHub's test vector and the example
payloads of ``@octokit/webhooks-examples`` signed by ``@octokit/webhooks-methods`` (npm, `.ci/run`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
import uvicorn
from support.service_cluster import free_port

from reviewbot import config
from reviewbot.compose import job_store
from reviewbot.service import verify
from reviewbot.service.app import BodyLimits, create_app

SECRET = "It's a Secret to Everybody"
GL_TOKEN = "gl-webhook-token"
LIMIT = 256 * 1024
PR = {
    "action": "opened",
    "repository": {"full_name": "o/r"},
    "pull_request": {"number": 7, "state": "open", "draft": False, "head": {"sha": "a" * 40}},
}
HERE = Path(__file__).parent


def settings_for(store: str) -> config.Settings:
    env = {
        "REVIEWBOT_GITHUB_WEBHOOK_SECRET": SECRET,
        "REVIEWBOT_GITLAB_WEBHOOK_SECRET": GL_TOKEN,
        "REVIEWBOT_SERVICE_STORE": store,
    }
    return config.load({"service.max_body": LIMIT}, env, None)


def redis_db1(redis_url: str) -> str:
    url = redis_url.rsplit("/", 1)[0] + "/1"
    redis.Redis.from_url(url).flushdb()
    return url


class Served:
    def __init__(self, settings: config.Settings, limits: BodyLimits | None = None) -> None:
        self.store = job_store(settings)
        self.port = free_port()
        app = create_app(settings, self.store, model_check=lambda: True, limits=limits or BodyLimits())
        cfg = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def github(
        self, body: bytes, *, event: str = "pull_request", delivery: str = "d-1", signature: str | None = None
    ) -> tuple[int, dict]:
        sig = verify.github_signature(SECRET.encode(), body) if signature is None else signature
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}
        if sig:
            headers["X-Hub-Signature-256"] = sig
        return self.post("/webhooks/github", body, headers)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(params=["sqlite", "redis"])
def served(request, tmp_path):
    where = (
        f"sqlite:///{tmp_path}/jobs.sqlite3"
        if request.param == "sqlite"
        else redis_db1(request.getfixturevalue("redis_url"))
    )
    s = Served(settings_for(where))
    yield s
    s.close()


def test_forged_signatures_are_all_rejected_and_nothing_is_stored(served) -> None:
    body = json.dumps(PR).encode()
    good = verify.github_signature(SECRET.encode(), body)
    forged = [
        "",  # none
        verify.github_signature(b"another secret", body),
        verify.github_signature(SECRET.encode(), body + b" "),  # over another body
        "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest(),
        good[:-1],
        good[:-1] + ("0" if good[-1] != "0" else "1"),
        "sha256=",
    ]
    answers = [served.github(body, signature=sig, delivery=f"f-{i}")[0] for i, sig in enumerate(forged)]
    assert answers == [401] * len(forged)
    gl = [
        served.post("/webhooks/gitlab", b"{}", h)[0]
        for h in ({}, {"X-Gitlab-Token": "wrong"}, {"X-Gitlab-Token": GL_TOKEN + "x"})
    ]
    assert gl == [401, 401, 401]
    assert served.store.jobs() == []


def test_a_replayed_delivery_is_stored_once(served) -> None:
    body = json.dumps(PR).encode()
    answers = [served.github(body, delivery="same") for _ in range(3)]
    assert [a[1]["status"] for a in answers] == ["queued", "duplicate", "duplicate"]
    assert {a[0] for a in answers} == {202}
    assert served.github(body, delivery="other")[1]["status"] == "duplicate"  # the same head
    assert len(served.store.jobs()) == 1


def _raw(port: int, head: bytes, body_part: bytes) -> bytes:
    """Send the headers and part of the body only, then read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head + body_part)
        return s.recv(4096)


def test_an_oversized_body_gets_413_before_it_is_read(served) -> None:
    sig = verify.github_signature(SECRET.encode(), b"x")
    head = (
        f"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\n"
        f"X-Hub-Signature-256: {sig}\r\nContent-Length: {LIMIT * 40}\r\n\r\n"
    ).encode()
    assert _raw(served.port, head, b"{" * 1000).startswith(b"HTTP/1.1 413")  # 1000 of 10 MB sent
    chunked = (
        f"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: pull_request\r\n"
        f"X-Hub-Signature-256: {sig}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"{" * 64 * 1024)
    assert _raw(served.port, chunked, chunk * 5).startswith(b"HTTP/1.1 413")  # no length: counted
    gl_head = (
        f"POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: {GL_TOKEN}\r\n"
        f"Content-Length: {LIMIT + 1}\r\n\r\n"
    ).encode()
    assert _raw(served.port, gl_head, b"{").startswith(b"HTTP/1.1 413")
    assert served.store.jobs() == []


def _ask(comment: object = 9, repo: str = "o/r") -> dict:
    return {
        "action": "created",
        "repository": {"full_name": repo},
        "sender": {"type": "User"},
        "issue": {"number": 7, "pull_request": {"url": "u"}},
        "comment": {"id": comment, "body": "/ask why?", "user": {"login": "alice"}},
    }


def _gitlab(served, payload: dict, event: str, key: str) -> tuple[int, dict]:
    headers = {"X-Gitlab-Token": GL_TOKEN, "X-Gitlab-Event": event, "Idempotency-Key": key}
    return served.post("/webhooks/gitlab", json.dumps(payload).encode(), headers)


def test_a_replayed_signed_ask_under_fresh_delivery_ids_is_one_job(served) -> None:
    body = json.dumps(_ask()).encode()
    answers = [
        served.github(body, event="issue_comment", delivery=f"fresh-{i}")[1]["status"] for i in range(5)
    ]
    assert answers == ["queued"] + ["duplicate"] * 4
    note = {
        "project": {"path_with_namespace": "g/p"},
        "merge_request": {"iid": 3},
        "user": {"username": "bob"},
        "object_attributes": {
            "id": 5,
            "action": "create",
            "noteable_type": "MergeRequest",
            "note": "/ask why?",
        },
    }
    assert [_gitlab(served, note, "Note Hook", f"k-{i}")[1]["status"] for i in range(3)] == [
        "queued",
        "duplicate",
        "duplicate",
    ]
    assert [j.kind for j in served.store.jobs()] == ["command", "command"]
    edited = {**note, "object_attributes": {**note["object_attributes"], "id": 6, "action": "update"}}
    assert _gitlab(served, edited, "Note Hook", "k-edit")[1]["status"] == "ignored"  # an edit runs nothing
    assert len(served.store.jobs()) == 2


def _deep(n: int) -> bytes:
    return b'{"action": "opened", "x": ' + b"[" * n + b"]" * n + b"}"


HOSTILE = [
    ("deep list", _deep(50_000)),
    ("deep object", b'{"a":' * 30_000 + b"1" + b"}" * 30_000),
    ("65 levels", _deep(65)),
    ("number 1e300", json.dumps({**PR, "pull_request": {**PR["pull_request"], "number": 1e300}}).encode()),
    ("number 1e400", json.dumps(PR).replace('"number": 7', '"number": 1e400').encode()),
    ("huge integer", json.dumps(PR).replace('"number": 7', '"number": 1' + "0" * 300).encode()),
    ("repo newline", json.dumps({**PR, "repository": {"full_name": "o/r\nreviewbot: job 1 done"}}).encode()),
    (
        "head newline",
        json.dumps({**PR, "pull_request": {**PR["pull_request"], "head": {"sha": "a" * 40 + "\n"}}}).encode(),
    ),
    ("installation list", json.dumps({**PR, "installation": [1]}).encode()),
    ("installation 1e300", json.dumps({**PR, "installation": {"id": 1e300}}).encode()),
    ("pull_request list", json.dumps({**PR, "pull_request": [1]}).encode()),
]


@pytest.mark.parametrize(("what", "body"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_payloads_get_a_4xx_never_a_500(served, what, body, caplog) -> None:
    code, doc = served.github(body, event="pull_request", delivery=f"h-{what}")
    assert 400 <= code < 500, (what, code, doc)
    mr = body.replace(b'"full_name"', b'"path_with_namespace"').replace(b'"repository"', b'"project"')
    code, doc = served.post(
        "/webhooks/gitlab", mr, {"X-Gitlab-Token": GL_TOKEN, "X-Gitlab-Event": "Merge Request Hook"}
    )
    assert 400 <= code < 500 or doc.get("status") == "ignored", (what, code, doc)
    assert served.store.jobs() == []
    assert not [r for r in caplog.records if "\n" in r.getMessage()]


def test_a_gitlab_repository_path_with_a_line_break_is_refused_not_logged_as_two_lines(
    served, caplog
) -> None:
    mr = {
        "object_kind": "merge_request",
        "project": {"path_with_namespace": "g/p\nreviewbot: job 9 (gitlab g/x#1 review): done"},
        "object_attributes": {"iid": 3, "state": "opened", "action": "open", "last_commit": {"id": "c" * 40}},
    }
    caplog.set_level("INFO", "reviewbot.service")
    assert _gitlab(served, mr, "Merge Request Hook", "nl")[0] == 400
    assert served.store.jobs() == [] and not [r for r in caplog.records if "\n" in r.getMessage()]


def _open(port: int, path: str, length: int, sent: bytes, headers: str = "") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {length}\r\n\r\n".encode() + sent)
    return s


def _answer(s: socket.socket) -> bytes:
    with s:
        return s.recv(4096).split(b"\r\n", 1)[0]


def test_stalled_bodies_are_cut_off_and_do_not_hold_the_service(tmp_path, capfd) -> None:
    limits = BodyLimits(deadline_s=1.0, bodies=4, buffered=100_000)
    s = Served(settings_for(f"sqlite:///{tmp_path}/jobs.sqlite3"), limits)
    try:
        gh = "X-GitHub-Event: pull_request\r\nX-Hub-Signature-256: sha256=00\r\n"
        started = time.monotonic()
        stalled = [_open(s.port, "/webhooks/github", 1000, b"{", gh) for _ in range(6)]  # 4 read, 2 wait
        time.sleep(0.3)
        t = time.monotonic()
        assert s.get("/healthz")[0] == 200 and time.monotonic() - t < 0.5  # the loop is free
        assert [_answer(c) for c in stalled] == [b"HTTP/1.1 408 Request Timeout"] * 6
        assert 1.0 <= time.monotonic() - started < 5
        half = [_open(s.port, "/webhooks/github", 200_000, b"x" * 60_000, gh) for _ in range(2)]
        assert sorted(_answer(c) for c in half) == [
            b"HTTP/1.1 408 Request Timeout",
            b"HTTP/1.1 503 Service Unavailable",
        ]  # 120,000 bytes would pass the 100,000 held before verification
        assert s.github(json.dumps(PR).encode())[1]["status"] == "queued"  # served again once they are gone
        _open(s.port, "/webhooks/github", 1000, b"{", gh).close()  # a client that goes away: no traceback
        time.sleep(0.5)
        assert "Traceback" not in capfd.readouterr().err
    finally:
        s.close()


def test_ignored_events_get_a_2xx(served) -> None:
    closed = json.dumps({**PR, "action": "closed"}).encode()
    assert served.github(closed)[0] == 202
    assert served.github(b'{"zen": "hi", "hook_id": 1}', event="ping", delivery="p")[0] == 202
    pipeline = json.dumps({"object_kind": "pipeline", "project": {"path_with_namespace": "g/p"}}).encode()
    code, doc = served.post(
        "/webhooks/gitlab", pipeline, {"X-Gitlab-Token": GL_TOKEN, "X-Gitlab-Event": "Pipeline Hook"}
    )
    assert (code, doc["status"]) == (202, "ignored")
    assert served.store.jobs() == []


def test_gitlab_merge_request_is_queued_once_by_its_idempotency_key(served) -> None:
    mr = {
        "object_kind": "merge_request",
        "project": {"path_with_namespace": "g/p"},
        "object_attributes": {"iid": 3, "state": "opened", "action": "open", "last_commit": {"id": "c" * 40}},
    }
    headers = {"X-Gitlab-Token": GL_TOKEN, "X-Gitlab-Event": "Merge Request Hook", "Idempotency-Key": "k1"}
    assert served.post("/webhooks/gitlab", json.dumps(mr).encode(), headers)[1]["status"] == "queued"
    assert served.post("/webhooks/gitlab", json.dumps(mr).encode(), headers)[1]["status"] == "duplicate"
    [job] = served.store.jobs()
    assert (job.host, job.repo, job.number, job.head) == ("gitlab", "g/p", 3, "c" * 40)


def test_githubs_documented_test_vector_is_accepted(served) -> None:
    vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert served.github(b"Hello, World!", signature=vector)[0] == 400  # verified; then not JSON
    assert served.github(b"Hello, World!", signature=vector.replace("7571", "7570"))[0] == 401


def test_health_readiness_and_metrics(served) -> None:
    served.github(json.dumps(PR).encode())
    assert served.get("/healthz") == (200, b'{"status":"ok"}')
    code, body = served.get("/readyz")
    assert (code, json.loads(body)) == (200, {"store": True, "model": True})
    code, text = served.get("/metrics")
    assert code == 200
    assert b"reviewbot_queue_depth 1.0" in text and b'reviewbot_jobs{state="queued"} 1.0' in text
    assert b"reviewbot_review_seconds" in text and b"reviewbot_model_errors_total" in text
    assert SECRET.encode() not in text


def _octokit_root() -> str:
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed (.ci/run installs the @octokit packages)"
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=True).stdout.strip()
    assert Path(root, "@octokit/webhooks-examples").is_dir(), (
        "npm install -g @octokit/webhooks-examples@7.6.1"
    )
    return root


def test_octokit_examples_signed_by_octokit(served) -> None:
    lines = subprocess.run(
        ["node", str(HERE / "octokit_sign.mjs"), _octokit_root(), SECRET],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    examples = [json.loads(line) for line in lines]
    assert len(examples) > 300
    answers: dict[str, int] = {}
    for i, ex in enumerate(examples):
        body = ex["body"].encode()
        code, doc = served.github(body, event=ex["event"], delivery=f"octo-{i}", signature=ex["signature"])
        assert code == 202, (ex["event"], code, doc)
        answers[doc["status"]] = answers.get(doc["status"], 0) + 1
        forged = verify.github_signature(b"not the secret", body)
        assert served.github(body, event=ex["event"], delivery=f"forged-{i}", signature=forged)[0] == 401
    # the examples are all PR 2 of Codertocat/Hello-World at one head: one review job, the other
    # review events of it are duplicates, the rest (closed, labeled, comments without a command) ignored
    assert answers["queued"] == 1 and answers["duplicate"] >= 5 and answers["ignored"] > 250, answers
    [job] = served.store.jobs()
    assert (job.host, job.repo, job.number, job.kind) == ("github", "Codertocat/Hello-World", 2, "review")
