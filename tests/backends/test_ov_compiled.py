"""The compiled decoder kept for later loads (ov_compiled): written on a machine's second load,
imported only where its bytes match the digest kept outside the cache; the model's answers the
same either way (test at the end, on the real embedded model)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewbot.backends import embedded, ov_compiled


class Exported:
    """What ov_compiled.save takes of a compiled model: its export."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def export_model(self, stream) -> None:
        stream.write(self.data)


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def test_an_export_is_kept_from_the_second_load_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "compiled"
    said: list[str] = []
    assert not ov_compiled.seen_before(folder, "k1")  # a first load only marks
    assert ov_compiled.load(folder, "k1", said.append) is None
    assert ov_compiled.seen_before(folder, "k1")
    ov_compiled.save(folder, "k1", Exported(b"compiled bytes"), said.append)
    assert ov_compiled.load(folder, "k1", said.append) == b"compiled bytes"
    assert said == []
    digest = embedded.digest_file(folder, "k1")
    assert folder not in digest.parents and oct(digest.stat().st_mode & 0o777) == "0o600"


def test_an_export_that_does_not_match_its_digest_is_not_used(tmp_path: Path, state: Path) -> None:
    folder = tmp_path / "compiled"
    ov_compiled.save(folder, "k", Exported(b"compiled bytes"), lambda m: None)
    (folder / "k.blob").write_bytes(b"planted bytes")
    said: list[str] = []
    assert ov_compiled.load(folder, "k", said.append) is None
    assert "does not match the digest" in said[0]
    (folder / "other.blob").write_bytes(b"planted with no digest")
    assert ov_compiled.load(folder, "other", said.append) is None
    assert "no digest of it" in said[1]


def test_an_export_that_cannot_be_written_is_said_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "compiled"
    folder.mkdir()
    os.chmod(folder, 0o500)
    said: list[str] = []
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: a file where the folder should be
            os.chmod(folder, 0o700)
            folder.rmdir()
            folder.write_text("not a folder")
        ov_compiled.save(folder, "k", Exported(b"x"), said.append)
    finally:
        if folder.is_dir():
            os.chmod(folder, 0o700)
    assert said and said[0].startswith("the compiled model is not kept for later loads")
    assert ov_compiled.load(folder, "k", said.append) is None


@pytest.mark.model
def test_the_model_imported_answers_as_the_model_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("openvino")
    from support.model_chats import ASK, LABELS, SYSTEM, USER

    from reviewbot.backends.openvino_backend import OpenVINOBackend
    from reviewbot.config import load

    monkeypatch.setattr(ov_compiled, "directory", lambda cache_dir: tmp_path / "compiled")
    cache = load({}, os.environ, None).cache

    def answers() -> tuple[bool, object, object, list[str]]:
        said: list[str] = []
        b = OpenVINOBackend(cache_dir=cache, status=said.append)
        b.load()
        return b.imported, b.choose([SYSTEM, USER], LABELS), b.score(ASK, "return a + 1\n"), said

    first = answers()  # marks the machine
    second = answers()  # compiles and keeps the export
    third = answers()  # imports it
    assert (first[0], second[0], third[0]) == (False, False, True)
    assert len(list((tmp_path / "compiled").glob("*.blob"))) == 1
    for run in (second, third):
        assert run[1].probabilities == first[1].probabilities
        assert run[2].logprobs == first[2].logprobs
    blob = next((tmp_path / "compiled").glob("*.blob"))
    with open(blob, "r+b") as fh:  # one byte changed: compiled over, with the reason said
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 1]))
    tampered = answers()
    assert not tampered[0] and any("does not match the digest" in m for m in tampered[3])
    assert tampered[1].probabilities == first[1].probabilities


@pytest.mark.model
def test_preparing_the_model_is_not_a_machines_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`reviewbot model prepare` (the Action's step before the review, the image's build) neither
    marks the machine nor writes an export: the review after it is still the first load."""
    pytest.importorskip("openvino")
    from reviewbot.platforms.cli import main

    monkeypatch.setattr(ov_compiled, "directory", lambda cache_dir: tmp_path / "compiled")
    monkeypatch.delenv("REVIEWBOT_BACKEND", raising=False)
    assert main(["model", "prepare", "--no-progress"]) == 0
    assert "model ready in" in capsys.readouterr().out
    assert not (tmp_path / "compiled").exists()
