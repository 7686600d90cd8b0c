"""loading.Loader with torch and transformers' Auto classes handed in: fakes, then a real round trip."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from reviewbot.backends import loading
from reviewbot.backends.devices import LoadPlan
from reviewbot.errors import ModelError

ROOT = Path(__file__).resolve().parents[2]


def fake_torch(gpus: int = 0) -> SimpleNamespace:
    props = SimpleNamespace(name="H100", major=9, minor=0)
    cuda = SimpleNamespace(
        is_available=lambda: gpus > 0,
        device_count=lambda: gpus,
        mem_get_info=lambda i: (80 * 2**30, 80 * 2**30),
        get_device_properties=lambda i: props,
    )
    return SimpleNamespace(version=SimpleNamespace(cuda="12.4" if gpus else None), cuda=cuda, bfloat16="bf16")


class Auto:
    """Records from_pretrained calls; `fail` is raised instead of loading."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[Path, dict]] = []
        self.fail = fail

    def from_pretrained(self, src, **kw):
        self.calls.append((Path(src), kw))
        if self.fail is not None:
            raise self.fail
        return SimpleNamespace(src=src)


def checkpoint(tmp_path: Path) -> Path:
    d = tmp_path / "ckpt"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    (d / "model.safetensors").write_bytes(b"\0" * 1024)
    return d


def loader(model_dir: Path | None, tmp_path: Path, device: str = "auto") -> loading.Loader:
    return loading.Loader(model_dir, tmp_path / "cache", device=device, status=lambda msg: None)


def test_a_model_directory_without_config_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="has no config.json"):
        loader(tmp_path / "empty", tmp_path).load(fake_torch(), Auto(), Auto())


@pytest.mark.parametrize(
    ("gpus", "plan", "kwargs"),
    [
        (0, LoadPlan("cpu", "auto", None), {"dtype": "auto", "local_files_only": True}),
        (
            1,
            LoadPlan("cuda:0", "bfloat16", None),
            {"dtype": "bfloat16", "local_files_only": True, "device_map": "cuda:0"},
        ),
    ],
)
def test_a_model_directory_loads_where_devices_plans(
    tmp_path: Path, gpus: int, plan: LoadPlan, kwargs: dict
) -> None:
    src = checkpoint(tmp_path)
    model, tok, ld = Auto(), Auto(), loader(src, tmp_path)
    got = ld.load(fake_torch(gpus), model, tok)
    assert got == (SimpleNamespace(src=src), SimpleNamespace(src=src))
    assert ld.plan == plan and len(ld.cuda) == gpus and ld.cold_start is False
    assert model.calls == [(src, kwargs)] and tok.calls == [(src, {"local_files_only": True})]


def test_a_failed_load_is_one_model_error_and_keeps_the_plan(tmp_path: Path) -> None:
    src = checkpoint(tmp_path)
    ld = loader(src, tmp_path)
    with pytest.raises(ModelError, match="out of memory") as err:
        ld.load(fake_torch(1), Auto(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")), Auto())
    assert "\n" not in str(err.value)
    assert ld.plan == LoadPlan("cuda:0", "bfloat16", None) and ld.cuda[0].name == "H100"


def test_an_unreadable_config_is_named(tmp_path: Path) -> None:
    src = checkpoint(tmp_path)
    (src / "config.json").write_text("{")
    with pytest.raises(ModelError, match="config.json cannot be read"):
        loader(src, tmp_path).load(fake_torch(), Auto(), Auto())


def test_the_tokenizer_file_is_found_where_it_is(tmp_path: Path) -> None:
    src = checkpoint(tmp_path)
    assert loading.tokenizer_file(src, tmp_path) is None
    (src / "tokenizer.json").write_text("{}")
    assert loading.tokenizer_file(src, tmp_path) == src / "tokenizer.json"


def test_local_backend_loads_a_saved_checkpoint_and_generates_as_in_memory(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from reviewbot.backends.local import LocalBackend

    spec = importlib.util.spec_from_file_location("bench_gpu", ROOT / "bench" / "gpu.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    config = bench.glm_config(tiny=True)
    torch.manual_seed(0)
    model = transformers.GlmForCausalLM(config).float().eval()
    tok = bench.byte_tokenizer(config.vocab_size)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    chat = [{"role": "user", "content": "check this"}]
    expected = LocalBackend.from_model(model, tok, model_id="tiny").generate(chat, max_tokens=4)
    b = LocalBackend(cache_dir=tmp_path / "cache", model_dir=tmp_path / "m", device="cpu")
    assert b.count_tokens("check this") == len(tok.encode("check this", add_special_tokens=False))
    got = b.generate(chat, max_tokens=4)
    assert b.plan == LoadPlan("cpu", "auto", None) and b.cold_start is False
    assert (got.text, got.generated_tokens) == (expected.text, expected.generated_tokens)
