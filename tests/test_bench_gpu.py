"""bench/gpu.py's CPU side: no CUDA is said and measures nothing; arguments are checked; --tiny runs
every step on a 2-layer GLM on the CPU (its figures mean nothing; the script's logic is what is tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "gpu.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dtypes", "fp8"], "--dtypes: unknown fp8"),
        (["--device", "cpu"], "use it with --tiny only"),
        (["--prefill", "4k"], "--prefill must be comma-separated integers"),
        (["--decode-tokens", "1"], "--decode-tokens must be at least 2"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(args, message) -> None:
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_without_cuda_it_says_so_and_measures_nothing(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "r.json"
    r = run("--json", str(out))
    assert (
        r.returncode == 2
        and r.stderr.startswith("bench/gpu.py: no CUDA (")
        and "Nothing was measured" in r.stderr
    )
    assert not out.exists()
    assert run("--allow-no-gpu").returncode == 0


def test_tiny_model_runs_every_step_on_the_cpu(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out = tmp_path / "r.json"
    r = run(
        "--tiny",
        "--device",
        "cpu",
        "--decode-tokens",
        "4",
        "--prompt-tokens",
        "48",
        "--batch",
        "3",
        "--prefill",
        "64",
        "--json",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    bf16 = doc["runs"]["bf16"]
    assert bf16["decode_batch1"]["prompt_tokens"] == 48 and bf16["decode_batch3"]["batch"] == 3
    assert bf16["decode_batch3"]["produced"] == 3 * 4 and bf16["decode_batch1"]["decode_tok_s"] > 0
    assert bf16["prefill_64"]["tokens"] == 64
    routing = bf16["routing"]
    # with the cache the route's generation reuses the whole route-choice prompt; without, nothing
    assert routing["with_prefix_cache"]["cached_tokens"] == 48
    assert routing["without_prefix_cache"]["cached_tokens"] == 0
    assert "skipped" in doc["runs"]["int4"]  # no torchao and no CUDA here


def test_the_quality_run_needs_the_checkpoint_on_disk_and_downloads_nothing(tmp_path: Path, capsys) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import gpu_quality
    finally:
        sys.path.remove(str(ROOT / "bench"))
    assert gpu_quality.run(tmp_path / "Qwen2.5-Coder-7B-Instruct", "cuda") == 2
    err = capsys.readouterr().err
    assert "no transformers checkpoint at" in err and "nothing is downloaded" in err
    cmd = gpu_quality.eval_command(Path("/d/review-bugs"), Path("/m"), "cuda:0", "generative", 40)
    assert (
        cmd[1:4] == ["eval", "/d/review-bugs", "--limit"] and cmd[cmd.index("--strategy") + 1] == "generative"
    )
    assert cmd[cmd.index("--model-dir") + 1] == "/m" and cmd[cmd.index("--device") + 1] == "cuda:0"
