"""Settings: loaded once from defaults < `.reviewbot.yml` < environment < flags, then passed down.

The only reader of the environment and of configuration files. Every key is validated; an error
names the key and the file (`ConfigError`, exit 2). The keys: docs/configuration.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .config_checks import (
    boolean,
    device,
    drawn_from,
    globs,
    integer,
    nonempty,
    number,
    one_of,
    path,
    pins,
    rule_codes,
    rule_globs,
    url,
)
from .errors import ConfigError
from .model import ROUTE_NAMES
from .profiles import DEFAULT_KINDS, DEFAULT_OFF
from .suggest import unknown_key

CONFIG_FILE = ".reviewbot.yml"
BACKENDS = ("local", "openvino", "openai", "none")  # the fake backend is for tests, built directly
FORMATS = ("terminal", "json", "sarif", "markdown", "rdjson")
FAIL_ON = ("error", "warning", "never")
REVIEW_STRATEGIES = ("auto", "likelihood", "generative")  # routes/review.py says how auto picks
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
    backend: str = "openvino"  # the embedded model on OpenVINO's CPU runtime; local: torch + transformers
    model_dir: Path | None = None  # a transformers checkpoint instead of the embedded model
    base_url: str | None = None  # openai backend: an OpenAI-compatible server (vLLM, llama.cpp, ...)
    api_model: str | None = None  # openai backend: the served model's name (default: the first listed)
    api_key: Secret | None = field(default=None, repr=False)  # openai backend: from REVIEWBOT_API_KEY only
    cache_dir: Path = Path("~/.cache/reviewbot")
    threads: int | None = None
    format: str = "terminal"
    fail_on: str = "error"
    fail_on_model: bool = False  # a model's finding (a guess) may fail the run too (issue 13)
    color: bool | None = None  # None: when the output is a terminal and NO_COLOR is unset
    progress: bool = True
    # plan
    item_tokens: int = 1200  # the most diff tokens in one work item
    budget_tokens: int = 24000  # the most diff tokens sent to the model in one review
    exclude: tuple[str, ...] = ()  # extra path globs to skip
    include_vendored: bool = False
    # review route
    review_strategy: str = "auto"  # auto | likelihood | generative (routes/review.py: pick_strategy)
    error_confidence: float | None = None  # a model's finding is an error only at this confidence or above
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
    ruff_select: tuple[str, ...] = ("F", "E9", "E722", "B", "PLE")  # defects, not style (runners/linters.py)
    ruff_ignore: tuple[str, ...] = ("B904", "B905", "B028", "B009", "B010")
    bandit_severity: str = "medium"  # bandit's checks of this severity and above (runners/linters.py)
    # rules per kind of file (reviewbot/profiles.py): which paths are tests, docs, examples, and the
    # rules not shown in each kind (and in the rest, "code"); not in repr, whose test for leaked secrets
    # would meet `secrets/secret-keyword`
    kinds_tests: tuple[str, ...] = DEFAULT_KINDS["tests"]
    kinds_docs: tuple[str, ...] = DEFAULT_KINDS["docs"]
    kinds_examples: tuple[str, ...] = DEFAULT_KINDS["examples"]
    kinds_reexports: tuple[str, ...] = DEFAULT_KINDS["reexports"]
    off_tests: tuple[str, ...] = field(default=DEFAULT_OFF["tests"], repr=False)
    off_docs: tuple[str, ...] = field(default=DEFAULT_OFF["docs"], repr=False)
    off_examples: tuple[str, ...] = field(default=DEFAULT_OFF["examples"], repr=False)
    off_reexports: tuple[str, ...] = field(default=DEFAULT_OFF["reexports"], repr=False)
    off_code: tuple[str, ...] = field(default=DEFAULT_OFF["code"], repr=False)
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
    # issue 12, the webhook service's auth (reviewbot/hosts/*/service.py): from the environment only
    github_app_id: int | None = None  # a GitHub App: installation tokens from JWTs signed with its key
    github_app_key_path: Path | None = None  # the App's private key (PEM), read when the service starts
    gitlab_token: Secret | None = field(default=None, repr=False)  # a GitLab project or group token
    # issue 14 (hardening): the key that signs the hidden markers (hosts/markers.py), from the environment only
    marker_key: Secret | None = field(default=None, repr=False)
    # the webhook service (issue 12, docs/service.md): the secrets only from the environment
    service_store: str = "sqlite"  # sqlite (a file in the cache) or a redis:// URL
    service_max_body: int = 4 * 1024 * 1024  # bytes; real events are far smaller (docs/service.md)
    service_max_attempts: int = 3  # tries of a job before it is listed as failed
    service_backoff: float = 30.0  # seconds before the first retry; doubled each time
    service_reconcile: float = 600.0  # seconds between reconciler passes; 0: off
    service_gitlab_url: str = "https://gitlab.com/api/v4"  # the GitLab API the workers send the token to
    github_webhook_secret: Secret | None = field(default=None, repr=False)
    gitlab_webhook_secret: Secret | None = field(default=None, repr=False)
    # issue 13: the change's tests (runners/change_tests.py), beside the linters on a git checkout
    tests_enabled: bool = True
    tests_timeout: float = 120.0  # seconds for all the test runs of one review, base reruns included
    # where the settings came from, for messages
    config_path: Path | None = field(default=None, compare=False)
    config_origin: str | None = field(default=None, compare=False)  # the file used, for the report
    config_notes: tuple[str, ...] = field(default=(), compare=False)  # keys of it that were ignored

    @property
    def cache(self) -> Path:
        return Path(os.path.expanduser(str(self.cache_dir)))

    def github_app_key(self) -> Secret | None:
        """The GitHub App's private key, read from ``github_app_key_path`` (issue 12)."""
        if self.github_app_key_path is None:
            return None
        try:
            return Secret(Path(os.path.expanduser(str(self.github_app_key_path))).read_text())
        except OSError as exc:
            raise ConfigError(
                f"cannot read the GitHub App key {self.github_app_key_path}: {exc.strerror}"
            ) from None


