"""Where the local backend loads a checkpoint, and the one-line errors when it cannot (devices.py).

The table runs without torch; the last tests go through LocalBackend.load() with this machine's real
torch (a CPU build, no GPU), so 'no CUDA' is checked for real, not only on paper.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.backends.devices import Cuda, LoadPlan, explain, plan_load, quantization_of
from reviewbot.errors import ModelError

GPTQ = {"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128}}
AWQ = {"quantization_config": {"quant_method": "awq", "bits": 4}}
BF16: dict = {"torch_dtype": "bfloat16"}
H100 = Cuda(0, "NVIDIA H100 80GB HBM3", (9, 0), 78 * 2**30, 80 * 2**30)
T4 = Cuda(1, "Tesla T4", (7, 5), 14 * 2**30, 15 * 2**30)
GIB = 2**30


def plan(config, device="auto", cuda=(H100,), build=True, gptq=True, weights=5 * GIB) -> LoadPlan:
    return plan_load(
        config,
        device=device,
        cuda=list(cuda),
        torch_cuda_build=build,
        have_gptqmodel=gptq,
        weight_bytes=weights,
        where="/models/m",
    )


@pytest.mark.parametrize(
    ("config", "device", "cuda", "expected"),
    [
        (GPTQ, "auto", (H100,), LoadPlan("cuda:0", "float16", "gptq")),
        (AWQ, "cuda", (H100,), LoadPlan("cuda:0", "float16", "awq")),
        (BF16, "auto", (H100,), LoadPlan("cuda:0", "bfloat16", None)),
        (BF16, "cuda:1", (H100, T4), LoadPlan("cuda:1", "float16", None)),  # T4: no bfloat16
        (BF16, "auto", (), LoadPlan("cpu", "auto", None)),
        (BF16, "cpu", (H100,), LoadPlan("cpu", "auto", None)),
    ],
)
def test_plans(config, device, cuda, expected) -> None:
    assert plan(config, device, cuda) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"config": GPTQ, "cuda": (), "build": False},
            "no CUDA: GPTQ checkpoints need a GPU and this torch is a CPU build",
        ),
        ({"config": AWQ, "cuda": ()}, "no CUDA: AWQ checkpoints need a GPU and torch sees no CUDA device"),
        ({"config": BF16, "device": "cuda", "cuda": ()}, "no CUDA: device cuda needs a GPU"),
        ({"config": GPTQ, "device": "cpu"}, "needs a CUDA GPU (device cpu was asked for)"),
        (
            {"config": GPTQ, "gptq": False},
            "load through gptqmodel, which is not installed: pip install 'reviewbot[gpu]'",
        ),
        (
            {"config": BF16, "weights": 90 * GIB},
            "not enough GPU memory: the weights in /models/m take 90.0 GiB, cuda:0",
        ),
        ({"config": BF16, "device": "cuda:3"}, "no CUDA device 3: torch sees 1"),
        (
            {"config": {"quantization_config": {"quant_method": "bitsandbytes"}}},
            "quantization 'bitsandbytes' is not supported",
        ),
        ({"config": BF16, "device": "tpu"}, "unknown device 'tpu'"),
    ],
)
def test_each_failure_is_one_line(kwargs, message) -> None:
    with pytest.raises(ModelError) as info:
        plan(**kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_quantization_is_read_from_config() -> None:
    assert quantization_of(GPTQ) == "gptq" and quantization_of(BF16) is None
    assert quantization_of({"quantization_config": {}}) == "unknown"


class OutOfMemoryError(RuntimeError):  # torch.cuda.OutOfMemoryError's name, without torch
    pass


@pytest.mark.parametrize(
    ("exc", "start"),
    [
        (
            OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
            "not enough GPU memory on cuda:0",
        ),
        (
            RuntimeError("No kernel found for this GPU: compute capability 7.5 < 8.0 required by Marlin"),
            "wrong kernel: gptqmodel has no GPTQ kernel for this GPU (compute capability 9.0)",
        ),
        (ImportError("No module named 'gptqmodel'"), "/models/m: a library is missing"),
        (
            OSError("Error no file named model.safetensors\nfound in directory"),
            "could not load the model on cuda:0 (NVIDIA H100 80GB HBM3): Error no file",
        ),
    ],
)
def test_explain_translates_load_errors(exc, start) -> None:
    msg = str(explain(exc, where="/models/m", plan=LoadPlan("cuda:0", "float16", "gptq"), cuda=[H100]))
    assert msg.startswith(start) and "\n" not in msg


# ---------------------------------------------------------------------- through LocalBackend, real torch


def model_dir(tmp_path: Path, config: dict) -> Path:
    d = tmp_path / "ckpt"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "qwen2", **config}))
    return d


def test_local_backend_says_no_cuda_for_a_gptq_checkpoint_here(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from reviewbot.backends.local import LocalBackend

    b = LocalBackend(cache_dir=tmp_path, model_dir=model_dir(tmp_path, GPTQ))
    with pytest.raises(
        ModelError, match=r"^no CUDA: GPTQ checkpoints need a GPU and this torch is a CPU build"
    ):
        b.load()


def test_local_backend_says_no_cuda_when_asked_for_cuda(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from reviewbot.backends.local import LocalBackend

    b = LocalBackend(cache_dir=tmp_path, model_dir=model_dir(tmp_path, BF16), device="cuda")
    with pytest.raises(ModelError, match="^no CUDA: device cuda needs a GPU"):
        b.load()


def test_cli_prints_the_device_error_on_one_line(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import io

    from reviewbot.platforms.cli import main

    diff = tmp_path / "c.diff"
    diff.write_text("diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n")
    cfg = tmp_path / "cfg.yml"
    cfg.write_text("model.device: cuda\n")
    ckpt = model_dir(tmp_path, AWQ)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["review", "--diff", str(diff), "--model-dir", str(ckpt), "--config", str(cfg), "--no-progress"],
        out,
        err,
    )
    assert code == 5
    assert (
        err.getvalue().startswith("reviewbot: no CUDA: AWQ checkpoints need a GPU")
        and err.getvalue().count("\n") == 1
    )
