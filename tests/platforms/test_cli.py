"""The command line: `main(argv, stdout, stderr)` in-process, and a few real subprocesses.

No test here loads the real model: reviews run with `--backend none`, and the ones that need
findings swap `compose.backend` for the scripted fake backend.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from support.samples import CALC

from reviewbot import compose, config
from reviewbot.backends.fake import FakeBackend
from reviewbot.model import (
    Anchored,
    ChangeSet,
    Finding,
    Location,
    Result,
    Severity,
    Side,
    Stats,
    Unanchored,
)
from reviewbot.platforms.cli import main
from reviewbot.platforms.shared import exit_code
from reviewbot.ports import Scored

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "reviewbot/reporters/result.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FINDING_KEYS = {
    "path",
    "side",
    "line",
    "start_line",
    "end_line",
    "severity",
    "route",
    "rule",
    "message",
    "suggestion",
}


def _shared() -> Path | None:
    for base in (REPO.parent / "shared", REPO / "shared"):
        if (base / "data").is_dir():
            return base / "data"
    return None


SHARED = _shared()
needs_shared = pytest.mark.skipif(SHARED is None, reason=f"shared data not found at {REPO.parent}/shared")

SMALL = (
    CALC
    + """\
diff --git a/poetry.lock b/poetry.lock
--- a/poetry.lock
+++ b/poetry.lock
@@ -1 +1 @@
-version = 1
+version = 2
"""
)

CONTEXT_DIFF = """\
*** a.py\t2024-01-01 00:00:00
--- a.py\t2024-01-02 00:00:00
***************
*** 1,2 ****
  x = 1
! y = 2
--- 1,2 ----
  x = 1
! y = 3
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in list(os.environ):
        if var.startswith("REVIEWBOT_") or var in ("NO_COLOR", "XDG_CACHE_HOME"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)  # no .reviewbot.yml of the checkout is picked up


@pytest.fixture
def small(tmp_path: Path) -> Path:
    p = tmp_path / "small.diff"
    p.write_text(SMALL, encoding="utf-8")
    return p


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(argv), stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def review_json(path: str | Path, *extra: str) -> tuple[int, str, str]:
    return cli("review", "--backend", "none", "--format", "json", "--diff", str(path), *extra)


def assert_one_line_error(err: str) -> None:
    assert err.startswith("reviewbot: "), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err


def run_py(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ------------------------------------------------------------------------------ the fake model


def fake_scores(messages, text: str) -> Scored:
    lines = text.splitlines(keepends=True)
    offs = [sum(len(x) for x in lines[:i]) for i in range(len(lines))]
    lp = -1.0 if "n = len(items)\n" in text else -1.5  # the old version is the likelier one
    return Scored(tuple(lp for _ in lines), tuple(offs))


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch):
    """compose.backend -> a fake whose answer points at the added row (R4) with a suggestion."""
    answer = {
        "row": 4,
        "severity": "error",
        "category": "bug",
        "code": "n = len(items) - 1",
        "suggestion": "    n = len(items)",
    }
    made: list[FakeBackend] = []

    def backend(settings, status=None):
        b = FakeBackend(texts=lambda m, s: json.dumps({"findings": [answer]}), scores=fake_scores)
        made.append(b)
        return b

    monkeypatch.setattr(compose, "backend", backend)
    return made


# ------------------------------------------------------------------------------- no model libraries


