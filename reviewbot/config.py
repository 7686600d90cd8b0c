"""Settings: loaded once from defaults < `.reviewbot.yml` < environment < flags, then passed down.

The only reader of the environment and of configuration files. Every value is validated by the
models of `settings.py`; an error names the key and the file, the variable or the flag
(`ConfigError`, exit 2). The keys: docs/configuration.md. pydantic is imported on the first load,
not by the command line's help.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .choices import BACKENDS, FAIL_ON, FORMATS, LINT_MODES, LINTERS, REVIEW_STRATEGIES, TOOLS
from .errors import ConfigError
from .suggest import unknown_key

__all__ = ["BACKENDS", "FAIL_ON", "FORMATS", "LINT_MODES", "LINTERS", "REVIEW_STRATEGIES", "TOOLS"]
__all__ += ["CONFIG_FILE", "DEPRECATED", "ENV_KEYS", "FLAGS", "TRUSTED_ONLY", "RepoConfig", "load"]

if TYPE_CHECKING:
    from .settings import Settings

CONFIG_FILE = ".reviewbot.yml"

# old file key -> its new name: still read, with a note that names the new key
DEPRECATED = {
    "github.api_url": "hosts.github.api_url",
    "github.max_comments": "hosts.max_inline",
    "github.bot_login": "hosts.bot_login",
}

# environment variable -> the setting it sets; the secrets and the service's auth have no file key
ENV_KEYS: dict[str, str] = {
    "REVIEWBOT_BACKEND": "backend",
    "REVIEWBOT_MODEL_DIR": "model_dir",
    "REVIEWBOT_CACHE_DIR": "cache_dir",
    "REVIEWBOT_FAIL_ON": "fail_on",
    "REVIEWBOT_BASE_URL": "base_url",
    "REVIEWBOT_API_KEY": "api_key",
    "REVIEWBOT_ALLOW_UNSANDBOXED": "sandbox.allow_unsandboxed",
    "REVIEWBOT_WEB_URL": "search.web_url",
    "REVIEWBOT_BOT_LOGIN": "hosts.bot_login",
    # set by GitHub Actions; the token never reaches a model backend (compose passes it to the publisher only)
    "GITHUB_TOKEN": "hosts.github.token",
    "GITHUB_API_URL": "hosts.github.api_url",
    "GITHUB_EVENT_PATH": "hosts.github.event_path",
    "GITHUB_STEP_SUMMARY": "hosts.github.step_summary",
    # the service's auth: no file key (so no repository can set them), never given to a model
    "REVIEWBOT_GITHUB_APP_ID": "hosts.github.app_id",
    "REVIEWBOT_GITHUB_APP_KEY_PATH": "hosts.github.app_key_path",
    "GITLAB_TOKEN": "hosts.gitlab.token",
    "REVIEWBOT_MARKER_KEY": "hosts.marker_key",
    "REVIEWBOT_SERVICE_STORE": "service.store",
    "REVIEWBOT_GITLAB_URL": "hosts.gitlab.url",  # no file key: the URL receives GITLAB_TOKEN
    "REVIEWBOT_GITHUB_WEBHOOK_SECRET": "hosts.github.webhook_secret",
    "REVIEWBOT_GITLAB_WEBHOOK_SECRET": "hosts.gitlab.webhook_secret",
}

# the variables whose text is read as another type before it is validated
ENV_READ: dict[str, Callable[[str], Any]] = {
    "REVIEWBOT_ALLOW_UNSANDBOXED": lambda v: {"1": True, "true": True}.get(v.lower(), v),
    "REVIEWBOT_GITHUB_APP_ID": lambda v: int(v) if v.isdigit() else v,
}

# the command line's names (argparse dests) -> settings; `load` also takes a setting's own path
FLAGS = {
    "item_tokens": "plan.item_tokens",
    "budget_tokens": "plan.budget_tokens",
    "min_drop": "review.min_drop",
    "review_strategy": "review.strategy",
    "device": "model.device",
    "model_concurrency": "model.concurrency",
    "max_comments": "hosts.max_inline",
    **{name: name for name in ("backend", "model_dir", "base_url", "api_model", "cache_dir", "threads")},
    **{name: name for name in ("format", "fail_on", "fail_on_model", "color", "progress")},
}


def __getattr__(name: str) -> Any:  # the models import pydantic: only when they are asked for
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "FILE_KEYS":
        return file_keys()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def file_keys() -> tuple[str, ...]:
    """The keys a configuration file may name, in the models' order."""
    from .settings import in_file, leaves

    return tuple(path for path, info in leaves().items() if in_file(info))