# key in the YAML file -> (Settings field, validator)
_routes, _tools, _linters = drawn_from(ROUTE_NAMES), drawn_from(TOOLS), drawn_from(LINTERS)


FILE_KEYS: dict[str, tuple[str, Any]] = {
    "backend": ("backend", one_of(BACKENDS)),
    "model_dir": ("model_dir", path),
    "cache_dir": ("cache_dir", path),
    "base_url": ("base_url", url),
    "api_model": ("api_model", nonempty),
    "threads": ("threads", integer(1, 512)),
    "fail_on": ("fail_on", one_of(FAIL_ON)),
    "fail_on_model": ("fail_on_model", boolean),
    "plan.item_tokens": ("item_tokens", integer(200, 100_000)),
    "plan.budget_tokens": ("budget_tokens", integer(200, 10_000_000)),
    "plan.exclude": ("exclude", globs),
    "plan.include_vendored": ("include_vendored", boolean),
    "review.min_drop": ("min_drop", number(0.0, 10.0)),
    "review.error_confidence": ("error_confidence", number(0.0, 1.0)),
    "review.strategy": ("review_strategy", one_of(REVIEW_STRATEGIES)),
    "review.max_findings_per_item": ("max_findings_per_item", integer(1, 10)),
    "review.max_new_tokens": ("max_new_tokens", integer(16, 4096)),
    "routes.pin": ("route_pins", pins),
    "routes.forbid": ("route_forbid", _routes),
    "routes.second_margin": ("route_second_margin", number(0.0, 1.0)),
    "routes.calibrate": ("route_calibrate", boolean),
    "tools.allow": ("tools", _tools),
    "tools.timeout": ("tool_timeout", number(1, 3600)),
    "interpreter.timeout": ("interpreter_timeout", number(1, 3600)),
    "sandbox.allow_unsandboxed": ("allow_unsandboxed", boolean),
    "search.web_url": ("web_url", url),
    "index.vectors": ("vectors", boolean),
    "lint.linters": ("linters", _linters),
    "lint.mode": ("lint_mode", one_of(LINT_MODES)),
    "lint.timeout": ("lint_timeout", number(1, 3600)),
    "lint.ruff_select": ("ruff_select", rule_codes),
    "lint.ruff_ignore": ("ruff_ignore", rule_codes),
    "lint.bandit_severity": ("bandit_severity", one_of(("low", "medium", "high"))),
    "file_kinds.tests": ("kinds_tests", globs),
    "file_kinds.docs": ("kinds_docs", globs),
    "file_kinds.examples": ("kinds_examples", globs),
    "file_kinds.reexports": ("kinds_reexports", globs),
    "rules_off.tests": ("off_tests", rule_globs),
    "rules_off.docs": ("off_docs", rule_globs),
    "rules_off.examples": ("off_examples", rule_globs),
    "rules_off.reexports": ("off_reexports", rule_globs),
    "rules_off.code": ("off_code", rule_globs),
    "model.concurrency": ("model_concurrency", integer(1, 256)),
    "model.timeout": ("model_timeout", number(1, 3600)),
    "model.retries": ("model_retries", integer(0, 10)),
    "model.deadline": ("model_deadline", number(1, 86400)),
    "model.device": ("device", device),
    "github.api_url": ("github_api_url", url),
    "github.max_comments": ("github_max_comments", integer(0, 30)),
    "github.bot_login": ("github_bot_login", nonempty),
    # the webhook service (issue 12)
    "service.store": ("service_store", nonempty),
    "service.max_body": ("service_max_body", integer(1024, 1 << 30)),
    "service.max_attempts": ("service_max_attempts", integer(1, 20)),
    "service.backoff": ("service_backoff", number(0, 86400)),
    "service.reconcile": ("service_reconcile", number(0, 86400)),
    # issue 13: the change's tests
    "tests.enabled": ("tests_enabled", boolean),
    "tests.timeout": ("tests_timeout", number(1, 3600)),
}