def test_importing_the_cli_loads_no_model_library() -> None:
    p = run_py(
        "import reviewbot.platforms.cli, sys; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False False"


def test_a_review_with_backend_none_loads_no_model_library(small: Path) -> None:
    code = (
        "import io, sys\n"
        "from reviewbot.platforms.cli import main\n"
        "for fmt in ('json', 'terminal', 'sarif', 'markdown'):\n"
        "    rc = main(['review', '--backend', 'none', '--format', fmt, '--diff', sys.argv[1]],"
        " stdout=io.StringIO(), stderr=io.StringIO())\n"
        "    assert rc == 0, (fmt, rc)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    p = run_py(code, str(small))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False False"


# ---------------------------------------------------------------------------------------- JSON out


def test_json_report_validates_against_the_schema(small: Path) -> None:
    rc, out, err = review_json(small)
    assert (rc, err) == (0, "")
    doc = json.loads(out)
    VALIDATOR.validate(doc)
    assert doc["findings"] == [] and doc["stats"]["backend"] == "none"
    assert {"path": "poetry.lock", "reason": "lock file", "stage": "plan"} in doc["not_reviewed"]
    assert {"path": "pkg/calc.py", "reason": "not sent to a model (backend none)", "stage": "model"} in doc[
        "not_reviewed"
    ]
    assert any("linters" in n and "not run" in n for n in doc["notes"])


def test_json_findings_carry_every_field(small: Path, fake_model) -> None:
    # with review.suggestions the model is asked for the row and a fix: the report carries both
    asked = small.parent / "suggest.yml"
    asked.write_text("review:\n  suggestions: true\n", encoding="utf-8")
    rc, out, err = review_json(small, "--config", str(asked))
    assert err.startswith("reviewbot: [1/1] pkg/calc.py (") and err.count("\n") == 1  # progress, not a TTY
    assert rc == 0  # the model's error finding is a guess: by default it does not fail the run
    doc = json.loads(out)
    VALIDATOR.validate(doc)
    (f,) = doc["findings"]
    assert FINDING_KEYS <= f.keys()
    assert (f["path"], f["side"], f["line"], f["start_line"], f["end_line"]) == (
        "pkg/calc.py",
        "RIGHT",
        24,
        None,
        24,
    )
    # the model said error; a guess is a warning at most by default (pipeline.graded)
    # the comment is what the change did; the model's sentence names no token the change adds or
    # removes, so it is left out (not grounded)
    fact = "The code `len(items)` became `len(items) - 1`."
    assert (f["severity"], f["route"], f["rule"], f["message"]) == ("warning", "review", "review/bug", fact)
    assert f["suggestion"] == "    n = len(items)" and f["in_added"] is True
    assert doc["stats"]["backend"] == "fake" and doc["stats"]["reviewed_items"] == 1
    assert len(fake_model) == 1


@pytest.mark.parametrize("fmt", ["terminal", "sarif", "markdown"])
def test_other_formats_render_a_finding(small: Path, fake_model, fmt: str) -> None:
    rc, out, err = cli(
        "review",
        "--backend",
        "none",
        "--no-progress",
        "--format",
        fmt,
        "--diff",
        str(small),
        "--fail-on",
        "never",
    )
    assert (rc, err) == (0, "")
    assert "pkg/calc.py" in out
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"][0]["ruleId"] == "review/bug"


# ------------------------------------------------------------------------------------- bad inputs


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    p = tmp_path / "bad.yml"
    p.write_text("plan:\n  item_tokens: [1, 2\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["review", "--diff", "{tmp}/missing.diff"], 3, "missing.diff: no such file"),
        (["review", "--diff", "{tmp}"], 3, "is a directory"),
        (["review", "--diff", "{tmp}/context.diff"], 3, "looks like a context diff"),
        (["review", "--diff", "{tmp}/corrupt.diff.gz"], 3, "corrupt gzip data"),
        (["review", "--diff", "-"], 3, "<stdin>: empty diff"),
        (["review", "--diff", "{small}", "--frobnicate"], 2, "unrecognized arguments: --frobnicate"),
        (["review", "--diff", "{small}", "--format", "yaml"], 2, "invalid choice: 'yaml'"),
        (["review", "--diff", "{small}", "--config", "{tmp}/bad.yml"], 2, "bad.yml: line 3 not valid YAML"),
        (["review", "--diff", "{small}", "--config", "{tmp}/unknown.yml"], 2, "unknown key 'colour'"),
        (["review", "--diff", "{small}", "--config", "{tmp}/nope.yml"], 2, "configuration file not found"),
        (["review", "--diff", "{small}", "--item-tokens", "0"], 2, "--item-tokens"),
        (["review", "--diff", "{small}", "--git", "a..b"], 2, "not allowed with argument"),
        (
            ["review", "--diff", "{small}", "--output", "{tmp}/no/such/dir/r.json"],
            7,
            "cannot write the report",
        ),
        (["review", "--diff", "{small}", "--output", "{tmp}"], 7, "cannot write the report"),
        ([], 2, "required"),
        (["frobnicate"], 2, "invalid choice"),
    ],
    ids=[
        "missing-file",
        "directory",
        "context-diff",
        "corrupt-gzip",
        "empty-stdin",
        "unknown-flag",
        "bad-format",
        "bad-yaml-config",
        "unknown-config-key",
        "missing-config",
        "bad-flag-value",
        "diff-and-git",
        "output-no-dir",
        "output-is-dir",
        "no-command",
        "unknown-command",
    ],
)
def test_bad_inputs_fail_with_one_line(
    argv, code, says, tmp_path: Path, small: Path, bad_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "context.diff").write_text(CONTEXT_DIFF, encoding="utf-8")
    (tmp_path / "corrupt.diff.gz").write_bytes(gzip.compress(SMALL.encode())[:40])
    (tmp_path / "unknown.yml").write_text("colour: true\n", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    argv = [a.format(tmp=tmp_path, small=small) for a in argv]
    if argv and argv[0] == "review":
        argv[1:1] = ["--backend", "none", "--format", "json"]
    before = sorted(tmp_path.iterdir())
    rc, out, err = cli(*argv)
    assert rc == code, err
    assert_one_line_error(err)
    assert says in err
    assert out == ""
    assert sorted(tmp_path.iterdir()) == before  # no report and no temporary file left behind


@needs_shared
def test_the_shared_context_diff_is_refused() -> None:
    path = SHARED / "diffs/parser/whatthepatch/diff-context.diff"
    rc, out, err = review_json(path)
    assert rc == 3 and out == ""
    assert_one_line_error(err)
    assert err == f"reviewbot: {path}: looks like a context diff (diff -c), not a unified diff\n"


def test_bad_inputs_in_a_real_process(tmp_path: Path) -> None:
    cases = [
        (["review", "--backend", "none", "--diff", str(tmp_path / "missing.diff")], 3),
        (["review", "--backend", "none", "--frobnicate"], 2),
        (["review", "--backend", "none", "--diff", "-"], 3),  # empty stdin
    ]
    for argv, code in cases:
        p = subprocess.run(
            [sys.executable, "-m", "reviewbot.platforms.cli", *argv],
            cwd=REPO,
            input="",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == code, (argv, p.stderr)
        assert p.stdout == ""
        assert_one_line_error(p.stderr)


def test_stdin_dash_reads_the_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SMALL.encode())))
    rc, out, err = review_json("-")
    assert (rc, err) == (0, "")
    doc = json.loads(out)
    VALIDATOR.validate(doc)
    assert doc["source"]["description"] == "diff file <stdin>"


