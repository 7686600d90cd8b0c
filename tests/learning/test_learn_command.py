"""`reviewbot learn` against the GitHub and GitLab stand-ins: the lessons the writers' verdicts teach,
printed and written as ``.reviewbot/learnings.yml`` (read back with ``learning.file``), the
repository's settings and committed lessons read from its default branch, and bad input as one line
with exit 2."""

from __future__ import annotations

import hashlib
import io
import json
import socket
from pathlib import Path

import pytest

from reviewbot.hosts.markers import Signer
from reviewbot.learning.describe import describe
from reviewbot.learning.file import PATH, parse
from reviewbot.platforms.cli import main
from tests.support.github_standin import GitHubStandIn, react, set_permission
from tests.support.gitlab_standin import GitLabStandIn, award
from tests.support.learning_threads import GITLAB_FILES, github_comment, github_diff, gitlab_thread

REPO, PROJECT = "octo/lib", "team/lib"
KEY = "the key the reviews sign with"
SIGNER = Signer(hashlib.sha256(KEY.encode()).digest())  # what REVIEWBOT_MARKER_KEY makes
KEEP = "version: 1\nlessons:\n  - {action: keep, rule: review/bug, path: docs/**, expires: 2099-01-01}\n"
HOLD = (
    "- hold review/bug on comparison-operator in pkg/core.py: rejected 3, acted on 0, in #1, #2, #3; "
    "expires 2027-05-30"
)


