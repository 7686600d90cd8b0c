"""The converted embedded model is loaded only when it matches the digest taken when reviewbot
wrote it, which is kept outside the cache: a converted model planted in the cache (by a change whose
checkout held the cache, or a restored CI cache) is converted again, never loaded."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from reviewbot.backends import embedded
from reviewbot.backends.loading import Loader
from reviewbot.errors import ModelError


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


class _Saved:
    """What transformers' save_pretrained leaves: a few plain files."""

    def __init__(self, weights: bytes = b"\x01" * 64) -> None:
        self.config = SimpleNamespace()
        self.hf_quantizer = None
        self.weights = weights

    def save_pretrained(self, where: Path) -> None:
        Path(where).mkdir(parents=True, exist_ok=True)
        (Path(where) / "config.json").write_text('{"model_type": "qwen2"}')
        (Path(where) / "model.safetensors").write_bytes(self.weights)


class _Recorder:
    """transformers' Auto classes, recording what would be loaded."""

    loaded: list[Path] = []

    @classmethod
    def from_pretrained(cls, where, **kwargs):
        cls.loaded.append(Path(where))
        return SimpleNamespace(to=lambda device: None)


_TORCH = SimpleNamespace(
    bfloat16="bf16", version=SimpleNamespace(cuda=None), cuda=SimpleNamespace(is_available=lambda: False)
)


def _plant(cache: Path) -> embedded.EmbeddedPaths:
    """What a change commits under ``.reviewbot-cache/``: a converted model and its marker."""
    p = embedded.paths(cache)
    _Saved(b"\x00" * 64).save_pretrained(p.converted)
    (p.converted / "REVIEWBOT_OK").write_text(embedded.GGUF_SHA256 + "\n")
    return p


def test_a_planted_converted_model_is_converted_again_not_loaded(tmp_path, monkeypatch):
    p = _plant(tmp_path / "cache")
    converts: list[Path] = []

    def convert(paths, *args):
        converts.append(paths.converted)
        raise ModelError("stop after deciding to convert")

    monkeypatch.setattr(embedded, "convert", convert)
    _Recorder.loaded = []
    said: list[str] = []
    with pytest.raises(ModelError, match="stop after deciding to convert"):
        Loader(None, tmp_path / "cache", device="cpu", status=said.append).load(_TORCH, _Recorder, _Recorder)
    assert converts == [p.converted] and _Recorder.loaded == []
    assert any("is not used (no digest of it in" in s for s in said), said


def test_a_planted_digest_inside_the_cache_does_not_count(tmp_path):
    cache = tmp_path / "cache"
    p = _plant(cache)
    (cache / "trusted.sha256").write_text(embedded.digest(p.converted) or "")
    assert not embedded.verified(p)
    assert cache not in embedded.trust_file(p).parents


def test_what_reviewbot_converted_is_trusted_until_a_file_changes(tmp_path, state_home):
    p = embedded.paths(tmp_path / "cache")
    embedded.write_converted(_Saved(), _Saved(), p.converted)
    assert embedded.verified(p)
    trust = embedded.trust_file(p)
    assert state_home in trust.parents and (trust.stat().st_mode & 0o077) == 0

    weights = p.converted / "model.safetensors"
    original = weights.read_bytes()
    weights.write_bytes(b"\x00" * len(original))  # same size, other weights
    said: list[str] = []
    assert not embedded.verified(p, said.append)
    assert "does not match the digest" in said[0]
    weights.write_bytes(original)
    assert embedded.verified(p)

    (p.converted / "extra.json").write_text("{}")  # a file added beside them
    assert not embedded.verified(p)
    os.remove(p.converted / "extra.json")
    os.symlink("/etc/hostname", p.converted / "link.json")  # a link to elsewhere
    assert not embedded.verified(p)
    os.remove(p.converted / "link.json")
    assert embedded.verified(p)
    trust.unlink()
    assert not embedded.verified(p)


def test_each_cache_has_its_own_digest(tmp_path):
    a, b = embedded.paths(tmp_path / "a"), embedded.paths(tmp_path / "b")
    embedded.write_converted(_Saved(b"\x01" * 8), _Saved(), a.converted)
    embedded.write_converted(_Saved(b"\x02" * 8), _Saved(), b.converted)
    assert embedded.verified(a) and embedded.verified(b)
