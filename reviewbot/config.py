"""Settings: loaded once from defaults < `.reviewbot.yml` < environment < flags, then passed down.

This is the only module that reads the environment or a configuration file. Every key is
validated; an error names the key and the file it came from (`ConfigError`, exit code 2).
See docs/configuration.md for the keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .model import ROUTE_NAMES

CONFIG_FILE = ".reviewbot.yml"
BACKENDS = ("local", "openai", "none")  # the fake backend is for tests, built directly
FORMATS = ("terminal", "json", "sarif", "markdown")
FAIL_ON = ("error", "warning", "never")
LINT_MODES = ("added", "diff_context", "file")
LINTERS = ("ruff", "bandit")
TOOLS = ("ruff", "bandit", "mypy", "pytest", "shellcheck", "eslint")  # built by compose.default_registry


class Secret(str):
    """A string that does not show its value when printed or logged."""

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def reveal(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True, slots=True)
class Settings:
    backend: str = "local"
    model_dir: Path | None = None  # a transformers checkpoint instead of the embedded model
    base_url: str | None = None  # openai backend: an OpenAI-compatible server (vLLM, llama.cpp, ...)
    api_model: str | None = None  # openai backend: the served model's name (default: the first listed)
    api_key: Secret | None = field(default=None, repr=False)  # openai backend: from REVIEWBOT_API_KEY only
    cache_dir: Path = Path("~/.cache/reviewbot")
    threads: int | None = None
    format: str = "terminal"
    fail_on: str = "error"
    color: bool | None = None  # None: when the output is a terminal and NO_COLOR is unset
    progress: bool = True
    # plan
    item_tokens: int = 1200  # the most diff tokens in one work item
    budget_tokens: int = 24000  # the most diff tokens sent to the model in one review
    exclude: tuple[str, ...] = ()  # extra path globs to skip
    include_vendored: bool = False
    # review route
    min_drop: float = 0.05  # nats/token by which the new code must be less likely than the old
    max_findings_per_item: int = 2
    max_new_tokens: int = 200
    # router (reviewbot/router.py)
    route_pins: tuple[tuple[str, str], ...] = ()  # (path glob, route): the first match decides
    route_forbid: tuple[str, ...] = ()
    route_second_margin: float = 0.0  # run the runner-up too when p(best) - p(runner-up) < this
    route_calibrate: bool = False  # divide by the labels' priors on a content-free item (router.py)
    # tools and interpreter routes
    tools: tuple[str, ...] = TOOLS  # the allow-list offered to the tools route
    tool_timeout: float = 120.0  # seconds per tool run (pytest: per test run)
    interpreter_timeout: float = 60.0  # seconds for one model-written test in the sandbox
    # run model-written code WITHOUT the sandbox where bubblewrap cannot start (never by default)
    allow_unsandboxed: bool = False
    # search and repo_qa routes (reviewbot/knowledge/, docs/search.md)
    web_url: str | None = None  # a SearxNG instance for the search route's web lookups; off when unset
    vectors: bool = False  # repo_qa: MiniLM vectors fused with BM25 (needs the `vectors` extra)
    # linters
    linters: tuple[str, ...] = LINTERS
    lint_mode: str = "added"
    lint_timeout: float = 120.0
    # model calls (pipeline/, backends/openai/, backends/local.py)
    model_concurrency: int | None = None  # work items at once; None: 1 for local, 8 for openai
    model_timeout: float = 60.0  # openai backend: seconds per HTTP request
    model_retries: int = 3  # openai backend: retries of a failed request (jittered backoff)
    model_deadline: float | None = None  # seconds of model work per review; later items not sent
    device: str = "auto"  # local backend: auto | cpu | cuda | cuda:N
    # github (reviewbot/hosts/github/, docs/github.md): the token only from GITHUB_TOKEN
    github_token: Secret | None = field(default=None, repr=False)
    github_api_url: str = "https://api.github.com"
    github_event_path: Path | None = None  # $GITHUB_EVENT_PATH: the event that started the workflow
    github_step_summary: Path | None = None  # $GITHUB_STEP_SUMMARY: the job summary file
    github_max_comments: int = 30  # inline comments per review; the rest go in the review body
    github_bot_login: str | None = None  # whose earlier comments count on re-runs (default: the token's user)
    # where the settings came from, for messages
    config_path: Path | None = field(default=None, compare=False)

    @property
    def cache(self) -> Path:
        return Path(os.path.expanduser(str(self.cache_dir)))


# key in the YAML file -> (Settings field, validator)
def _choice(options: tuple[str, ...]):
    def check(v: Any) -> str:
        if not isinstance(v, str) or v not in options:
            raise ValueError(f"must be one of {', '.join(options)}; got {v!r}")
        return v

    return check


def _int(lo: int, hi: int):
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}; got {v!r}")
        return v

    return check


def _float(lo: float, hi: float):
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise ValueError(f"must be a number from {lo} to {hi}; got {v!r}")
        return float(v)

    return check


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"must be true or false; got {v!r}")
    return v


def _url(v: Any) -> str:
    if not isinstance(v, str) or not v.startswith(("http://", "https://")):
        raise ValueError(f"must be an http(s) URL; got {v!r}")
    return v


def _name(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"must be a non-empty name; got {v!r}")
    return v


def _device(v: Any) -> str:
    if not isinstance(v, str) or not (v in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", v)):
        raise ValueError(f"must be auto, cpu, cuda or cuda:N; got {v!r}")
    return v


def _path(v: Any) -> Path:
    if not isinstance(v, str) or not v:
        raise ValueError(f"must be a path; got {v!r}")
    return Path(os.path.expanduser(v))


def _globs(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ValueError(f"must be a list of path globs; got {v!r}")
    return tuple(v)


def _pins(v: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, dict) or not all(isinstance(g, str) and g and r in ROUTE_NAMES for g, r in v.items()):
        raise ValueError(f"must map path globs to routes ({', '.join(ROUTE_NAMES)}); got {v!r}")
    return tuple(v.items())


def _routes(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(x in ROUTE_NAMES for x in v):
        raise ValueError(f"must be a list drawn from {', '.join(ROUTE_NAMES)}; got {v!r}")
    return tuple(v)


def _tools(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(x in TOOLS for x in v):
        raise ValueError(f"must be a list drawn from {', '.join(TOOLS)}; got {v!r}")
    return tuple(v)


def _linters(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(x in LINTERS for x in v):
        raise ValueError(f"must be a list drawn from {', '.join(LINTERS)}; got {v!r}")
    return tuple(v)


FILE_KEYS: dict[str, tuple[str, Any]] = {
    "backend": ("backend", _choice(BACKENDS)),
    "model_dir": ("model_dir", _path),
    "cache_dir": ("cache_dir", _path),
    "base_url": ("base_url", _url),
    "api_model": ("api_model", _name),
    "threads": ("threads", _int(1, 512)),
    "fail_on": ("fail_on", _choice(FAIL_ON)),
    "plan.item_tokens": ("item_tokens", _int(200, 100_000)),
    "plan.budget_tokens": ("budget_tokens", _int(200, 10_000_000)),
    "plan.exclude": ("exclude", _globs),
    "plan.include_vendored": ("include_vendored", _bool),
    "review.min_drop": ("min_drop", _float(0.0, 10.0)),
    "review.max_findings_per_item": ("max_findings_per_item", _int(1, 10)),
    "review.max_new_tokens": ("max_new_tokens", _int(16, 4096)),
    "routes.pin": ("route_pins", _pins),
    "routes.forbid": ("route_forbid", _routes),
    "routes.second_margin": ("route_second_margin", _float(0.0, 1.0)),
    "routes.calibrate": ("route_calibrate", _bool),
    "tools.allow": ("tools", _tools),
    "tools.timeout": ("tool_timeout", _float(1, 3600)),
    "interpreter.timeout": ("interpreter_timeout", _float(1, 3600)),
    "sandbox.allow_unsandboxed": ("allow_unsandboxed", _bool),
    "search.web_url": ("web_url", _url),
    "index.vectors": ("vectors", _bool),
    "lint.linters": ("linters", _linters),
    "lint.mode": ("lint_mode", _choice(LINT_MODES)),
    "lint.timeout": ("lint_timeout", _float(1, 3600)),
    "model.concurrency": ("model_concurrency", _int(1, 256)),
    "model.timeout": ("model_timeout", _float(1, 3600)),
    "model.retries": ("model_retries", _int(0, 10)),
    "model.deadline": ("model_deadline", _float(1, 86400)),
    "model.device": ("device", _device),
    "github.api_url": ("github_api_url", _url),
    "github.max_comments": ("github_max_comments", _int(0, 30)),
    "github.bot_login": ("github_bot_login", _name),
}

_FIELD_CHECKS = {name: check for name, check in FILE_KEYS.values()}  # Settings field -> validator

ENV_KEYS: dict[str, tuple[str, Any]] = {
    "REVIEWBOT_BACKEND": ("backend", _choice(BACKENDS)),
    "REVIEWBOT_MODEL_DIR": ("model_dir", _path),
    "REVIEWBOT_CACHE_DIR": ("cache_dir", _path),
    "REVIEWBOT_FAIL_ON": ("fail_on", _choice(FAIL_ON)),
    "REVIEWBOT_BASE_URL": ("base_url", _url),
    "REVIEWBOT_API_KEY": ("api_key", lambda v: Secret(v)),
    # set by GitHub Actions; the token never reaches a model backend (compose passes it to the publisher only)
    "GITHUB_TOKEN": ("github_token", lambda v: Secret(v)),
    "GITHUB_API_URL": ("github_api_url", _url),
    "GITHUB_EVENT_PATH": ("github_event_path", _path),
    "GITHUB_STEP_SUMMARY": ("github_step_summary", _path),
}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key not in FILE_KEYS:
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def read_file(path: Path) -> dict[str, Any]:
    """Validated field values from a YAML file; ConfigError names the key and the file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of keys, got {type(data).__name__}")
    values: dict[str, Any] = {}
    for key, raw in _flatten(data).items():
        if key not in FILE_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(FILE_KEYS))})")
        name, check = FILE_KEYS[key]
        try:
            values[name] = check(raw)
        except ValueError as exc:
            raise ConfigError(f"{path}: key {key!r} {exc}") from None
    return values


