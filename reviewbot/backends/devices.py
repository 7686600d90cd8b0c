"""Where and how the local backend loads a checkpoint: device, dtype, quantization. Pure functions.

`loading.gather` collects the facts (the checkpoint's config.json, what torch sees, whether gptqmodel is
installed, the weights' size) and asks `plan_load` what to do; every way it cannot work is a
one-line ModelError that says what is missing and what to do instead:

- no CUDA: `--device cuda` (or a GPTQ/AWQ checkpoint) on a machine where torch sees no GPU, or a
  CPU build of torch;
- gptqmodel missing: GPTQ and AWQ checkpoints load through gptqmodel (transformers 5 no longer
  loads them through auto-gptq or AutoAWQ, both unmaintained);
- not enough memory: the weights alone are larger than the GPU's free memory (checked before
  loading, so it fails in a second, not after minutes of loading); an out-of-memory during the
  load or a generation is translated the same way (`explain`);
- wrong kernel: gptqmodel has no kernel for this GPU (compute capability) or this quantization
  (bits, group size, format); `explain` names the capability.

Unquantized checkpoints load in bfloat16 on a GPU (float16 where the GPU has no bfloat16, before
compute capability 8.0) and in their own dtype on the CPU; quantized ones on one GPU.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError

QUANTIZED = ("gptq", "awq")
INSTALL_GPTQMODEL = "pip install 'reviewbot[gpu]' (gptqmodel; auto-gptq and AutoAWQ are unmaintained)"


@dataclass(frozen=True, slots=True)
class Cuda:
    """What torch sees of one GPU."""

    index: int
    name: str
    capability: tuple[int, int]
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class LoadPlan:
    device: str  # "cpu" or "cuda:N"
    dtype: str  # "auto", "bfloat16" or "float16"
    quantization: str | None  # "gptq" | "awq" | None


def quantization_of(config: Mapping[str, Any]) -> str | None:
    """The checkpoint's quantization method from config.json's `quantization_config`, lower case."""
    q = config.get("quantization_config")
    if not isinstance(q, Mapping):
        return None
    method = str(q.get("quant_method") or q.get("quant_type") or "").lower()
    return method or "unknown"


def _gib(n: int | float) -> str:
    return f"{n / 2**30:.1f} GiB"


def plan_load(
    config: Mapping[str, Any],
    *,
    device: str,
    cuda: list[Cuda],
    torch_cuda_build: bool,
    have_gptqmodel: bool,
    weight_bytes: int,
    where: str,
) -> LoadPlan:
    """Decide device and dtype, or raise a one-line ModelError saying why it cannot load."""
    if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", device):
        raise ModelError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N")
    quant = quantization_of(config)
    if quant is not None and quant not in QUANTIZED:
        raise ModelError(
            f"{where}: quantization {quant!r} is not supported by the local backend "
            f"(GPTQ and AWQ are; serve other formats with vLLM and use --backend openai)"
        )
    wants_gpu = device.startswith("cuda") or (device == "auto" and (quant is not None or bool(cuda)))
    if device == "cpu" and quant is not None:
        raise ModelError(
            f"{where}: a {quant.upper()} checkpoint needs a CUDA GPU (device cpu was asked for); "
            "on a CPU use the embedded model or an unquantized checkpoint"
        )
    if not wants_gpu:
        return LoadPlan("cpu", "auto", None)
    if not cuda:
        why = "this torch is a CPU build" if not torch_cuda_build else "torch sees no CUDA device"
        what = f"{quant.upper()} checkpoints need" if quant else f"device {device} needs"
        raise ModelError(
            f"no CUDA: {what} a GPU and {why}; "
            "run on a GPU runner, or use --backend openai against a vLLM server"
        )
    index = int(device.split(":")[1]) if ":" in device else 0
    gpu = next((g for g in cuda if g.index == index), None)
    if gpu is None:
        raise ModelError(
            f"no CUDA device {index}: torch sees {len(cuda)} ({', '.join(g.name for g in cuda)})"
        )
    if quant is not None and not have_gptqmodel:
        raise ModelError(
            f"{where}: {quant.upper()} checkpoints load through gptqmodel, which is not installed: "
            f"{INSTALL_GPTQMODEL}"
        )
    if weight_bytes > gpu.free_bytes:
        raise ModelError(
            f"not enough GPU memory: the weights in {where} take {_gib(weight_bytes)}, "
            f"cuda:{gpu.index} ({gpu.name}) has {_gib(gpu.free_bytes)} free of {_gib(gpu.total_bytes)}; "
            "use a quantized (AWQ/GPTQ int4) checkpoint or a larger GPU"
        )
    if quant is not None:
        return LoadPlan(f"cuda:{gpu.index}", "float16", quant)  # the int4 kernels compute in float16
    dtype = "bfloat16" if gpu.capability >= (8, 0) else "float16"
    return LoadPlan(f"cuda:{gpu.index}", dtype, None)


_KERNEL = re.compile(r"kernel|compute capability|sm_\d+|not supported on|marlin|exllama|no .*backend", re.I)
_OOM = re.compile(r"out of memory|CUDA_ERROR_OUT_OF_MEMORY|OutOfMemoryError", re.I)


def explain(exc: BaseException, *, where: str, plan: LoadPlan | None, cuda: list[Cuda]) -> ModelError:
    """A one-line ModelError for an exception raised while loading or running on a GPU."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    first = text[:240]
    gpu = next((g for g in cuda if plan is not None and plan.device == f"cuda:{g.index}"), None)
    on = f" on cuda:{gpu.index} ({gpu.name})" if gpu else ""
    if type(exc).__name__ == "OutOfMemoryError" or _OOM.search(text):
        free = f", {_gib(gpu.free_bytes)} was free before loading" if gpu else ""
        return ModelError(
            f"not enough GPU memory{on}{free}: {first}; lower model.concurrency or "
            "review.max_new_tokens, or use a quantized checkpoint"
        )
    if plan is not None and plan.quantization and _KERNEL.search(text):
        cap = f" (compute capability {gpu.capability[0]}.{gpu.capability[1]})" if gpu else ""
        return ModelError(
            f"wrong kernel: gptqmodel has no {plan.quantization.upper()} kernel for this GPU{cap} "
            f"or this checkpoint's format: {first}"
        )
    if isinstance(exc, ImportError):
        return ModelError(f"{where}: a library is missing ({first}): {INSTALL_GPTQMODEL}")
    return ModelError(f"could not load the model{on}: {first}")