# ------------------------------------------------------------------------- every shared diff


def _shared_diffs() -> list[Path]:
    if SHARED is None:
        return []
    skip = {"LICENSE", "SOURCES.txt"}
    return sorted(p for p in (SHARED / "diffs").rglob("*") if p.is_file() and p.name not in skip)


@needs_shared
@pytest.mark.parametrize("path", _shared_diffs(), ids=lambda p: str(p.relative_to(SHARED / "diffs")))
def test_every_shared_diff_gives_json_or_a_one_line_error(path: Path) -> None:
    rc, out, err = review_json(path, "--fail-on", "never")  # rc 1 (findings) is tested elsewhere
    if rc == 0:
        assert err == ""
        VALIDATOR.validate(json.loads(out))
    else:
        assert rc == 3, err
        assert out == ""
        assert_one_line_error(err)
        assert err.startswith(f"reviewbot: {path}: ")


@needs_shared
def test_a_large_vendored_pr_stays_under_a_gib_and_lists_venv_as_vendored(tmp_path: Path) -> None:
    diff = SHARED / "diffs/real/flask-pr-5772.diff.gz"
    report = tmp_path / "report.json"
    # a wrapper process whose only child is the CLI, so RUSAGE_CHILDREN measures that child alone
    wrapper = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'wb') as out:\n"
        "    p = subprocess.run([sys.executable, '-m', 'reviewbot.platforms.cli', 'review',"
        " '--backend', 'none', '--fail-on', 'never', '--format', 'json', '--diff', sys.argv[2]],"
        " stdout=out, stderr=subprocess.PIPE)\n"
        "sys.stderr.buffer.write(p.stderr)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    p = run_py(wrapper, str(report), str(diff), timeout=300)
    assert p.returncode == 0, p.stderr
    rc, maxrss = map(int, p.stdout.split())
    assert rc == 0, p.stderr
    peak = maxrss if sys.platform == "darwin" else maxrss * 1024  # bytes on macOS, KiB on Linux
    assert peak < 1 << 30, f"peak RSS {peak / 2**20:.0f} MiB"

    doc = json.loads(report.read_text(encoding="utf-8"))
    VALIDATOR.validate(doc)
    from reviewbot.sources.diff_file import DiffFileSource

    files = DiffFileSource(diff).load().files
    venv = {f.path for f in files if f.path.startswith("venv/")}
    reviewable_venv = {f.path for f in files if f.path.startswith("venv/") and f.hunks and not f.is_binary}
    assert len(reviewable_venv) > 800
    listed = {r["path"]: r for r in doc["not_reviewed"] if r["path"].startswith("venv/")}
    assert set(listed) == venv  # every venv/ file is listed as not reviewed
    vendored = {path for path, r in listed.items() if r["reason"] == "vendored tree (venv/)"}
    assert vendored == reviewable_venv
    assert all(r["stage"] == "plan" for r in listed.values())
    assert not any(f["path"].startswith("venv/") for f in doc["findings"])