def load(
    overrides: Mapping[str, Any], environ: Mapping[str, str], repo_root: Path | None, config: Path | None = None
) -> Settings:
    """Defaults < config file < environment < flags (`overrides`: field name -> value, None = unset)."""
    values: dict[str, Any] = {}
    path = config
    if path is None and repo_root is not None and (repo_root / CONFIG_FILE).is_file():
        path = repo_root / CONFIG_FILE
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found")
        values.update(read_file(path))
    for var, (name, check) in ENV_KEYS.items():
        if environ.get(var):
            try:
                values[name] = check(environ[var])
            except ValueError as exc:
                raise ConfigError(f"environment variable {var} {exc}") from None
    if "cache_dir" not in values and environ.get("XDG_CACHE_HOME"):
        values["cache_dir"] = Path(environ["XDG_CACHE_HOME"]) / "reviewbot"
    known = {f.name for f in fields(Settings)}
    for name, v in overrides.items():
        if v is None:
            continue
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        if name in _FIELD_CHECKS and isinstance(v, (bool, int, float, str)):  # flags: same limits as the file
            try:
                v = _FIELD_CHECKS[name](v)
            except ValueError as exc:
                raise ConfigError(f"--{name.replace('_', '-')} {exc}") from None
        values[name] = v
    if "color" not in values and environ.get("NO_COLOR"):  # no-color.org: set and not empty
        values["color"] = False
    settings = replace(Settings(), config_path=path, **values)
    if settings.backend == "openai" and not settings.base_url:
        raise ConfigError("backend openai needs a server URL: --base-url, REVIEWBOT_BASE_URL or base_url in the file")
    return settings
