"""What the commands share: settings from flags, progress on stderr, writing the report, the exit
code, and the pipeline's parts for a review."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import TextIO

from .. import compose, config
from ..errors import PublishError
from ..model import Result, Severity


def settings_for(
    args: argparse.Namespace, repo: Path | None, repo_config: config.RepoConfig | None = None
) -> config.Settings:
    overrides = {
        "backend": args.backend,
        "model_dir": args.model_dir,
        "base_url": args.base_url,
        "api_model": args.api_model,
        "cache_dir": args.cache_dir,
        "threads": args.threads,
        "min_drop": args.min_drop,
        "progress": False if args.no_progress else None,
        "device": args.device,
        "model_concurrency": args.model_concurrency,
    }
    for name in ("format", "fail_on", "item_tokens", "budget_tokens"):
        overrides[name] = getattr(args, name, None)
    overrides["github_max_comments"] = getattr(args, "max_comments", None)
    if getattr(args, "no_color", False):
        overrides["color"] = False
    return config.load(overrides, os.environ, repo, args.config, repo_config=repo_config)


class StderrProgress:
    """A progress bar on a terminal, one line per step otherwise."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.t0 = time.perf_counter()

    def status(self, message: str) -> None:
        if self.enabled:
            print(f"reviewbot: {message}", file=self.stream, flush=True)

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled or total == 0:
            return
        elapsed = time.perf_counter() - self.t0
        if self.tty:
            width = 24
            fill = int(width * done / total)
            bar = "#" * fill + "-" * (width - fill)
            end = "\n" if done == total else ""
            self.stream.write(f"\r[{bar}] {done}/{total} {elapsed:5.1f}s {label[:50]:<50}{end}")
            self.stream.flush()
        elif done < total:
            print(f"reviewbot: [{done + 1}/{total}] {label} ({elapsed:.1f}s)", file=self.stream, flush=True)


def write_output(path: Path | None, text: str, stdout: TextIO) -> None:
    if path is None:
        stdout.write(text)
        stdout.flush()
        return
    path = path.expanduser()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    except OSError as exc:
        raise PublishError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PublishError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc


def exit_code(result: Result, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    floor = Severity(fail_on).rank
    return 1 if any(a.finding.severity.rank >= floor for a in result.anchored) else 0


def review_parts(settings: config.Settings, progress: StderrProgress, question: str | None = None):
    """The pipeline's parts for a review, as the settings say (review and github)."""
    from .. import pipeline

    model = compose.backend(settings, status=progress.status)
    others = compose.other_routes(settings, model)
    return pipeline.Parts(
        backend=model,
        route=compose.route(settings, model),
        router=compose.router(settings, model, others),
        other_routes=others,
        linters=compose.linters(settings),
        lint_mode=settings.lint_mode,
        limits=compose.limits(settings),
        progress=progress,
        concurrency=compose.concurrency(settings),
        model_deadline=settings.model_deadline,
        question=question,
    )