# -------------------------------------------------------------------------------- review-bugs


@pytest.mark.skipif(SHARED is None or not (SHARED / "review-bugs").is_dir(), reason="review-bugs not present")
def test_every_review_bugs_case_gives_valid_json() -> None:
    # all 660 cases: about 1-2 s in all with --backend none (each diff is parsed once, by the CLI)
    cases = sorted(p for p in (SHARED / "review-bugs").iterdir() if (p / "change.diff").is_file())
    assert len(cases) >= 600
    t0 = time.perf_counter()
    failures = []
    for case in cases:
        rc, out, err = review_json(case / "change.diff")
        if rc != 0 or err:
            failures.append((case.name, rc, err))
            continue
        doc = json.loads(out)
        errors = list(VALIDATOR.iter_errors(doc))
        if errors or doc["stats"]["files"] < 1:
            failures.append((case.name, "invalid", [e.message for e in errors][:2]))
    assert failures == []
    assert time.perf_counter() - t0 < 120


# -------------------------------------------------------------------------------------- --fail-on


def _result(*severities: Severity, unanchored: Severity | None = None) -> Result:
    anchored = tuple(
        Anchored(
            Finding(Location("a.py", Side.RIGHT, i + 1), s, f"finding {i}", "review/bug", "review"), 0, True
        )
        for i, s in enumerate(severities)
    )
    un = ()
    if unanchored is not None:
        un = (
            Unanchored(
                Finding(Location("a.py", Side.RIGHT, 99), unanchored, "far", "review/bug", "review"), "x"
            ),
        )
    return Result(ChangeSet((), "t"), anchored, un, (), Stats())


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ((Severity.ERROR,), "error", 1),
        ((Severity.ERROR,), "warning", 1),
        ((Severity.ERROR,), "never", 0),
        ((Severity.WARNING,), "error", 0),
        ((Severity.WARNING,), "warning", 1),
        ((Severity.WARNING,), "never", 0),
        ((Severity.INFO, Severity.WARNING), "warning", 1),
        ((Severity.INFO,), "warning", 0),
        ((), "error", 0),
        ((), "warning", 0),
    ],
)
def test_exit_code_by_fail_on(severities, fail_on, code) -> None:
    # the findings are the model's: they count only with fail_on_model
    assert exit_code(_result(*severities), config.Settings(fail_on=fail_on, fail_on_model=True)) == code
    assert exit_code(_result(*severities), config.Settings(fail_on=fail_on)) == 0


def test_exit_code_counts_evidence_without_fail_on_model() -> None:
    r = _result(Severity.ERROR)
    (a,) = r.anchored
    ruff = replace(r, anchored=(replace(a, finding=replace(a.finding, source="ruff", rule="ruff/F821")),))
    assert exit_code(ruff, config.Settings()) == 1 and exit_code(ruff, config.Settings(fail_on="never")) == 0