def _validated(flat: Mapping[str, Any], label: Callable[[str], str]) -> dict[str, Any]:
    """The typed values of `flat` (setting path -> raw value). ConfigError: `label(path)` and the problem."""
    from pydantic import ValidationError

    from .settings import Settings, get, nest, problem

    try:
        settings = Settings.model_validate(nest(dict(flat)))
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(part) for part in error["loc"]]
        key = next((".".join(loc[:n]) for n in range(len(loc), 0, -1) if ".".join(loc[:n]) in flat), "")
        key = key or next(iter(flat))
        inner = [part for part in error["loc"][len(key.split(".")) :] if isinstance(part, int)]
        where = f" item {inner[0] + 1}" if inner else ""
        raise ConfigError(
            f"{label(key)}{where} {_short(problem(error))}; got {_short(repr(flat[key]))}"
        ) from None
    return {path: get(settings, path) for path in flat}


def _flatten(data: Mapping[str, Any], keys: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key not in keys:
            flat.update(_flatten(v, keys, key + "."))
        else:
            flat[key] = v
    return flat


MAX_FILE_BYTES = 64 * 1024  # a configuration file is small; a larger one is refused unread

# Keys no configuration file may set (where requests and secrets go, what runs unsandboxed, which
# model files load): only flags and the environment; in a file they are ignored, with a note.
# Their deprecated names (DEPRECATED) are ignored the same way.
TRUSTED_ONLY = frozenset(
    {
        "model_dir",
        "cache_dir",
        "base_url",
        "sandbox.allow_unsandboxed",
        "search.web_url",
        "hosts.github.api_url",
        "hosts.bot_login",
    }
)


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
    """Validated setting values from YAML text, and notes: the TRUSTED_ONLY keys it tried to set
    (ignored) and the deprecated keys it used. ConfigError names the key and `where`."""
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
    keys = file_keys()
    raw: dict[str, Any] = {}
    seen: dict[str, str] = {}  # key -> the name the file gave it
    ignored: list[str] = []
    notes: list[str] = []
    for written, value in _flatten(data, (*keys, *DEPRECATED)).items():
        key = DEPRECATED.get(written, written)
        if key not in keys:
            raise ConfigError(
                f"{where}: unknown key {_short(repr(written), 80)} ({unknown_key(written, keys)})"
            )
        if key in seen:
            raise ConfigError(f"{where}: {seen[key]!r} and {written!r} both set {key!r}; keep one")
        if value is None:
            raise ConfigError(f"{where}: key {written!r} has no value")
        seen[key] = written
        if key in TRUSTED_ONLY:
            ignored.append(written)
            continue
        if written != key:
            notes.append(f"{where}: key {written!r} is deprecated; use {key!r}")
        raw[key] = value
    values = _validated(raw, lambda key: f"{where}: key {_written(key, data)!r}")
    why = "a configuration file cannot set them (use a flag or the environment)"
    if ignored:
        notes.insert(0, f"{where}: {', '.join(ignored)} ignored: {why}")
    return values, tuple(notes)


def _written(key: str, data: Mapping[str, Any]) -> str:
    """The key as the file wrote it: a deprecated name where the file used one."""
    old = next((old for old, new in DEPRECATED.items() if new == key), None)
    return old if old is not None and old in _flatten(data, (old,)) else key


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
    """Defaults < config file < environment < flags (`overrides`: a FLAGS name or a setting's path ->
    value, None = unset). The file: `config` (--config), else `repo_config` (the repository's file at
    the base commit, read by the caller), else `repo_root`'s own file. No file sets the TRUSTED_ONLY keys."""
    from .settings import Settings, leaves, nest

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
    for var, key in ENV_KEYS.items():
        if environ.get(var):
            raw = ENV_READ.get(var, str)(environ[var])
            values.update(_validated({key: raw}, lambda _, var=var: f"environment variable {var}"))
    if "cache_dir" not in values and environ.get("XDG_CACHE_HOME"):
        values["cache_dir"] = Path(environ["XDG_CACHE_HOME"]) / "reviewbot"
    known = leaves()
    for name, v in overrides.items():
        if v is None:
            continue
        key = FLAGS.get(name, name)
        if key not in known or key.startswith("config_"):
            raise ConfigError(f"unknown setting {name!r}")
        flag = f"--{name.replace('_', '-')}" if name in FLAGS else f"setting {name!r}"
        values.update(_validated({key: v}, lambda _, flag=flag: flag))
    if "color" not in values and environ.get("NO_COLOR"):  # no-color.org: set and not empty
        values["color"] = False
    where = {"config_path": path, "config_origin": origin, "config_notes": notes}
    settings = Settings.model_validate(nest(values) | where)
    if settings.backend == "openai" and not settings.base_url:
        raise ConfigError(
            "backend openai needs a server URL: --base-url, REVIEWBOT_BASE_URL or base_url in the file"
        )
    if settings.backend == "openvino" and settings.model_dir is not None:
        raise ConfigError(
            "backend openvino runs the embedded model only; model_dir needs backend local (transformers)"
        )
    return settings
