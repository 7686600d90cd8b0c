"""`reviewbot github review --post` with the real embedded model, against the GitHub stand-in."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("xgrammar")

from support.github_standin import GitHubStandIn  # noqa: E402

from reviewbot.platforms.cli import main  # noqa: E402

pytestmark = pytest.mark.model
SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sample.diff"


def test_the_embedded_model_reviews_a_pull_request_and_github_accepts_it(monkeypatch) -> None:
    with GitHubStandIn() as server:
        server.add_pull("o/r", 5, base="a" * 40, head="b" * 40, diff=SAMPLE.read_bytes())
        monkeypatch.setenv("GITHUB_TOKEN", server.token)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        out, err = io.StringIO(), io.StringIO()
        code = main(
            [
                "github",
                "review",
                "--pr",
                "o/r#5",
                "--post",
                "--backend",
                "local",
                "--no-progress",
                "--fail-on",
                "never",
            ],
            stdout=out,
            stderr=err,
        )
        assert code == 0, err.getvalue()
        assert server.rejections == [] and 422 not in server.statuses()
        summary = server.issue_comments[0]["body"]
        assert "reviewed by local" in summary
        assert len(server.reviews) <= 1 and len(server.issue_comments) == 1
        for r in server.reviews:
            assert r["state"] == "COMMENTED" and r["commit_id"] == "b" * 40
        print(f"inline comments from the model: {len(server.review_comments)}; {out.getvalue().strip()}")