def test_exit_code_counts_only_anchored_findings() -> None:
    assert exit_code(_result(unanchored=Severity.ERROR), config.Settings(fail_on_model=True)) == 0


def test_fail_on_flag_end_to_end(small: Path, fake_model) -> None:
    assert review_json(small)[0] == 0  # the model's finding alone: a guess
    assert review_json(small, "--fail-on", "warning")[0] == 0
    assert review_json(small, "--fail-on", "warning", "--fail-on-model")[0] == 1
    assert review_json(small, "--fail-on", "never", "--fail-on-model")[0] == 0


# --------------------------------------------------------------------------------------- --output


def test_output_writes_the_report_to_a_file_and_nothing_to_stdout(tmp_path: Path, small: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    target.write_text("old report", encoding="utf-8")
    rc, out, err = review_json(small, "--output", str(target))
    assert (rc, out, err) == (0, "", "")
    doc = json.loads(target.read_text(encoding="utf-8"))
    VALIDATOR.validate(doc)
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # replaced; no temporary file left
    rc, out, _ = review_json(small, "-o", str(target))
    assert (rc, out) == (0, "") and json.loads(target.read_text(encoding="utf-8"))["version"] == "1"


def test_output_relative_to_the_working_directory(tmp_path: Path, small: Path) -> None:
    rc, out, err = review_json(small, "--output", "r.json")  # the fixture chdir'd to tmp_path
    assert (rc, out, err) == (0, "", "")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["version"] == "1"


def test_review_git_reads_the_configuration_of_the_base_commit_not_the_head(tmp_path) -> None:
    """A change that sets `plan.exclude: ["*"]` and `lint.linters: []` in its own
    `.reviewbot.yml` is still reviewed, with the base commit's file, and the report says which."""
    import subprocess

    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    (tmp_path / "app.py").write_text("def f(x):\n    return x\n")
    (tmp_path / ".reviewbot.yml").write_text("fail_on: warning\n")
    git("add", "-A")
    git("commit", "-qm", "base")
    base = git("rev-parse", "HEAD")
    (tmp_path / "app.py").write_text("import os\n\n\ndef f(x):\n    return x\n")
    (tmp_path / ".reviewbot.yml").write_text(
        'plan:\n  exclude: ["*"]\nlint:\n  linters: []\nfail_on: never\n'
    )
    git("commit", "-qam", "head")
    code, out, err = cli(
        "review",
        "--git",
        f"{base}..HEAD",
        "--repo",
        str(tmp_path),
        "--backend",
        "none",
        "--format",
        "json",
        "--no-progress",
    )
    report = json.loads(out)
    assert [f["rule"] for f in report["findings"]] == ["ruff/F401"], err
    assert f"configuration: {base[:7]}:.reviewbot.yml (the change's base)" in report["notes"]
    assert code == 1  # the base's fail_on: warning


def test_a_model_guess_fails_the_run_only_when_asked(small: Path, fake_model) -> None:
    """Default config: a review whose only finding comes from the model exits 0 (Result.fails), and
    the model's `error` is shown as a warning (pipeline.graded); `review.error_confidence` lets a sure
    finding stay an error; `--fail-on-model` lets a model's finding fail the run."""
    rc, out, _ = review_json(small)
    doc = json.loads(out)
    (f,) = doc["findings"]
    assert (f["severity"], f["route"], rc) == ("warning", "review", 0)
    assert any("1 model finding(s) shown as warning" in n for n in doc["notes"]), doc["notes"]
    assert review_json(small, "--fail-on-model")[0] == 0  # a warning, and the floor is error
    assert review_json(small, "--fail-on-model", "--fail-on", "warning")[0] == 1
    sure = small.parent / "sure.yml"
    sure.write_text(f"review:\n  error_confidence: {f['confidence']}\n", encoding="utf-8")
    rc, out, _ = review_json(small, "--config", str(sure))
    (f,) = json.loads(out)["findings"]
    assert (f["severity"], rc) == ("error", 0)  # sure enough to be an error, still a guess
    assert review_json(small, "--config", str(sure), "--fail-on-model")[0] == 1
    assert review_json(small, "--config", str(sure), "--fail-on-model", "--fail-on", "never")[0] == 0