def learn(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["learn", "--no-progress", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def lessons(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- ")]


def _env(monkeypatch, tmp_path: Path, **env: str) -> None:
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_API_V4_URL", "REVIEWBOT_BOT_LOGIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("REVIEWBOT_MARKER_KEY", KEY)
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def github(monkeypatch, tmp_path):
    """Pull requests 1-4; the bot's comment on each of 1-3 got a 👎 from a writer, the one on 4 a 👎
    from a reader only."""
    with GitHubStandIn() as s:
        for n in range(1, 5):
            s.add_pull(REPO, n, base="b" * 40, head=f"{n:040x}", diff=github_diff("    if n > 1:"))
            comment = github_comment(s, REPO, n, f"The comparison operator changed ({n}).", signer=SIGNER)
            react(s, comment, "ann" if n < 4 else "rita", "THUMBS_DOWN")
        set_permission(s, REPO, "ann", "write")
        set_permission(s, REPO, "rita", "read")
        _env(monkeypatch, tmp_path, GITHUB_TOKEN=s.token, GITHUB_API_URL=s.url)
        yield s


def test_github_the_writers_lessons_are_printed_and_written(github: GitHubStandIn, tmp_path: Path) -> None:
    github.contents[(REPO, "main", PATH)] = KEEP  # the team's own lesson, committed
    github.contents[(REPO, "feature", PATH)] = "version: 1\nlessons: []\n"  # another branch's: not read
    code, out, err = learn("--repo", REPO, "--write")
    assert (code, err) == (0, "")
    assert out.startswith(f"What the team of {REPO} taught the review:\n")
    assert "  (learned from 3 signals of writers on 3 pull requests)" in out  # rita's 👎 teaches nothing
    assert lessons(out)[:2] == [
        "- keep review/bug on any line in docs/**: no pull request recorded (written by hand); "
        "expires 2099-01-01",
        HOLD,
    ]
    written = tmp_path / PATH
    assert f"written to {PATH}" in out
    back = parse(written.read_text(encoding="utf-8"))
    assert lessons(describe(back, REPO)) == lessons(out)  # the file holds what was printed
    assert [(x.action, x.path, x.pull_requests) for x in back.lessons][:2] == [
        ("keep", "docs/**", ()),
        ("hold", "pkg/core.py", (1, 2, 3)),
    ]
    assert ("GET", f"/repos/{REPO}/contents/{PATH}", 200) in github.log


def test_github_json_for_machines(github: GitHubStandIn, tmp_path: Path) -> None:
    code, out, _ = learn("--repo", REPO, "--format", "json", "--write", "out/l.yml")
    doc = json.loads(out)
    assert code == 0 and doc["repository"] == REPO and doc["written"] == "out/l.yml"
    hold = next(x for x in doc["lessons"] if "message" not in x)
    assert hold == {
        "action": "hold",
        "rule": "review/bug",
        "fact_kind": "comparison-operator",
        "path": "pkg/core.py",
        "rejected": 3,
        "accepted": 0,
        "pull_requests": [1, 2, 3],
        "expires": "2027-05-30",
    }
    assert parse((tmp_path / "out" / "l.yml").read_text()).lessons[0].pull_requests == (1, 2, 3)


def test_github_the_default_branchs_settings_bound_the_read(github: GitHubStandIn) -> None:
    github.contents[(REPO, "main", ".reviewbot.yml")] = "learning:\n  pull_requests: 2\n  enabled: false\n"
    code, out, _ = learn("--repo", REPO)
    assert code == 0
    assert "  (signals: read the 2 most recently updated pull requests (the limit))" in out
    assert "learning.enabled is false in main:.reviewbot.yml (the default branch)" in out
    assert HOLD not in out  # #4 and #3 only: one writer's 👎 teaches no kind
    code, out, _ = learn("--repo", REPO, "--pull-requests", "4")  # the flag over the file
    assert code == 0 and HOLD in out


def test_github_comments_signed_with_another_key_teach_nothing(github: GitHubStandIn, monkeypatch) -> None:
    monkeypatch.setenv("REVIEWBOT_MARKER_KEY", "another key")
    code, out, _ = learn("--repo", REPO)
    assert code == 0 and HOLD not in out
    assert "(no signals read: no one gave a verdict on the bot's comments yet, or none was recognised" in out


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (["--repo", REPO], {"GITHUB_TOKEN": ""}, "no GitHub token: set GITHUB_TOKEN"),
        (["--repo", "octo"], {}, "--repo wants OWNER/NAME, got 'octo'"),
        (["--repo", "octo/lib#3"], {}, "--repo wants OWNER/NAME"),
        (
            ["--repo", "octo/missing"],
            {},
            "has no repository octo/missing, or the token cannot see it (HTTP 404)",
        ),
        (["--repo", REPO], {"GITHUB_TOKEN": "ghp_wrong"}, "401"),
        (["--repo", REPO], {"GITHUB_API_URL": "closed"}, "Connection"),
        (["--repo", REPO, "--pull-requests", "0"], {}, "--pull-requests must be 1 to 1000, got 0"),
        (["--repo", REPO, "--project", PROJECT], {}, "not allowed with argument"),
        ([], {}, "one of the arguments --repo --project is required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(github, monkeypatch, argv, env, said) -> None:
    refused(monkeypatch, argv, env, said, closed=f"http://127.0.0.1:{_closed_port()}")


def refused(monkeypatch, argv: list[str], env: dict[str, str], said: str, closed: str) -> None:
    """``env`` set ("" unsets, "closed": a port nobody listens on): one line, exit 2, nothing printed."""
    for name, value in env.items():
        value = closed if value == "closed" else value
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name)
    code, out, err = learn(*argv)
    assert (code, out) == (2, "")
    assert err.startswith("reviewbot: ") and err.count("\n") == 1 and said in err, err


def test_a_bad_committed_file_is_one_line_naming_the_default_branch(github: GitHubStandIn) -> None:
    github.contents[(REPO, "main", PATH)] = "version: 1\nlessons: 3\n"
    code, out, err = learn("--repo", REPO)
    assert (code, out) == (2, "")
    assert err.startswith("reviewbot: main:.reviewbot/learnings.yml (the default branch): lessons: ")


@pytest.fixture
def gitlab(monkeypatch, tmp_path):
    """Merge requests 1-4; the bot's thread on each of 1-3 got a 👎 from a Developer, the one on 4
    from a Guest only."""
    with GitLabStandIn() as s:
        s.add_member(PROJECT, "dev", 30)
        s.add_member(PROJECT, "guest", 10)
        for iid in range(1, 5):
            s.add_mr(PROJECT, iid, base="b" * 40, head=f"{iid:040x}", files=GITLAB_FILES)
            note = gitlab_thread(s, PROJECT, iid, f"The comparison operator changed ({iid}).", signer=SIGNER)
            award(s, PROJECT, iid, note, "dev" if iid < 4 else "guest", "thumbsdown")
        _env(monkeypatch, tmp_path, GITLAB_TOKEN=s.token, CI_API_V4_URL=s.url)
        yield s


def test_gitlab_the_writers_lessons_are_printed_and_written(gitlab: GitLabStandIn, tmp_path: Path) -> None:
    gitlab.files[(PROJECT, "main", PATH)] = KEEP
    code, out, err = learn("--project", PROJECT, "--write", "l.yml")
    assert (code, err) == (0, "")
    assert "  (learned from 3 signals of writers on 3 pull requests)" in out
    assert HOLD in lessons(out)
    back = parse((tmp_path / "l.yml").read_text(encoding="utf-8"))
    assert lessons(describe(back, PROJECT)) == lessons(out)
    assert back.lessons[0].path == "docs/**"  # the committed lesson kept as the team wrote it


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (["--project", "team/missing"], {}, "GitLab has no repository team/missing"),
        (["--project", "lib"], {}, "--project wants GROUP/NAME"),
        (["--project", PROJECT], {"GITLAB_TOKEN": "", "CI_JOB_TOKEN": "x"}, "CI_JOB_TOKEN cannot read"),
        (["--project", PROJECT], {"GITLAB_TOKEN": ""}, "no GitLab token: set GITLAB_TOKEN"),
        (["--project", PROJECT], {"GITLAB_TOKEN": "glpat-wrong"}, "401"),
        (["--project", PROJECT], {"CI_API_V4_URL": "closed"}, "gave up after 3 tries"),
    ],
)
def test_gitlab_bad_input_is_one_line_and_exit_2(gitlab, monkeypatch, argv, env, said) -> None:
    refused(monkeypatch, argv, env, said, closed=f"http://127.0.0.1:{_closed_port()}/api/v4")