_FIELD_CHECKS = {name: check for name, check in FILE_KEYS.values()}  # Settings field -> validator

ENV_KEYS: dict[str, tuple[str, Any]] = {
    "REVIEWBOT_BACKEND": ("backend", one_of(BACKENDS)),
    "REVIEWBOT_MODEL_DIR": ("model_dir", path),
    "REVIEWBOT_CACHE_DIR": ("cache_dir", path),
    "REVIEWBOT_FAIL_ON": ("fail_on", one_of(FAIL_ON)),
    "REVIEWBOT_BASE_URL": ("base_url", url),
    "REVIEWBOT_API_KEY": ("api_key", lambda v: Secret(v)),
    "REVIEWBOT_ALLOW_UNSANDBOXED": (
        "allow_unsandboxed",
        lambda v: boolean({"1": True, "true": True}.get(v.lower(), v)),
    ),
    "REVIEWBOT_WEB_URL": ("web_url", url),
    "REVIEWBOT_BOT_LOGIN": ("github_bot_login", nonempty),
    # set by GitHub Actions; the token never reaches a model backend (compose passes it to the publisher only)
    "GITHUB_TOKEN": ("github_token", lambda v: Secret(v)),
    "GITHUB_API_URL": ("github_api_url", url),
    "GITHUB_EVENT_PATH": ("github_event_path", path),
    "GITHUB_STEP_SUMMARY": ("github_step_summary", path),
    # issue 12: the service's auth; no file key (so no repository can set them), never given to a model
    "REVIEWBOT_GITHUB_APP_ID": ("github_app_id", lambda v: integer(1, 2**53)(int(v) if v.isdigit() else v)),
    "REVIEWBOT_GITHUB_APP_KEY_PATH": ("github_app_key_path", path),
    "GITLAB_TOKEN": ("gitlab_token", lambda v: Secret(v)),
    # issue 14 (hardening)
    "REVIEWBOT_MARKER_KEY": ("marker_key", lambda v: Secret(v)),
    # the webhook service (issue 12)
    "REVIEWBOT_SERVICE_STORE": ("service_store", nonempty),
    "REVIEWBOT_GITLAB_URL": ("service_gitlab_url", url),  # no file key: the URL receives GITLAB_TOKEN
    "REVIEWBOT_GITHUB_WEBHOOK_SECRET": ("github_webhook_secret", lambda v: Secret(v)),
    "REVIEWBOT_GITLAB_WEBHOOK_SECRET": ("gitlab_webhook_secret", lambda v: Secret(v)),
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


MAX_FILE_BYTES = 64 * 1024  # a configuration file is small; a larger one is refused unread

# Keys no configuration file may set (where requests and secrets go, what runs unsandboxed, which
# model files load): only flags and the environment; in a file they are ignored, with a note.
TRUSTED_ONLY = frozenset({"model_dir", "cache_dir", "base_url", "sandbox.allow_unsandboxed", "search.web_url",
                          "github.api_url", "github.bot_login"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class RepoConfig:
    """The repository's configuration as the base (target) commit holds it, never the head's."""

    text: str | None  # None: the base commit has no such file
    origin: str  # where it was read, for the report: "main@1a2b3c4:.reviewbot.yml"


def _loader():
    import yaml

    class NoAliases(yaml.SafeLoader):
        """No anchors or aliases: an alias bomb (bytes that expand to gigabytes) is refused unexpanded."""

        def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
            if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
                event = self.peek_event()
                raise yaml.YAMLError(f"line {event.start_mark.line + 1}: anchors and aliases are not allowed")
            return super().compose_node(parent, index)

    return NoAliases


def _short(text: str, limit: int = 200) -> str:  # a value shown in an error, cut short
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def parse_text(text: str, where: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Validated field values from YAML text, and a note on the TRUSTED_ONLY keys it tried to set
    (ignored). ConfigError names the key and `where`."""
    import yaml

    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_FILE_BYTES // 1024} KiB; not read")
    try:
        data = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = f" line {mark.line + 1}" if mark else ""
        problem = "" if mark else f" ({_short(str(exc), 120)})"
        raise ConfigError(f"{where}:{detail} not valid YAML{problem}") from None
    if data is None:
        return {}, ()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping of keys, got {type(data).__name__}")
    values: dict[str, Any] = {}
    ignored: list[str] = []
    for key, raw in _flatten(data).items():
        if key not in FILE_KEYS:
            raise ConfigError(f"{where}: unknown key {_short(repr(key), 80)} ({unknown_key(key, FILE_KEYS)})")
        if key in TRUSTED_ONLY:
            ignored.append(key)
            continue
        name, check = FILE_KEYS[key]
        try:
            values[name] = check(raw)
        except ValueError as exc:
            raise ConfigError(f"{where}: key {key!r} {_short(str(exc))}") from None
    why = "a configuration file cannot set them (use a flag or the environment)"
    return values, ((f"{where}: {', '.join(ignored)} ignored: {why}",) if ignored else ())


def read_file(path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; not read")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    return parse_text(text, str(path))


def load(
    overrides: Mapping[str, Any],
    environ: Mapping[str, str],
    repo_root: Path | None,
    config: Path | None = None,
    *,
    repo_config: RepoConfig | None = None,
) -> Settings:
    """Defaults < config file < environment < flags (`overrides`: field name -> value, None = unset).
    The file: `config` (--config), else `repo_config` (the repository's file at the base commit, read
    by the caller), else `repo_root`'s own file. No file sets the TRUSTED_ONLY keys."""
    values: dict[str, Any] = {}
    notes: tuple[str, ...] = ()
    path, origin, text = config, None, None
    if config is None and repo_config is not None:
        text, origin = repo_config.text, repo_config.origin
    elif config is None and repo_root is not None and (repo_root / CONFIG_FILE).is_file():
        path = repo_root / CONFIG_FILE
    elif config is not None and not config.is_file():
        raise ConfigError(f"{config}: configuration file not found")
    if path is not None:
        values, notes = read_file(path)
        origin = f"{path} (--config)" if path == config else str(path)
    elif text is not None:
        values, notes = parse_text(text, str(origin))
    elif origin is not None:
        origin = f"defaults ({origin}: no file)"
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
    if "backend" not in values and values.get("model_dir") is not None:
        values["backend"] = "local"  # a transformers checkpoint runs on transformers
    settings = replace(Settings(), config_path=path, config_origin=origin, config_notes=notes, **values)
    if settings.backend == "openai" and not settings.base_url:
        raise ConfigError(
            "backend openai needs a server URL: --base-url, REVIEWBOT_BASE_URL or base_url in the file"
        )
    if settings.backend == "openvino" and settings.model_dir is not None:
        raise ConfigError(
            "backend openvino runs the embedded model only; model_dir needs backend local (transformers)"
        )
    return settings
