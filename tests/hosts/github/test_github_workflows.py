"""action/action.yml and every workflow: check-jsonschema's built-in schemas, actionlint, and our own
security rules (least permissions, no pull_request_target, no fork code checked out by a privileged job)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ACTION = ROOT / "action" / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted(
    (ROOT / "docs" / "github-workflows").glob("*.yml")
)
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    assert found, f"{name} is not installed (pip install -e '.[dev]')"
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_there_are_workflows_for_each_use() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "reviewbot.yml", "reviewbot-fork.yml", "reviewbot-fork-publish.yml"} <= names
    assert {"hosted.yml", "gpu-vllm.yml", "fork-findings.yml", "fork-publish.yml", "sarif.yml"} <= names


def test_action_matches_the_github_actions_schema() -> None:
    r = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert r.returncode == 0, r.stdout + r.stderr


def test_workflows_match_the_github_workflows_schema() -> None:
    r = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS))
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_passes_on_every_workflow_and_the_local_action() -> None:
    r = _run(_tool("actionlint"), "-no-color", *map(str, WORKFLOWS))
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_reads_the_local_action(tmp_path: Path) -> None:
    """The check above can fail: a workflow passing an input action.yml does not declare is caught."""
    bad = ROOT / ".github" / "workflows" / "reviewbot.yml"
    text = bad.read_text(encoding="utf-8").replace("max-comments:", "max-commentz:")
    probe = ROOT / ".github" / "workflows" / "zz-probe-not-committed.yml"
    probe.write_text(text, encoding="utf-8")
    try:
        r = _run(_tool("actionlint"), "-no-color", str(probe))
    finally:
        probe.unlink()
    assert r.returncode != 0 and "max-commentz" in r.stdout


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads `on` as true
    return doc


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_permissions_and_no_pwn_request(path: Path) -> None:
    doc = _load(path)
    events = (
        doc["on"]
        if isinstance(doc["on"], dict)
        else {e: None for e in ([doc["on"]] if isinstance(doc["on"], str) else doc["on"])}
    )
    assert "pull_request_target" not in events
    perms = doc.get("permissions")
    assert isinstance(perms, dict), "every workflow names its permissions"
    allowed = {
        "contents": {"read"},
        "pull-requests": {"write"},
        "checks": {"write"},
        "actions": {"read"},
        "security-events": {"write"},
    }
    for k, v in perms.items():
        assert v in allowed.get(k, set()), f"{k}: {v}"
    writes = {k for k, v in perms.items() if v == "write"}
    steps = [s for job in doc["jobs"].values() for s in job.get("steps", [])]
    if "pull_request" in events:
        # a PR job (forks included) runs with this token: it may write only when it skips forks
        if writes:
            assert all(
                "head.repo.full_name == github.repository" in str(j.get("if")) for j in doc["jobs"].values()
            )
    if "workflow_run" in events:
        for s in steps:  # never the fork's code in the privileged job
            ref = str((s.get("with") or {}).get("ref", ""))
            assert "workflow_run" not in ref and "head" not in ref
    for s in steps:
        if str(s.get("uses", "")).startswith("actions/checkout"):
            assert (s.get("with") or {}).get("persist-credentials") is False


def test_action_steps_name_their_shell_and_read_inputs_through_env() -> None:
    doc = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert doc["runs"]["using"] == "composite"
    for s in doc["runs"]["steps"]:
        if "run" in s:
            assert s.get("shell") == "bash"
            assert "${{" not in s["run"], "inputs reach scripts through env, never pasted into the script"
    assert {"backend", "base-url", "config", "fail-on", "max-comments"} <= set(doc["inputs"])
    assert any(str(s.get("uses", "")).startswith("actions/cache@") for s in doc["runs"]["steps"])


def test_only_the_host_wrapper_imports_pygithub() -> None:
    import ast

    pkg = ROOT / "reviewbot"
    offenders = []
    for p in pkg.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            )
            if any(n == "github" or n.startswith("github.") for n in names):
                offenders.append(p.relative_to(ROOT).as_posix())
    assert sorted(set(offenders)) == ["reviewbot/hosts/github/client.py", "reviewbot/hosts/github/retry.py"]


def test_the_actions_scripts_pass_shellcheck() -> None:
    sc = shutil.which("shellcheck")
    if sc is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    doc = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    for s in doc["runs"]["steps"]:
        if "run" in s:
            r = subprocess.run(
                [sc, "-s", "bash", "-"], input=s["run"], capture_output=True, text=True, timeout=60
            )
            assert r.returncode == 0, f"{s.get('name')}: {r.stdout}"
