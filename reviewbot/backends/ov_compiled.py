"""The decoder as OpenVINO compiled it (`decoder`): compiled from the verified conversion, or
imported from the export an earlier load on this machine kept.

Compiling the converted decoder takes about 1.5 s of the CPU at every load, after 0.8 s hashing
its 525 MB of weights; importing the compiled model that OpenVINO exports takes about 0.6 s after
0.3 s hashing it. The export depends on the OpenVINO version, the processor and the compile
settings, so it is kept under a key of those and of the converted model's pinned digest
(`ov_cache.CONVERTED_SHA256`), in `<cache>/models/<gguf sha256[:16]>/openvino-compiled/`.

Trust: an export is not deterministic, so its digest cannot be pinned in the code as the
conversion's is. It is recorded when reviewbot writes the export, outside the cache, in the user's
state directory (`embedded.digest_file`, as the local backend's converted copy), and the export is
imported only when its bytes hash to that record: the same bytes that were hashed are imported (read
once), and an export planted or edited in the cache is compiled over instead.

When: a machine that has never loaded the model only marks that it has (a CI job on a fresh runner
loads it once and would never import an export it wrote: 557 MB and about a second spent for
nothing); its second load compiles and writes the export, and the loads after that import it.
`reviewbot model prepare` loads without either (the Action prepares and then reviews once; the
image is prepared at build). The GitHub Action keeps this directory out of its cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import embedded, ov_cache

DIRNAME = "openvino-compiled"
MODEL_FILES = ("model.xml", "model.bin")  # the converted decoder's files (the rest loads beside it)


def decoder(
    cache_dir: Path, config: dict[str, Any], keep: bool, status: Callable[[str], None]
) -> tuple[Any, bytearray | None]:
    """The compiled decoder, and the export's bytes where it was imported from one (None where it
    was compiled): from the kept export where ``keep`` and one is there and verified, else compiled
    from the verified conversion (and, where ``keep`` and this machine loaded it before, its export
    kept for the next load). The imported model reads its weights in place from those bytes: the
    caller keeps them as long as the model (OpenVINO does not hold them alive)."""
    import numpy as np
    import openvino as ov

    core = ov.Core()
    folder, name = directory(cache_dir), key(core, config, ov.get_version())
    data = load(folder, name, status) if keep else None
    if data is not None:
        try:  # read in place, not copied: 557 MB and a quarter of a second less
            blob = ov.Tensor(np.frombuffer(data, dtype=np.uint8), shared_memory=True)
            return core.import_model(blob, "CPU", config), data
        except Exception as exc:  # noqa: BLE001 (an export this OpenVINO refuses: compile instead)
            status(f"the compiled model could not be imported ({' '.join(str(exc).split())[:200]})")
    verified = ov_cache.load(cache_dir, status, names=MODEL_FILES)
    weights = ov.Tensor(np.frombuffer(verified.files["model.bin"], dtype=np.uint8))
    compiled = core.compile_model(core.read_model(verified.text("model.xml"), weights), "CPU", config)
    if keep and seen_before(folder, name):
        save(folder, name, compiled, status)
    return compiled, None


def directory(cache_dir: Path) -> Path:
    return embedded.paths(cache_dir).root / DIRNAME


def key(core: Any, config: Mapping[str, Any], runtime: str) -> str:
    """What the export depends on: the converted model, OpenVINO (``runtime``: its version), the
    processor, the settings."""
    what = {
        "converted": ov_cache.CONVERTED_SHA256,
        "openvino": runtime,
        "device": str(core.get_property("CPU", "FULL_DEVICE_NAME")),
        "capabilities": [str(c) for c in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")],
        "config": {k: str(v) for k, v in sorted(config.items())},
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def _blob(folder: Path, name: str) -> Path:
    return folder / f"{name}.blob"


def load(folder: Path, name: str, status: Callable[[str], None]) -> bytearray | None:
    """The export's bytes where it is there and hashes to its record; else None (``status`` hears
    why an export that is there is not used). A bytearray of our own: OpenVINO reads it in place
    (a tensor over read-only bytes would be copied first), and nothing else can change it between
    the hash and the import."""
    path = _blob(folder, name)
    try:
        data = _read(path)
    except OSError:
        return None
    trust = embedded.digest_file(folder, name)
    try:
        expected = trust.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        expected = ""
    if expected and hmac.compare_digest(hashlib.sha256(data).hexdigest(), expected):
        return data
    why = f"no digest of it in {trust}" if not expected else f"it does not match the digest in {trust}"
    status(f"the compiled model {path} is not used ({why}): compiling")
    return None


def _read(path: Path) -> bytearray:
    with open(path, "rb", buffering=0) as fh:
        data = bytearray(os.fstat(fh.fileno()).st_size)
        view, got = memoryview(data), 0
        while got < len(data):
            n = fh.readinto(view[got:])
            if not n:
                raise OSError(f"{path}: shorter than its size")
            got += n
        return data


def seen_before(folder: Path, name: str) -> bool:
    """Whether this machine loaded the model under ``name`` before; marks that it has."""
    mark = folder / f"{name}.loaded"
    if mark.is_file():
        return True
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        pass  # a read-only cache: no export is kept
    return False


def save(folder: Path, name: str, compiled: Any, status: Callable[[str], None]) -> None:
    """Export ``compiled`` under ``name`` and record its digest; a failure (a full disk, a
    read-only cache) is said and leaves the next load compiling as before."""
    path = _blob(folder, name)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stream = io.BytesIO()
        compiled.export_model(stream)
        data = stream.getbuffer()
        with open(tmp, "wb") as fh:
            fh.write(data)
        embedded.keep_digest(embedded.digest_file(folder, name), hashlib.sha256(data).hexdigest())
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 (an export is an optimisation: the review goes on)
        status(f"the compiled model is not kept for later loads ({' '.join(str(exc).split())})")
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
