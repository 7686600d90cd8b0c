"""The one-time conversion keeps tqdm's carriage-return bar out of a log (a non-TTY stderr) and says
what it does in one status line per step."""

from __future__ import annotations

import sys
from pathlib import Path

from reviewbot.backends import embedded


class _Saved:
    def __init__(self) -> None:
        self.config = type("Config", (), {})()
        self.hf_quantizer = None

    def save_pretrained(self, where: Path) -> None:
        Path(where).mkdir(parents=True, exist_ok=True)
        (Path(where) / "saved").write_text("x")


class _Auto:
    """Stands in for transformers' Auto classes: draws a bar as transformers' GGUF reader does."""

    @staticmethod
    def from_pretrained(*args, **kwargs) -> _Saved:
        for i in range(3):
            sys.stderr.write(f"\rConverting and de-quantizing GGUF tensors...: {i}/3")
        return _Saved()


class _Torch:
    bfloat16 = "bf16"


def test_no_carriage_returns_in_a_log(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the converted copy's digest
    p = embedded.paths(tmp_path)
    p.root.mkdir(parents=True)
    p.gguf.write_bytes(b"gguf")
    lines: list[str] = []
    embedded.convert(p, _Auto, _Auto, _Torch, lines.append)
    err = capsys.readouterr().err  # pytest's capture is not a TTY
    assert "\r" not in err and "GGUF tensors" not in err
    assert lines == ["converting the embedded model to bfloat16 once (about a minute on 2 cores)"]
    assert p.converted_marker.is_file()
