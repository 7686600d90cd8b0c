"""The command line in this process with a JSON report: what most end-to-end tests read.

from support.cli_json import review_diff, review_last_commit, run_json
code, doc, err = run_json("ask", "Where is the cache?", "--repo", str(repo))
code, doc, err = review_diff(tmp_path, DIFF, "--backend", "openai", "--base-url", server.url)
code, doc, err = review_last_commit(repo, cfg, "--backend", "none")
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from reviewbot.platforms.cli import main


def run_json(*args: str) -> tuple[int, dict, str]:
    """``reviewbot ARGS --format json --no-progress``: the exit code, the JSON document (``{}`` when
    nothing was written to stdout) and what was written to stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main([*args, "--format", "json", "--no-progress"], out, err)
    return code, (json.loads(out.getvalue()) if out.getvalue() else {}), err.getvalue()


def review_diff(tmp_path: Path, diff: str, *args: str) -> tuple[int, dict, str]:
    """``reviewbot review --diff FILE ARGS`` as `run_json`, FILE holding `diff` (``tmp_path/change.diff``)."""
    path = tmp_path / "change.diff"
    path.write_text(diff)
    return run_json("review", "--diff", str(path), *args)


def review_last_commit(repo: Path, config: Path, *args: str) -> tuple[int, dict, str]:
    """``reviewbot review --git HEAD~1..HEAD --repo REPO --config CONFIG --fail-on never ARGS`` as
    `run_json`."""
    return run_json(
        "review",
        "--git",
        "HEAD~1..HEAD",
        "--repo",
        str(repo),
        "--config",
        str(config),
        "--fail-on",
        "never",
        *args,
    )


def review_git_openai(repo: Path, url: str, **model: object) -> tuple[int, dict, str, float]:
    """`review_last_commit` through the openai backend at `url` (model ``standin-model``), with the
    ``model.*`` settings given (in that order) in a config file beside the repository: also the wall
    seconds it took."""
    cfg = repo.parent / "cfg.yml"
    cfg.write_text("".join(f"model.{k}: {v}\n" for k, v in model.items()))
    t0 = time.monotonic()
    code, doc, err = review_last_commit(
        repo, cfg, "--backend", "openai", "--base-url", url, "--api-model", "standin-model"
    )
    return code, doc, err, time.monotonic() - t0
