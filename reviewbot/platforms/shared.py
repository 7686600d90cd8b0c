"""What the commands share: settings from flags, progress on stderr, writing the report, the exit
code, and the pipeline's parts for a review."""

from __future__ import annotations

import argparse
import errno
import functools
import os
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from .. import compose, config
from ..errors import ConfigError, PublishError
from ..hosts.markers import Signer, installation_key
from ..model import Result


def settings_for(
    args: argparse.Namespace, repo: Path | None, *, repo_config: config.RepoConfig | None = None
) -> config.Settings:
    """Flags over the environment over a configuration file: `--config`, else `repo_config` (the
    repository's file at the change's base commit), else `repo`'s own file."""
    # the model flags exist only on the commands that run a model
    names = (
        "backend",
        "model_dir",
        "base_url",
        "api_model",
        "cache_dir",
        "threads",
        "min_drop",
        "review_strategy",
        "device",
        "model_concurrency",
        "format",
        "fail_on",
        "fail_on_model",
        "item_tokens",
        "budget_tokens",
        "max_comments",
    )
    overrides = {name: getattr(args, name, None) for name in names}
    overrides["progress"] = False if args.no_progress else None
    if getattr(args, "no_color", False):
        overrides["color"] = False
    return config.load(overrides, os.environ, repo, args.config, repo_config=repo_config)


def refuse_inside_checkout(settings: config.Settings, checkout: Path | None) -> None:
    """A cache or model directory inside the checkout under review holds what the change commits (a
    converted model, a marker key): ConfigError, before anything is read from it."""
    if checkout is None:
        return
    root = Path(checkout).resolve()
    dirs = (
        ("cache", settings.cache, "REVIEWBOT_CACHE_DIR"),
        ("model", settings.model_dir, "REVIEWBOT_MODEL_DIR"),
    )
    for what, path, variable in dirs:
        if path is None:
            continue
        real = Path(os.path.expanduser(str(path))).resolve()
        if real == root or root in real.parents:
            raise ConfigError(
                f"the {what} directory {path} is inside the checkout under review ({root}), where the "
                f"change could plant its files; set {variable} to a directory outside it"
            )


def with_config_notes(result: Result, settings: config.Settings) -> Result:
    """The report says which configuration was used, what of it was ignored, and when the sandbox was off."""
    notes = [f"configuration: {settings.config_origin}"] if settings.config_origin else []
    notes.extend(settings.config_notes)
    if settings.sandbox.allow_unsandboxed:
        notes.append(
            "the sandbox is OFF (allow_unsandboxed): model-written code and tests may run on this machine"
        )
    return replace(result, notes=(*notes, *result.notes)) if notes else result


@functools.cache
def _marker_key(configured: str | None, cache: Path, on_actions: bool) -> tuple[bytes, str | None]:
    return installation_key(configured, cache, {"GITHUB_ACTIONS": "true"} if on_actions else {})


def marker_signer(settings: config.Settings) -> tuple[Signer, str | None]:
    """The signer of the bot's hidden markers (one key per process) and a note when earlier runs'
    markers cannot be recognised (``hosts/markers.py``)."""
    configured = (
        settings.hosts.marker_key.get_secret_value() if settings.hosts.marker_key is not None else None
    )
    key, note = _marker_key(configured, settings.cache, os.environ.get("GITHUB_ACTIONS") == "true")
    return Signer(key), note


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
        eta = f", about {elapsed / done * (total - done):.0f}s left" if 0 < done < total else ""
        if self.tty:
            width = 24
            fill = int(width * done / total)
            bar = "#" * fill + "-" * (width - fill)
            end = "\n" if done == total else ""
            self.stream.write(f"\r[{bar}] {done}/{total} {elapsed:5.1f}s{eta} {label[:40]:<40}{end}")
            self.stream.flush()
        elif done < total:
            print(
                f"reviewbot: [{done + 1}/{total}] {label} ({elapsed:.1f}s{eta})", file=self.stream, flush=True
            )


def _fail(path: Path, exc: OSError) -> PublishError:
    return PublishError(f"{path}: cannot write the report ({exc.strerror or exc})")


def _create(path: Path) -> tuple[int, Path]:
    """A new temporary file beside `path`, mode 0666 less the umask (mkstemp's would be 0600)."""
    folder = path.parent if str(path.parent) else Path(".")
    for _ in range(100):
        tmp = folder / f".{path.name}.{secrets.token_hex(4)}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def check_output(path: Path | None) -> None:
    """Fail now, before the review runs, when the report could not be written to `path`."""
    if path is None:
        return
    path = path.expanduser()
    if path.is_dir():
        raise _fail(path, IsADirectoryError(errno.EISDIR, "Is a directory"))
    try:
        fd, tmp = _create(path)
    except OSError as exc:
        raise _fail(path, exc) from exc
    os.close(fd)
    tmp.unlink()


def write_output(path: Path | None, text: str, stdout: TextIO) -> None:
    """The report on stdout, or in `path`, written whole (a temporary file renamed into place)."""
    if path is None:
        stdout.write(text)
        stdout.flush()
        return
    path = path.expanduser()
    try:
        fd, tmp = _create(path)
    except OSError as exc:
        raise _fail(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _fail(path, exc) from exc


def exit_code(result: Result, settings: config.Settings) -> int:
    """1 when the result fails the run (`Result.fails`: a model's guess only with `fail_on_model`)."""
    return int(result.fails(settings.fail_on, model_fails=settings.fail_on_model))


def review_parts(
    settings: config.Settings, progress: StderrProgress, question: str | None = None, *, model=None
):
    """The pipeline's parts for a review, as the settings say (review and github); `model`: a backend
    already made (bench/model_start.py times its load apart)."""
    from .. import pipeline

    model = model if model is not None else compose.backend(settings, status=progress.status)
    others = compose.other_routes(settings, model)
    return pipeline.Parts(
        backend=model,
        route=compose.route(settings, model),
        router=compose.router(settings, model, others),
        other_routes=others,
        linters=compose.linters(settings),
        tests=compose.change_tests(settings),
        lint_mode=settings.lint.mode,
        profiles=compose.profiles(settings),
        limits=compose.limits(settings),
        progress=progress,
        concurrency=compose.concurrency(settings),
        model_deadline=settings.model.deadline,
        question=question,
        error_confidence=settings.review.error_confidence,
    )
