"""Loading the local backend's model: the checkpoint (a model directory, or the embedded model
converted on first use), where and how (devices.plan_load), failures worded in one line.

torch and transformers' Auto classes are handed in by `local.py`, the only module that imports them.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ModelError
from . import devices, embedded

Status = Callable[[str], None]


def tokenizer_file(model_dir: Path | None, cache_dir: Path) -> Path | None:
    """The checkpoint's tokenizer.json, where it is on disk already."""
    root = model_dir or embedded.paths(cache_dir).converted
    f = Path(root) / "tokenizer.json"
    return f if f.is_file() else None


def gather(src: Path, torch: Any, *, device: str) -> tuple[devices.LoadPlan, list[devices.Cuda]]:
    """Gather what torch sees and ask devices.plan_load where and how to load `src`; also
    returns the GPUs seen."""
    try:
        config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{src}/config.json cannot be read: {exc}") from exc
    cuda_build = torch.version.cuda is not None
    cuda: list[devices.Cuda] = []
    if cuda_build and torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(i)
            props = torch.cuda.get_device_properties(i)
            cuda.append(devices.Cuda(i, props.name, (props.major, props.minor), free, total))
    weights = sum(f.stat().st_size for f in src.glob("*.safetensors")) or sum(
        f.stat().st_size for f in src.glob("*.bin")
    )
    plan = devices.plan_load(
        config,
        device=device,
        cuda=cuda,
        torch_cuda_build=cuda_build,
        have_gptqmodel=importlib.util.find_spec("gptqmodel") is not None,
        weight_bytes=weights,
        where=str(src),
    )
    return plan, cuda


class Loader:
    """One load: after it (or its failure) `plan`, `cuda` and `cold_start` say what was found."""

    def __init__(self, model_dir: Path | None, cache_dir: Path, *, device: str, status: Status) -> None:
        self.model_dir = model_dir
        self.cache_dir = cache_dir
        self.device = device
        self.status = status
        self.plan: devices.LoadPlan | None = None
        self.cuda: list[devices.Cuda] = []
        self.cold_start: bool | None = None

    def load(self, torch: Any, auto_model: Any, auto_tok: Any) -> tuple[Any, Any]:
        """(model, tokenizer); every failure a one-line ModelError (devices.explain)."""
        try:
            if self.model_dir is not None:
                self.cold_start = False
                src = Path(self.model_dir)
                if not (src / "config.json").is_file():
                    raise ModelError(f"model directory {src} has no config.json")
                self.plan, self.cuda = gather(src, torch, device=self.device)
                tok = auto_tok.from_pretrained(src, local_files_only=True)
                kwargs: dict[str, Any] = {"dtype": self.plan.dtype, "local_files_only": True}
                if self.plan.device != "cpu":
                    kwargs["device_map"] = self.plan.device
                model = auto_model.from_pretrained(src, **kwargs)
            else:
                p = embedded.paths(self.cache_dir)
                if not embedded.verified(p, self.status):
                    self.cold_start = True
                    embedded.convert(p, auto_model, auto_tok, torch, self.status)
                else:
                    self.cold_start = False
                self.plan, self.cuda = gather(p.converted, torch, device=self.device)
                tok = auto_tok.from_pretrained(p.converted, local_files_only=True)
                model = auto_model.from_pretrained(p.converted, dtype=torch.bfloat16, local_files_only=True)
                if self.plan.device != "cpu":
                    model = model.to(self.plan.device)
        except ModelError:
            raise
        except Exception as exc:  # translated at the boundary: OOM, kernels, missing libraries, bad files
            where = str(self.model_dir or "the embedded model")
            raise devices.explain(exc, where=where, plan=self.plan, cuda=self.cuda) from exc
        return model, tok
