"""schemathesis against the running app's OpenAPI description (GET /openapi.json): generated
requests (headers, bodies, forged signatures) to every operation, and no server error.
A second run carries GitLab's real token, so that generated bodies reach the payload parsing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_app import GL_TOKEN, Served, settings_for


@pytest.fixture
def served(tmp_path):
    s = Served(settings_for(f"sqlite:///{tmp_path}/jobs.sqlite3"))
    yield s
    s.close()


@pytest.mark.parametrize(
    "headers", [[], ["-H", f"X-Gitlab-Token: {GL_TOKEN}"]], ids=["anonymous", "gitlab-token"]
)
def test_schemathesis_finds_no_server_error(served, tmp_path: Path, headers: list[str]) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is in the dev extra"
    code, _ = served.get("/openapi.json")
    assert code == 200
    p = subprocess.run(
        [
            st,
            "run",
            f"http://127.0.0.1:{served.port}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "60",
            "--seed",
            "1",
            "--no-color",
            *headers,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    assert "Tested: 5" in out, out[-2000:]  # every operation of the description
