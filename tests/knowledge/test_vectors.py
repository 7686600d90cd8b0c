"""Reciprocal rank fusion; the MiniLM embedder on its packaged weights (marked model: it loads torch)."""

from __future__ import annotations

import pytest

from reviewbot.knowledge.vectors import rrf, unavailable


def test_rrf_rewards_agreement() -> None:
    fused = rrf([[1, 2, 3], [3, 1, 4]])
    assert [i for i, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


@pytest.mark.model
def test_minilm_from_the_package_embeds_like_sentence_transformers() -> None:
    if unavailable():
        pytest.skip(unavailable())
    from reviewbot.knowledge.vectors import MiniLM

    emb = MiniLM.load()
    v = emb.embed(["how do I retry a failed request", "backoff between retries", "the cat sat on the mat"])
    assert v.shape == (3, 384)
    assert abs(float((v[0] ** 2).sum()) - 1.0) < 1e-4
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
    st = pytest.importorskip("sentence_transformers")
    from reviewbot.knowledge.vectors import model_dir

    ref = st.SentenceTransformer(str(model_dir()), device="cpu").encode(["backoff between retries"])
    assert float(ref[0] @ v[1]) > 0.999


@pytest.mark.model
def test_repo_qa_with_vectors_fuses_both_rankings(tmp_path) -> None:
    if unavailable():
        pytest.skip(unavailable())
    from reviewbot.backends.fake import FakeBackend
    from reviewbot.knowledge.repo import RepoIndex
    from reviewbot.knowledge.vectors import MiniLM, VectorTable, add_vectors
    from reviewbot.routes.repo_qa import RepoQA

    (tmp_path / "net.py").write_text(
        'def backoff_delay(attempt):\n    """Seconds to sleep before the next retry."""\n'
    )
    (tmp_path / "ui.py").write_text('def render_colour(widget):\n    """Paint the widget."""\n')
    index = RepoIndex.open(tmp_path / "cache", tmp_path)
    index.update()
    emb = MiniLM.load()
    assert add_vectors(index.store, emb) == index.store.count() and add_vectors(index.store, emb) == 0
    answer = '{"found": true, "answer": "backoff_delay", "sources": [1]}'
    qa = RepoQA(FakeBackend([answer]), index, vectors=(emb, VectorTable(index.store)))
    a = qa.answer("how long to sleep before another retry attempt?")
    assert a.retrieval == "bm25+vectors" and a.found
    assert a.sources[0].path == "net.py" and a.sources[0].name == "backoff_delay"
