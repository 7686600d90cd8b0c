"""The `openvino` backend: the embedded model on OpenVINO's CPU runtime, int8 weights, no torch.

The model is the embedded GGUF converted once (ov_cache.py, ov_build.py) and verified before it
is loaded. openvino, numpy and llguidance are imported on first use only.

Three verbs (ports.ModelBackend), as the local backend does them:
- score: one pass over the prompt and the continuation (less its last token); the graph returns
  the log-probability of each continuation token at its position, not a logits matrix.
- choose: one pass, a softmax over the labels' distinct first tokens of the last position.
- generate: greedy decoding; with a JSON schema the output is constrained by llguidance (compact
  separators `, ` and `: `, no other whitespace, no properties beyond the schema's).

Prefix cache (ov_prefix.py): the keys and values of the last call are kept with the tokens they
hold, and prefixes of earlier calls beside them; the next call runs the model only over what
differs (`cached_tokens`, `stats`), as the local backend does.

Loading: the decoder's files are verified and compiled (or, from the second load on a machine, its
compiled export is verified and imported in place: ov_compiled.py) while a second thread verifies
and reads the embedding rows: hashing and reading use one core, compiling both, so they overlap.
The grammar's tokenizer for constrained answers is built by the first of them.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..ports import Choice, Generation, Message, Scored
from . import decoding, embedded, ov_cache, ov_compiled
from .batching import CacheStats
from .ov_prefix import PrefixCache
from .ov_text import Text, eos_of, strict_schema

INSTALL_HINT = "pip install 'reviewbot[embedded]'"
CHUNK = 128  # positions per pass when scoring: bounds a scoring pass's (positions, vocab) matrix
PREFILL = 512  # positions per pass when only the last one is scored: fewer, larger matrix products
ASIDE_FILES = ("embed_q.npy", "embed_scale.npy")
DRAFT = 8  # tokens guessed ahead in one decoding pass (a pass of 9 positions costs about 1.4 of one)
LOOKUP = 3  # tokens just generated that, found in the prompt, make what followed them there the guess
SURE = math.log(0.7)  # a guess is taken where the model gives it more (it is then the greedy pick)


class OpenVINOBackend:
    name = "openvino"

    def __init__(
        self,
        *,
        cache_dir: Path,
        threads: int | None = None,
        status: Any = None,
        prefix_cache: bool = True,
        draft: int = DRAFT,
        keep_compiled: bool = True,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self._prefix = PrefixCache(prefix_cache)
        self.draft = draft  # tokens guessed ahead while decoding (0: one token per pass)
        self.keep_compiled = keep_compiled  # import the decoder compiled on an earlier load (ov_compiled)
        self.imported = False  # the decoder came from a kept export, not compiled at this load
        self._export: bytearray | None = None  # that export's bytes: the imported model reads them in place
        self.model_id: str | None = embedded.MODEL_ID
        self.stats = CacheStats()
        self._status = status or (lambda msg: None)
        self._lock = threading.RLock()
        self._text_lock = threading.Lock()  # the tokenizer loads apart: planning needs it alone
        self._loader: threading.Thread | None = None
        self._load_error: Exception | None = None
        self._request: Any = None
        self._text: Text | None = None
        self._embed: tuple[Any, Any] | None = None
        self._eos: set[int] = set()
        self._layers = 0
        self._ll_tok: Any = None
        self._grammar_lock = threading.Lock()
        self._grammars: dict[str, str] = {}
        self.load_seconds: float | None = None

    @property
    def prefix_cache(self) -> bool:
        """Whether calls reuse the keys and values that earlier calls left (ov_prefix)."""
        return self._prefix.enabled

    @prefix_cache.setter
    def prefix_cache(self, on: bool) -> None:
        self._prefix.enabled = on

    # ------------------------------------------------------------------ loading
    def _load_text(self) -> Text:
        """The tokenizer and the chat template alone (their files verified): what planning needs."""
        with self._text_lock:
            if self._text is None:
                verified = ov_cache.load(self.cache_dir, self._status, names=ov_cache.TEXT_FILES)
                self._text = Text(verified.text("tokenizer.json"), verified.text("chat_template.jinja"))
            return self._text

    def load_in_background(self) -> None:
        """Start loading the model (verify, compile) in a thread of its own, while the caller plans;
        the first verb (or `load`) waits for it, and raises what it raised."""
        with self._lock:
            if self._request is not None or self._loader is not None:
                return
            self._loader = threading.Thread(target=self._load_aside, name="reviewbot-model-load", daemon=True)
            self._loader.start()

    def _load_aside(self) -> None:
        try:
            self.load()
        except Exception as exc:  # noqa: BLE001 (raised again in the thread that needs the model)
            self._load_error = exc

    def load(self) -> None:
        with self._lock:
            if self._request is not None:
                return
            if self._load_error is not None:  # raised once: the next call tries again
                error, self._load_error, self._loader = self._load_error, None, None
                raise error
            self._load()

    def _load(self) -> None:
        self._status(f"loading the model ({self.model_id}, OpenVINO int8)")
        t0 = time.perf_counter()
        try:
            import numpy  # noqa: F401
            import openvino  # noqa: F401
        except ImportError as exc:
            raise ModelError(f"the openvino backend needs {exc.name}: {INSTALL_HINT}") from exc
        pool = ThreadPoolExecutor(1, thread_name_prefix="reviewbot-model-aside")
        aside = pool.submit(self._load_beside)
        pool.shutdown(wait=False)  # the thread ends with its one task
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = int(self.threads)
        compiled, self._export = ov_compiled.decoder(self.cache_dir, config, self.keep_compiled, self._status)
        self.imported = self._export is not None
        arch = json.loads(ov_cache.load(self.cache_dir, self._status, names=("arch.json",)).text("arch.json"))
        self._embed = aside.result()
        text = self._load_text()
        self._eos = eos_of(arch, text)
        self._layers = int(arch["layers"])
        self._kv_heads, self._head_dim = int(arch["kv_heads"]), int(arch["hidden"]) // int(arch["heads"])
        self._vocab = int(arch["vocab"])
        self._request = compiled.create_infer_request()  # last: the model is ready
        self.load_seconds = time.perf_counter() - t0

    def _load_beside(self) -> tuple[Any, Any]:
        """The embedding rows, verified: what the decoder's first pass needs beside it."""
        import numpy as np

        verified = ov_cache.load(self.cache_dir, self._status, names=ASIDE_FILES)
        q = np.load(_bytes_io(verified.files["embed_q.npy"]), allow_pickle=False)
        scale = np.load(_bytes_io(verified.files["embed_scale.npy"]), allow_pickle=False)
        return q, scale

    def _grammar_tokenizer(self, vocab: int, eos: set[int]) -> Any:
        """llguidance's view of the tokenizer, built once, by the first constrained answer: about
        0.7 s of one core, which holds the GIL. It is not built beside the load: there it slowed
        the load by as much, on 2 cores, in every review, and the default review of the embedded
        model (the likelihood strategy) writes nothing."""
        import llguidance

        with self._grammar_lock:
            if self._ll_tok is None:
                assert self._text is not None
                self._ll_tok = llguidance.LLTokenizer(
                    self._text.json, n_vocab=vocab, eos_token=sorted(eos)[0]
                )
            return self._ll_tok

    def count_tokens(self, text: str) -> int:
        return len(self._load_text().tok.encode(text, add_special_tokens=False).ids)

    # ------------------------------------------------------------------ the model
    def _empty_kv(self) -> list[Any]:
        import numpy as np

        shape = (1, self._kv_heads, 0, self._head_dim)
        return [np.zeros(shape, dtype=np.float32) for _ in range(2 * self._layers)]

    def _run(self, seq: list[int], targets: list[int]) -> tuple[Any, Any, int]:
        """Run `seq` (all tokens so far) reusing the prefix cache; the last len(targets) positions
        are scored against `targets`. Returns (last logits, target log-probs, tokens reused).

        The new tokens go through in chunks, each continuing from the keys and values of the one
        before: of CHUNK positions when a continuation is scored, so that a chunk's scoring holds a
        (CHUNK, vocab) matrix at most, not one row per token of a long continuation; of PREFILL
        positions when only the last one is (choosing, and the prompt of an answer)."""
        import numpy as np

        keep = len(seq) - len(targets)  # the positions from `keep` on are scored
        p, held = self._prefix.find(seq, min(len(seq) - 1, keep))
        kv = [a[:, :, :p] for a in held] if p else self._empty_kv()
        assert self._embed is not None
        q, scale = self._embed
        picked: list[Any] = []
        logits: Any = None
        r = self._request
        try:
            size = CHUNK if len(targets) > 1 else PREFILL
            for start in range(p, len(seq), size):
                end = min(start + size, len(seq))
                new = np.asarray(seq[start:end], dtype=np.int64)
                embeds = (q[new].astype(np.float32) * scale[new].astype(np.float32)).reshape(1, len(new), -1)
                scored = targets[max(start, keep) - keep : end - keep] if end > keep else []
                inputs: dict[str, Any] = {
                    "inputs_embeds": embeds,
                    "targets": np.asarray(scored or [0], dtype=np.int64),  # one dummy where none
                }
                for i in range(self._layers):
                    inputs[f"past_key.{i}"] = np.ascontiguousarray(kv[2 * i])
                    inputs[f"past_value.{i}"] = np.ascontiguousarray(kv[2 * i + 1])
                r.infer(inputs, share_inputs=True)  # numpy arrays read in place, not copied
                if scored:
                    picked.append(r.get_tensor("target_logprobs").data.copy())
                kv = []
                for i in range(self._layers):
                    kv.append(r.get_tensor(f"present_key.{i}").data.copy())
                    kv.append(r.get_tensor(f"present_value.{i}").data.copy())
            logits = r.get_tensor("logits").data.copy()
        except Exception:
            self._prefix.clear()
            raise
        self._prefix.keep(list(seq), kv)
        return logits, np.concatenate(picked) if picked else np.zeros(0, dtype=np.float32), p

    # ------------------------------------------------------------------ verbs
    def score(self, messages: Sequence[Message], continuation: str) -> Scored | None:
        with self._lock:
            self.load()
            assert self._text is not None
            t0 = time.perf_counter()
            prompt = self._text.prompt(messages)
            enc = self._text.encode(continuation)
            cont = list(enc.ids)
            if not cont:
                return Scored((), (), 0.0)
            seq = prompt + cont[:-1]  # the positions that predict each continuation token
            _, picked, p = self._run(seq, cont)
            self.stats.count(len(prompt) + len(cont), p)
            offsets = tuple(int(a) for a, _ in enc.offsets)
            return Scored(tuple(float(x) for x in picked), offsets, time.perf_counter() - t0)

    def label_token_ids(self, labels: Sequence[str]) -> list[int]:
        self.load()
        assert self._text is not None
        return decoding.label_token_ids(self._text.tok, labels)

    def choose(self, messages: Sequence[Message], labels: Sequence[str]) -> Choice:
        import numpy as np

        with self._lock:
            self.load()
            assert self._text is not None
            t0 = time.perf_counter()
            firsts = self.label_token_ids(labels)
            seq = self._text.prompt(messages)
            logits, _, p = self._run(seq, [0])
            picked = logits[firsts].astype(np.float64)
            probs = np.exp(picked - picked.max())
            probs /= probs.sum()
            table = dict(zip(labels, (float(x) for x in probs)))
            best = max(table, key=table.__getitem__)
            self.stats.count(len(seq), p)
            return Choice(best, table[best], table, len(seq), time.perf_counter() - t0, cached_tokens=p)

    def _matcher(self, schema: Mapping) -> Any:
        import llguidance

        assert self._text is not None
        ll_tok = self._grammar_tokenizer(self._vocab, self._eos)
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = llguidance.LLMatcher.grammar_from_json_schema(
                strict_schema(dict(schema)),
                defaults={"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "},
            )
        matcher = llguidance.LLMatcher(ll_tok, self._grammars[key], log_level=0)
        if matcher.is_error():
            raise ModelError(f"the JSON schema cannot be compiled: {matcher.get_error()}")
        return matcher

    def generate(
        self, messages: Sequence[Message], *, schema: Mapping | None = None, max_tokens: int = 256
    ) -> Generation:
        """Greedy decoding, a token at a time as the model picks it; where the next tokens can be
        guessed (``_draft``) they go through the model in one pass with the token picked, and each
        guess is taken, up to the first that is not, only where it is the token the model would
        pick there: the only token the grammar allows, or one it allows that the model gives more
        than ``SURE`` of its probability (then no other token can have more). The same tokens, in
        fewer passes of the model."""
        import numpy as np

        with self._lock:
            self.load()
            assert self._text is not None
            t0 = time.perf_counter()
            prompt = self._text.prompt(messages)
            matcher = self._matcher(schema) if schema is not None else None
            mask = None
            if matcher is not None:
                import llguidance.numpy as llnp

                mask = llnp.allocate_token_bitmask(1, self._vocab)
            seq = list(prompt)
            out: list[int] = []
            logprobs: list[float] = []
            logits, cached = None, 0
            if max_tokens > 0:
                logits, _, cached = self._run(seq, [0])
            while len(out) < max_tokens:
                shifted = logits.astype(np.float64) - logits.max()
                lsm = shifted - np.log(np.exp(shifted).sum())
                if matcher is not None:
                    llnp.fill_next_token_bitmask(matcher, mask, 0)
                    allowed = np.unpackbits(mask[0].view(np.uint8), bitorder="little")[: self._vocab]
                    choice = int(np.argmax(np.where(allowed.astype(bool), logits, -np.inf)))
                else:
                    choice = int(np.argmax(logits))
                out.append(choice)
                logprobs.append(float(lsm[choice]))
                seq.append(choice)
                if choice in self._eos:
                    break
                if matcher is not None:
                    matcher.consume_token(choice)
                    if matcher.is_error():
                        raise ModelError(f"constrained decoding failed: {matcher.get_error()}")
                    if matcher.is_stopped():
                        break
                if len(out) >= max_tokens:
                    break
                draft = self._draft(seq, len(prompt), matcher, max_tokens - len(out))
                if not draft:
                    logits, _, _ = self._run(seq, [0])
                    continue
                # the positions of `choice` and the guesses: each scores the next guess, the last
                # one's logits are the next step's
                logits, picked, _ = self._run(seq + draft, [*draft, 0])
                taken = 0
                for token, lp in zip(draft, picked):
                    if matcher is not None:
                        llnp.fill_next_token_bitmask(matcher, mask, 0)
                        allowed = np.unpackbits(mask[0].view(np.uint8), bitorder="little")[: self._vocab]
                        forced = allowed[token] and int(allowed.sum()) == 1  # the grammar's only token
                        if not (forced or (allowed[token] and lp > SURE)):
                            break
                        matcher.consume_token(token)
                        if matcher.is_error():
                            raise ModelError(f"constrained decoding failed: {matcher.get_error()}")
                    elif lp <= SURE:
                        break
                    taken += 1
                    out.append(token)
                    logprobs.append(float(lp))
                    seq.append(token)
                    if matcher is not None and matcher.is_stopped():
                        break
                if matcher is not None and matcher.is_stopped():
                    break
                if taken < len(draft):  # the model's logits after the last token taken
                    logits, _, _ = self._run(seq, [0])
            self.stats.count(len(prompt), cached)
            text = self._text.tok.decode(out, skip_special_tokens=True)
            return Generation(
                text=text,
                prompt_tokens=len(prompt),
                generated_tokens=len(out),
                seconds=time.perf_counter() - t0,
                token_logprobs=tuple(logprobs),
                cached_tokens=cached,
            )

    def _draft(self, seq: list[int], prompt_len: int, matcher: Any, room: int) -> list[int]:
        """Tokens that will likely come next: those the grammar forces from here (the JSON's keys
        and punctuation), else what followed the last ``LOOKUP`` tokens where they occur in the
        prompt (a quoted row); at most ``self.draft`` and ``room``, none the grammar refuses, no EOS."""
        draft: list[int] = []
        if self.draft <= 0:
            return draft
        if matcher is not None:
            draft = list(matcher.compute_ff_tokens())
        if not draft and len(seq) - prompt_len >= LOOKUP:
            tail = seq[-LOOKUP:]
            for i in range(prompt_len - LOOKUP, -1, -1):  # the latest occurrence in the prompt
                if seq[i : i + LOOKUP] == tail:
                    draft = seq[i + LOOKUP : min(i + LOOKUP + self.draft, prompt_len)]
                    break
        draft = draft[: min(self.draft, room)]
        for i, token in enumerate(draft):
            if token in self._eos:
                draft = draft[:i]
                break
        if matcher is not None and draft:
            draft = draft[: matcher.validate_tokens(draft)]
        return draft


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)
