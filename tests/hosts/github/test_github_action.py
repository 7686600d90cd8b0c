"""The Action (action/action.yml): the sandbox step, the caches' keys and the outputs."""

from __future__ import annotations

from pathlib import Path

import yaml

ACTION = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "action/action.yml").read_text(encoding="utf-8")
)
STEPS = {s.get("id") or s.get("name"): s for s in ACTION["runs"]["steps"]}


def test_outputs_beyond_the_exit_code() -> None:
    assert {"exit-code", "findings", "errors", "warnings", "report", "sarif", "sandbox"} <= set(
        ACTION["outputs"]
    )


def test_the_sandbox_step_installs_bubblewrap_and_lifts_the_userns_restriction() -> None:
    run = STEPS["sandbox"]["run"]
    assert "apt-get install -y -q bubblewrap" in run
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in run
    assert "::warning" in run  # when bwrap cannot start, the log says why


def test_cache_keys_hold_what_shapes_them() -> None:
    venv = STEPS["venv-cache"]["with"]["key"]
    assert "steps.python.outputs.python-version" in venv and "steps.env.outputs.key" in venv
    model = next(s for s in ACTION["runs"]["steps"] if s.get("name") == "Cache the embedded model")
    assert "steps.model.outputs.key" in model["with"]["key"]
    assert all(p in STEPS["model"]["run"] for p in ("torch", "transformers", "gguf", "sha256"))
    assert STEPS["Install reviewbot"]["if"] == "steps.venv-cache.outputs.cache-hit != 'true'"


def test_inputs_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs/github.md").read_text(encoding="utf-8")
    for name in ACTION["inputs"]:
        assert f"| `{name}` |" in doc, name
