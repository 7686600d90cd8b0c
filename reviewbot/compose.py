"""Settings -> concrete parts. The only place that maps names to classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from .config import Settings
from .pipeline import PlanLimits
from .ports import Linter, ModelBackend, Reporter, Route


def backend(settings: Settings, status: Callable[[str], None] | None = None) -> ModelBackend | None:
    if settings.backend == "none":
        return None
    if settings.backend == "openai":
        from .backends.openai import OpenAIBackend

        assert settings.base_url is not None  # config.load checks it
        key = settings.api_key.reveal() if settings.api_key is not None else None
        return OpenAIBackend(
            settings.base_url,
            settings.api_model,
            api_key=key,
            timeout=settings.model_timeout,
            max_retries=settings.model_retries,
            concurrency=concurrency(settings),
        )
    from .backends.local import LocalBackend  # light: torch is imported on first use only

    return LocalBackend(
        cache_dir=settings.cache,
        model_dir=settings.model_dir,
        threads=settings.threads,
        status=status,
        device=settings.device,
        max_batch=concurrency(settings),  # concurrent work items' generations decoded together
    )


def concurrency(settings: Settings) -> int:
    """Work items sent to the model at once: `model.concurrency`, else 8 for a server, 1 locally."""
    if settings.model_concurrency is not None:
        return settings.model_concurrency
    return 8 if settings.backend == "openai" else 1


def route(settings: Settings, model: ModelBackend | None) -> Route | None:
    if model is None:
        return None
    from .routes.review import ReviewRoute

    return ReviewRoute(
        model,
        min_drop=settings.min_drop,
        max_findings=settings.max_findings_per_item,
        max_new_tokens=settings.max_new_tokens,
    )


def router(settings: Settings, model: ModelBackend | None):
    """The router over the routes that exist today (only `review`: it then costs no model call)."""
    if model is None:
        return None
    from .router import Router

    return Router(
        model,
        available=("review",),
        pins=settings.route_pins,
        forbid=settings.route_forbid,
        second_route_margin=settings.route_second_margin,
    )


def linters(settings: Settings) -> list[Linter]:
    from .runners.linters import Bandit, Ruff

    table: dict[str, Callable[[], Linter]] = {
        "ruff": lambda: Ruff(timeout=settings.lint_timeout),
        "bandit": lambda: Bandit(timeout=settings.lint_timeout),
    }
    return [table[name]() for name in settings.linters]


def limits(settings: Settings) -> PlanLimits:
    return PlanLimits(
        item_tokens=settings.item_tokens,
        budget_tokens=settings.budget_tokens,
        exclude=settings.exclude,
        include_vendored=settings.include_vendored,
    )


def reporter(fmt: str, out: TextIO, *, color: bool) -> Reporter:
    from . import reporters

    table: dict[str, Callable[[], Reporter]] = {
        "terminal": lambda: reporters.TerminalReporter(out, color=color),
        "json": lambda: reporters.JsonReporter(out),
        "sarif": lambda: reporters.SarifReporter(out),
        "markdown": lambda: reporters.MarkdownReporter(out),
    }
    return table[fmt]()
