"""docs/deploy-gpu.md: every command in it checked as far as this machine allows.

- `vllm serve` lines use only flags of vLLM's EngineArgs / API server (the list below, taken from
  vllm/engine/arg_utils.py and the serving docs; vLLM itself cannot be installed here);
- `reviewbot review` lines run through the real CLI against the stand-in OpenAI-compatible server;
- YAML blocks parse, and the `.reviewbot.yml` block is a valid configuration;
- the nginx block passes `nginx -t` when nginx is installed.
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from reviewbot.config import read_file
from reviewbot.platforms.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "deploy-gpu.md").read_text(encoding="utf-8")
from support.openai_standin import StandIn  # noqa: E402

# vLLM's `vllm serve` flags used in the doc, each checked in EngineArgs.add_cli_args
# (vllm/engine/arg_utils.py) or the OpenAI server's cli_args / the data-parallel deployment docs.
VLLM_FLAGS = {
    "--served-model-name",
    "--host",
    "--port",
    "--api-key",
    "--max-model-len",
    "--gpu-memory-utilization",
    "--max-num-seqs",
    "--enable-prefix-caching",
    "--trust-remote-code",
    "--dtype",
    "--tensor-parallel-size",
    "--data-parallel-size",
    "--revision",
    "--code-revision",
    "--quantization",
}


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, re.DOTALL)


def commands(prefix: str) -> list[list[str]]:
    out = []
    for block in blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            words = shlex.split(line) if line else []
            while words and "=" in words[0] and not words[0].startswith("-"):  # VAR=value prefixes
                words = words[1:]
            if words[: len(prefix.split())] == prefix.split():
                out.append(words)
    return out


def test_vllm_lines_use_known_flags_only() -> None:
    lines = commands("vllm serve")
    assert len(lines) >= 6
    for words in lines:
        flags = {w for w in words if w.startswith("--")}
        assert flags <= VLLM_FLAGS, flags - VLLM_FLAGS
        assert "--quantization" not in flags  # the doc says why: vLLM picks Marlin by itself
        model = words[2]
        assert model in ("Qwen/Qwen2.5-Coder-7B-Instruct-AWQ", "THUDM/codegeex4-all-9b")
        if "codegeex4" in model:
            assert "--trust-remote-code" in flags
            name = words[words.index("--served-model-name") + 1]
            assert "codegeex4" in name  # reviewbot's GLM stop tokens depend on it


def test_reviewbot_lines_run_against_the_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = commands("reviewbot review")
    assert len(lines) >= 2
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "base"]):
        subprocess.run([*git, *args], cwd=repo, check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], cwd=repo, check=True)
    (repo / "a.py").write_text("import os\n")
    subprocess.run([*git, "add", "a.py"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "change"], cwd=repo, check=True)
    for words in lines:
        args = words[1:]
        with StandIn(model="qwen2.5-coder-7b") as server:
            if "--backend" not in args or args[args.index("--backend") + 1] == "openai":
                monkeypatch.setenv("REVIEWBOT_BACKEND", "openai")
                monkeypatch.setenv("REVIEWBOT_BASE_URL", server.url + "/v1")
                args = [server.url + "/v1" if a.startswith("http://gpu-host") else a for a in args]
            else:  # the local backend on a GPU: here it must stop with the one-line no-CUDA error
                monkeypatch.delenv("REVIEWBOT_BACKEND", raising=False)
            args = [a.replace('"origin/${{ github.base_ref }}', "origin/main").strip('"') for a in args]
            args = [str(tmp_path / Path(a).name) if a.endswith((".sarif", ".md")) else a for a in args]
            out, err = io.StringIO(), io.StringIO()
            code = main([*args, "--repo", str(repo), "--no-progress"], out, err)
        if "--model-dir" in args:
            assert code == 5 and err.getvalue().startswith("reviewbot: "), err.getvalue()
        else:
            assert code == 0, (args, err.getvalue())


def test_yaml_blocks_parse_and_the_config_is_valid(tmp_path: Path) -> None:
    docs = [yaml.safe_load(b) for b in blocks("yaml")]
    job = next(d for d in docs if isinstance(d, dict) and "jobs" in d)
    assert job["jobs"]["review"]["runs-on"] == ["self-hosted", "linux", "x64", "gpu"]
    assert all("shell" in s for s in job["jobs"]["review"]["steps"] if "run" in s)
    cfg = next(b for b in blocks("yaml") if "concurrency:" in b)
    path = tmp_path / ".reviewbot.yml"
    path.write_text(cfg)
    values, _ = read_file(path)
    assert values["model.concurrency"] == 8 and values["api_model"] == "qwen2.5-coder-7b"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_block_passes_nginx_t(tmp_path: Path) -> None:
    (block,) = blocks("nginx")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\nclient_body_temp_path {tmp_path};\n{block}\n}}\n"
    )
    r = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr
