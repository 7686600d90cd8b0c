"""Settings -> concrete parts. The only place that maps names to classes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .config import TOOLS
from .errors import UsageError
from .pipeline import PlanLimits
from .ports import ChangeTests, Linter, ModelBackend, Reporter, Route
from .profiles import Profiles

if TYPE_CHECKING:
    from .runners.policy import CodeRunner, SandboxPolicy
    from .service.jobs import JobStore
    from .settings import Settings
    from .tools.base import Registry, Tool


def backend(settings: Settings, status: Callable[[str], None] | None = None) -> ModelBackend | None:
    if settings.backend == "none":
        return None
    if settings.backend == "openai":
        from .backends.openai import OpenAIBackend

        assert settings.base_url is not None  # config.load checks it
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        return OpenAIBackend(
            settings.base_url,
            settings.api_model,
            api_key=key,
            timeout=settings.model.timeout,
            max_retries=settings.model.retries,
            concurrency=concurrency(settings),
        )
    if settings.backend == "openvino":
        from .backends.openvino_backend import OpenVINOBackend  # light: openvino imported on first use

        return OpenVINOBackend(cache_dir=settings.cache, threads=settings.threads, status=status)
    from .backends.local import LocalBackend  # light: torch is imported on first use only

    return LocalBackend(
        cache_dir=settings.cache,
        model_dir=settings.model_dir,
        threads=settings.threads,
        status=status,
        device=settings.model.device,
        max_batch=concurrency(settings),  # concurrent work items' generations decoded together
    )


def concurrency(settings: Settings) -> int:
    """Work items sent to the model at once: `model.concurrency`, else 8 for a server, 1 locally."""
    if settings.model.concurrency is not None:
        return settings.model.concurrency
    return 8 if settings.backend == "openai" else 1


def route(settings: Settings, model: ModelBackend | None) -> Route | None:
    if model is None:
        return None
    from .routes.review import ReviewRoute

    return ReviewRoute(
        model,
        strategy=settings.review.strategy,
        min_drop=settings.review.min_drop,
        max_findings=settings.review.max_findings_per_item,
        max_new_tokens=settings.review.max_new_tokens,
        suggestions=settings.review.suggestions,
    )


def code_runner(settings: Settings, policy: SandboxPolicy) -> CodeRunner:
    """Where model-written code and test suites run: the bubblewrap sandbox under ``policy`` (which
    the routes probe, and which, when it cannot start, makes them say why and run nothing). Only
    with `sandbox.allow_unsandboxed: true` in the configuration, and only where bubblewrap does not
    start, this machine with rlimits and a clean environment alone (runners/sandbox.py); that mode
    keeps its own limits: the policy's wall clock, as many CPU seconds, the default memory."""
    from .runners.policy import SandboxPolicy
    from .runners.sandbox import BubblewrapSandbox, UnsafeLocalRunner

    if not settings.sandbox.allow_unsandboxed:
        return BubblewrapSandbox(policy)
    wall = policy.wall_seconds
    policy = SandboxPolicy(wall_seconds=wall, cpu_seconds=max(1, int(wall)))
    sandbox = BubblewrapSandbox(policy)
    return sandbox if sandbox.probe() is None else UnsafeLocalRunner(policy)


def default_registry(
    *,
    timeout: float = 120.0,
    test_timeout: float = 120.0,
    include: Sequence[str] = TOOLS,
    runner: CodeRunner | None = None,
    python: str | None = None,
) -> Registry:
    """The tools route's allow-list: ruff, bandit, mypy, pytest, shellcheck and eslint; ``include``
    picks some (names from config.TOOLS). ``runner`` runs pytest; by default the bubblewrap
    sandbox, and pytest is unavailable where that does not start. ``python`` is the interpreter
    pytest runs under (default: reviewbot's own)."""
    from .runners.pytest_driver import sandbox_policy
    from .runners.sandbox import BubblewrapSandbox
    from .tools import checkers, pytest_tool
    from .tools.base import Registry

    def pytest() -> Tool:
        sandbox = runner or BubblewrapSandbox(sandbox_policy(test_timeout))
        return pytest_tool.pytest_tool(sandbox, timeout=test_timeout, python=python)

    factories: dict[str, Callable[[], Tool]] = {
        "ruff": lambda: checkers.ruff_tool(timeout),
        "bandit": lambda: checkers.bandit_tool(timeout),
        "mypy": lambda: checkers.mypy_tool(timeout),
        "pytest": pytest,
        "shellcheck": lambda: checkers.shellcheck_tool(timeout),
        "eslint": lambda: checkers.eslint_tool(timeout),
    }
    unknown = [n for n in include if n not in factories]
    if unknown:
        raise ValueError(f"unknown tool(s) {', '.join(unknown)} (known: {', '.join(TOOLS)})")
    return Registry(factories[n]() for n in include)


def other_routes(settings: Settings, model: ModelBackend | None) -> dict[str, Route]:
    """The routes beside `review` that this build has, by name, minus `routes.forbid`."""
    if model is None:
        return {}
    table: dict[str, Callable[[], Route]] = {
        "tools": lambda: _tools_route(settings, model),
        "interpreter": lambda: _interpreter_route(settings, model),
        "search": lambda: _search_route(settings, model),
        "repo_qa": lambda: _repo_qa_route(settings, model),
    }
    return {name: make() for name, make in table.items() if name not in settings.routes.forbid}


def _tools_route(settings: Settings, model: ModelBackend) -> Route:
    from .routes.tools import ToolsRoute
    from .runners.pytest_driver import sandbox_policy

    registry = default_registry(
        timeout=settings.tools.timeout,
        test_timeout=settings.tools.timeout,
        include=settings.tools.allow,
        runner=code_runner(settings, sandbox_policy(settings.tools.timeout)),
    )
    return ToolsRoute(model, registry)


def _interpreter_route(settings: Settings, model: ModelBackend) -> Route:
    from .routes.interpreter import InterpreterRoute
    from .routes.interpreter_run import sandbox_policy

    timeout = settings.interpreter.timeout
    return InterpreterRoute(model, code_runner(settings, sandbox_policy(timeout)), timeout=timeout)


def _search_route(settings: Settings, model: ModelBackend) -> Route:
    from .knowledge.docs import DocsIndex
    from .knowledge.web import SearxNG
    from .routes.search import SearchRoute

    web = SearxNG(settings.search.web_url) if settings.search.web_url else None
    return SearchRoute(model, lambda: DocsIndex.open(settings.cache), web=web)


def repo_qa(settings: Settings, model: ModelBackend | None, root, progress=None, budget_tokens: int = 1500):
    """The question answerer over `root`'s index (updated first; vectors when `index.vectors`)."""
    from .knowledge.repo import RepoIndex
    from .routes.repo_qa import RepoQA

    index = RepoIndex.open(settings.cache, root)
    index.update(progress)
    vectors = None
    if settings.index.vectors:
        from .knowledge.vectors import MiniLM, VectorTable, add_vectors

        emb = MiniLM.load()
        add_vectors(index.store, emb, progress)
        vectors = (emb, VectorTable(index.store))
    return RepoQA(model, index, vectors=vectors, budget_tokens=budget_tokens)


def _repo_qa_route(settings: Settings, model: ModelBackend) -> Route:
    from .routes.repo_qa import RepoQARoute

    return RepoQARoute(model, lambda root: repo_qa(settings, model, root))


def router(settings: Settings, model: ModelBackend | None, routes: Mapping[str, Route] | None = None):
    """The router over `review` and the other routes built (with only `review`, no model call)."""
    if model is None:
        return None
    from .router import Router

    return Router(
        model,
        available=("review", *(routes or {})),
        pins=settings.routes.pin,
        forbid=settings.routes.forbid,
        second_route_margin=settings.routes.second_margin,
        calibrate=settings.routes.calibrate,
    )


def linters(settings: Settings) -> list[Linter]:
    from .runners.linters import Bandit, Ruff

    table: dict[str, Callable[[], Linter]] = {
        "ruff": lambda: Ruff(
            timeout=settings.lint.timeout, select=settings.lint.ruff_select, ignore=settings.lint.ruff_ignore
        ),
        "bandit": lambda: Bandit(timeout=settings.lint.timeout, severity=settings.lint.bandit_severity),
    }
    return [table[name]() for name in settings.lint.linters]


def change_tests(settings: Settings) -> ChangeTests | None:
    """The change's own tests beside the linters (`tests.enabled`), each run in the sandbox under
    what is left of the `tests.timeout` budget."""
    if not settings.tests.enabled:
        return None
    from .runners.change_tests import SandboxedChangeTests
    from .runners.pytest_driver import sandbox_policy

    return SandboxedChangeTests(
        lambda seconds: code_runner(settings, sandbox_policy(seconds)), timeout=settings.tests.timeout
    )


def profiles(settings: Settings) -> Profiles:
    """The rules per kind of file (`file_kinds.*`, `rules_off.*`)."""
    s = settings
    kinds = {
        "tests": s.file_kinds.tests,
        "docs": s.file_kinds.docs,
        "examples": s.file_kinds.examples,
        "reexports": s.file_kinds.reexports,
    }
    off = {
        "tests": s.rules_off.tests,
        "docs": s.rules_off.docs,
        "examples": s.rules_off.examples,
        "reexports": s.rules_off.reexports,
        "code": s.rules_off.code,
    }
    return Profiles(kinds, off)


def limits(settings: Settings) -> PlanLimits:
    return PlanLimits(
        item_tokens=settings.plan.item_tokens,
        budget_tokens=settings.plan.budget_tokens,
        exclude=settings.plan.exclude,
        include_vendored=settings.plan.include_vendored,
    )


def reporter(fmt: str, out: TextIO, *, color: bool, shown: int | None = None) -> Reporter:
    """``shown``: the terminal's budget of findings shown in full (the inline budget)."""
    from . import reporters

    table: dict[str, Callable[[], Reporter]] = {
        "terminal": lambda: reporters.TerminalReporter(out, color=color, shown=shown),
        "json": lambda: reporters.JsonReporter(out),
        "sarif": lambda: reporters.SarifReporter(out),
        "markdown": lambda: reporters.MarkdownReporter(out),
        "rdjson": lambda: reporters.RdjsonReporter(out),
    }
    return table[fmt]()


def job_store(settings: Settings, *, lease: float = 900.0) -> JobStore:
    """A new connection to the webhook service's job store: ``service.store`` is ``sqlite`` (a file in
    the cache), ``sqlite:///PATH`` (that file) or a ``redis://`` URL (workers on several machines).
    One per thread: SQLite connections are not shared."""
    where = settings.service.store
    opts = {
        "max_attempts": settings.service.max_attempts,
        "backoff": settings.service.backoff,
        "lease": lease,
    }
    if where.startswith(("redis://", "rediss://", "unix://")):
        from .service.redis_jobs import RedisJobStore

        return RedisJobStore(where, **opts)  # type: ignore[arg-type]
    if where == "sqlite":
        path = Path(settings.cache) / "service" / "jobs.sqlite3"
    elif where.startswith("sqlite:///"):
        path = Path(where[len("sqlite://") :])
    else:
        raise UsageError(f"service.store: sqlite, sqlite:///PATH or redis://HOST:PORT/DB, got {where!r}")
    from .service.sqlite_jobs import SqliteJobStore

    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteJobStore(str(path), **opts)  # type: ignore[arg-type]
