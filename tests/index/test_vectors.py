"""Reciprocal rank fusion; the MiniLM embedder on its packaged weights (marked model: it loads torch)."""

from __future__ import annotations

import pytest

from reviewbot.index.vectors import rrf, unavailable


def test_rrf_rewards_agreement() -> None:
    fused = rrf([[1, 2, 3], [3, 1, 4]])
    assert [i for i, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


@pytest.mark.model
def test_minilm_from_the_package_embeds_like_sentence_transformers() -> None:
    if unavailable():
        pytest.skip(unavailable())
    from reviewbot.index.vectors import MiniLM

    emb = MiniLM.load()
    v = emb.embed(["how do I retry a failed request", "backoff between retries", "the cat sat on the mat"])
    assert v.shape == (3, 384)
    assert abs(float((v[0] ** 2).sum()) - 1.0) < 1e-4
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
    st = pytest.importorskip("sentence_transformers")
    from reviewbot.index.vectors import model_dir

    ref = st.SentenceTransformer(str(model_dir()), device="cpu").encode(["backoff between retries"])
    assert float(ref[0] @ v[1]) > 0.999
