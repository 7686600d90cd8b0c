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
Beside this module, without torch: loading.py (the checkpoint), batching.py, decoding.py (text side).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..ports import Choice, Generation, Message, Scored
from . import decoding, devices, embedded, formats, loading
from .batching import Batcher, CacheStats

# transformers 5.24 warns on each forward pass given `past_key_values` (renamed `cache`); 5.23 knows
# only the former, and the prefix cache passes it on purpose: no warning per work item on stderr
warnings.filterwarnings("ignore", message=r".*past_key_values.*", category=FutureWarning)


class LocalBackend:
    name = "local"

    def __init__(
        self,
        *,
        cache_dir: Path,
        model_dir: Path | None = None,
        threads: int | None = None,
        status: loading.Status | None = None,
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
        self._batcher = Batcher(self._lock, self.stats)
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
    def count_tokens(self, text: str) -> int:
        """Tokens by the model's own tokenizer; uses the light `tokenizers` library when it can."""
        if self._tok is not None:
            return len(self._tok.encode(text, add_special_tokens=False))
        if self._fast_tok is None:
            f = loading.tokenizer_file(self.model_dir, self.cache_dir)
            if f is None:
                self.load()
                return len(self._tok.encode(text, add_special_tokens=False))
            from tokenizers import Tokenizer

            self._fast_tok = Tokenizer.from_file(str(f))
        return len(self._fast_tok.encode(text, add_special_tokens=False).ids)

    def load(self) -> None:
        if self._model is not None:
            return
        self._status(f"loading the model ({self.model_id})")
        t0 = time.perf_counter()
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise ModelError(
                f"the local backend needs torch and transformers ({exc.name} missing): "
                f"{embedded.INSTALL_HINT}"
            ) from exc
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if self.threads:
            torch.set_num_threads(self.threads)
        loader = loading.Loader(self.model_dir, self.cache_dir, device=self.device, status=self._status)
        try:
            model, tok = loader.load(torch, AutoModelForCausalLM, AutoTokenizer)
        finally:
            self.plan, self._cuda, self.cold_start = loader.plan, loader.cuda, loader.cold_start
        model.eval()
        self._model, self._tok = model, tok
        self.load_seconds = time.perf_counter() - t0

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
    def _prompt_ids(self, messages: Sequence[Message]):
        if self._specials is None:
            self._specials = decoding.control_strings(self._tok)
        safe = [{**m, "content": decoding.defuse(m["content"], self._specials)} for m in messages]
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
            schema_text = json.dumps(_for_xgrammar(schema), sort_keys=True)
            self._grammars[key] = compiler.compile_json_schema(schema_text, any_whitespace=False)
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
        return self._batcher.run(
            messages,
            schema,
            max_tokens,
            max_batch=self.max_batch,
            window=self.batch_window,
            one=self._generate_one,
            batch=self.generate_batch,
        )

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
            self.stats.count(len(seq), p)
            gen = self._generation(out, 0, len(seq), t0)
            return Generation(
                gen.text,
                gen.prompt_tokens,
                gen.generated_tokens,
                gen.seconds,
                gen.token_logprobs,
                cached_tokens=p,
            )

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
            out = self._generate(
                ids, [schema] * len(prompts) if schema is not None else None, max_tokens, None, mask
            )
            for x in prompts:
                self.stats.count(len(x), 0)
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
        eos = set(decoding.eos_ids(self._model, self._tok))
        return decoding.read_generation(
            out, row, start, t0, tok=self._tok, eos=eos, prompt_tokens=prompt_tokens
        )

    def label_token_ids(self, labels: Sequence[str]) -> list[int]:
        self.load()
        return decoding.label_token_ids(self._tok, labels)

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
            self.stats.count(int(ids.shape[1]), p)
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
            self.stats.count(int(full.shape[1]), p)
            picked = (picked_logits - lse).tolist()
            offsets = tuple(int(a) for a, _ in enc["offset_mapping"][0].tolist())
            return Scored(tuple(picked), offsets, time.perf_counter() - t0)


def torch_loaded() -> bool:
    return "torch" in sys.modules


def _for_xgrammar(node: Any) -> Any:
    """``node`` without the maximum lengths of strings (xgrammar compiles a maxLength of 240 in
    about 3.5 s) and without the minimum lengths of strings that have a pattern (it ignores those
    with a warning on stderr): validation checks them all."""
    if isinstance(node, dict):
        out = {k: _for_xgrammar(v) for k, v in node.items()}
        out.pop("maxLength", None)
        if "pattern" in out:
            out.pop("minLength", None)
        return out
    if isinstance(node, list):
        return [_for_xgrammar(v) for v in node]
    return node
