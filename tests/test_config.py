"""reviewbot.config: defaults < .reviewbot.yml < environment < flags, every key validated."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from reviewbot.config import (
    CONFIG_FILE,
    DEPRECATED,
    ENV_KEYS,
    FILE_KEYS,
    TRUSTED_ONLY,
    RepoConfig,
    Settings,
    load,
    read_file,
)
from reviewbot.errors import ConfigError
from reviewbot.settings import get, leaves

HOME = os.path.expanduser


def nest(key: str, value: Any) -> dict[str, Any]:
    """'plan.item_tokens', 800 -> {'plan': {'item_tokens': 800}} (the way people write the file)."""
    head, _, rest = key.partition(".")
    return {head: nest(rest, value) if rest else value}


def write(tmp_path: Path, data: Any = None, text: str | None = None, name: str = CONFIG_FILE) -> Path:
    path = tmp_path / name
    path.write_text(text if text is not None else yaml.safe_dump(data), encoding="utf-8")
    return path


def config_error(path: Path, **kw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load({}, kw.get("environ", {}), None, path)
    msg = str(info.value)
    assert "\n" not in msg and msg.strip() == msg, msg
    assert info.value.exit_code == 2
    return msg


# ------------------------------------------------------------------------------ every file key

# key -> (a valid value, the Settings field's value it gives, an invalid value)
KEY_CASES: dict[str, tuple[Any, Any, Any]] = {
    "backend": ("none", "none", "gpt4"),
    "model_dir": ("~/models/qwen", Path(HOME("~/models/qwen")), 5),
    "cache_dir": ("/tmp/rb-cache", Path("/tmp/rb-cache"), ""),
    "base_url": ("http://gpu:8000/v1", "http://gpu:8000/v1", "gpu:8000"),
    "api_model": ("Qwen/Qwen2.5-Coder-7B-Instruct-AWQ", "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ", ""),
    "threads": (4, 4, 0),
    "fail_on": ("warning", "warning", "always"),
    "plan.item_tokens": (800, 800, 100),
    "plan.budget_tokens": (5000, 5000, "5000"),
    "plan.exclude": (["docs/*", "*.snap"], ("docs/*", "*.snap"), "docs/*"),
    "plan.include_vendored": (True, True, "yes"),
    "review.min_drop": (0.5, 0.5, 10.5),
    "review.error_confidence": (0.9, 0.9, 1.5),
    "review.strategy": ("generative", "generative", "chatty"),
    "fail_on_model": (True, True, "yes"),
    "review.max_findings_per_item": (3, 3, 0),
    "review.max_new_tokens": (64, 64, 8),
    "review.suggestions": (True, True, "yes"),
    "routes.pin": ({"docs/*": "search"}, (("docs/*", "search"),), {"docs/*": "chat"}),
    "routes.forbid": (["tools"], ("tools",), ["chat"]),
    "routes.second_margin": (0.2, 0.2, 1.5),
    "routes.calibrate": (True, True, "no"),
    "tools.allow": (["ruff", "pytest"], ("ruff", "pytest"), ["rm"]),
    "tools.timeout": (30, 30.0, -1),
    "search.web_url": ("http://searx:8080", "http://searx:8080", "searx:8080"),
    "index.vectors": (True, True, "yes"),
    "interpreter.timeout": (20, 20.0, 0),
    "sandbox.allow_unsandboxed": (True, True, "yes"),
    "lint.linters": (["ruff"], ("ruff",), ["pylint"]),
    "lint.mode": ("file", "file", "everything"),
    "lint.timeout": (30, 30.0, 0),
    "lint.ruff_select": (["F", "E722"], ("F", "E722"), ["f401"]),
    "lint.ruff_ignore": (["B008"], ("B008",), "B008"),
    "file_kinds.tests": (["spec/*"], ("spec/*",), "spec"),
    "file_kinds.docs": (["*.md"], ("*.md",), 3),
    "file_kinds.examples": (["demo/*"], ("demo/*",), [""]),
    "file_kinds.reexports": (["api.py"], ("api.py",), None),
    "rules_off.reexports": (["ruff/F401"], ("ruff/F401",), ["F401"]),
    "lint.bandit_severity": ("low", "low", "all"),
    "rules_off.tests": (["bandit/B1*"], ("bandit/B1*",), ["B101"]),
    "rules_off.docs": (["secrets/*"], ("secrets/*",), "secrets/*"),
    "rules_off.examples": ([], (), ["bandit B101"]),
    "rules_off.code": (["ruff/F401"], ("ruff/F401",), [None]),
    "model.concurrency": (8, 8, 0),
    "model.timeout": (5, 5.0, 0.5),
    "model.retries": (0, 0, 11),
    "model.deadline": (600, 600.0, 0),
    "model.device": ("cuda:1", "cuda:1", "gpu"),
    "hosts.github.api_url": ("https://ghe.example/api/v3", "https://ghe.example/api/v3", "ftp://x"),
    "hosts.max_inline": (10, 10, 31),
    "hosts.bot_login": ("reviewbot[bot]", "reviewbot[bot]", ""),
    # the webhook service (issue 12)
    "service.store": ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", ""),
    "service.max_body": (4096, 4096, 10),
    "service.max_attempts": (5, 5, 0),
    "service.backoff": (10, 10.0, -1),
    "service.reconcile": (60, 60.0, -1),
    # issue 13: the change's tests
    "tests.enabled": (False, False, "no"),
    "tests.timeout": (30, 30.0, 0),
    "learning.enabled": (False, False, "off"),
    "learning.pull_requests": (20, 20, 101),
    "learning.seconds": (5, 5.0, 0),
}

# more invalid values: wrong types that Python would otherwise accept (bool is an int, ...)
MORE_INVALID: list[tuple[str, Any]] = [
    ("threads", True),
    ("threads", 4.0),
    ("threads", 513),
    ("plan.item_tokens", 100_001),
    ("plan.item_tokens", 800.5),
    ("plan.budget_tokens", None),
    ("plan.exclude", ["docs/*", ""]),
    ("plan.exclude", [3]),
    ("plan.include_vendored", 1),
    ("review.min_drop", True),
    ("review.min_drop", -0.1),
    ("review.min_drop", float("nan")),
    ("backend", "fake"),  # tests build the fake backend directly; it is not a setting
    ("lint.timeout", float("inf")),
    ("lint.linters", "ruff"),
    ("backend", ["local"]),
    ("backend", {"name": "local"}),
    ("model_dir", ""),
    ("fail_on", None),
    ("threads", None),  # an optional setting is not unset by a file
    ("routes.pin", [["docs/*", "search"]]),  # a mapping, not pairs
]


def test_key_table_covers_every_file_key():
    assert set(KEY_CASES) == set(FILE_KEYS)


@pytest.mark.parametrize("key", sorted(KEY_CASES))
@pytest.mark.parametrize("nested", [True, False], ids=["nested", "dotted"])
def test_every_key_accepts_a_valid_value(tmp_path, key, nested):
    valid, expected, _ = KEY_CASES[key]
    path = write(tmp_path, nest(key, valid) if nested else {key: valid})
    field = key
    if key in TRUSTED_ONLY:  # issue 14: only flags and the environment set these
        values, (note,) = read_file(path)
        assert values == {} and key in note
        assert get(load({}, {}, None, path), field) == get(Settings(), field)
        return
    assert read_file(path) == ({field: expected}, ())
    settings = load({}, {}, None, path)
    assert get(settings, field) == expected
    assert settings.config_path == path


@pytest.mark.parametrize(
    "key, bad",
    [(k, v[2]) for k, v in sorted(KEY_CASES.items())] + MORE_INVALID,
    ids=lambda x: repr(x)[:30],
)
def test_every_key_rejects_an_invalid_value_naming_key_and_file(tmp_path, key, bad):
    path = write(tmp_path, nest(key, bad))
    if key in TRUSTED_ONLY:  # ignored in a file whatever its value (issue 14); flags are checked
        assert read_file(path)[0] == {}
        return
    msg = config_error(path)
    assert repr(key) in msg
    assert str(path) in msg


def test_nested_yaml_flattens(tmp_path):
    path = write(tmp_path, text="plan:\n  item_tokens: 800\n  exclude: ['a/*']\nreview: {min_drop: 0.2}\n")
    s = load({}, {}, None, path)
    assert (s.plan.item_tokens, s.plan.exclude, s.review.min_drop) == (800, ("a/*",), 0.2)
    assert s.plan.budget_tokens == Settings().plan.budget_tokens  # untouched keys keep their defaults


@pytest.mark.parametrize(
    "text, key",
    [
        ("colour: true\n", "'colour'"),
        ("plan:\n  item_token: 800\n", "'plan.item_token'"),
        ("format: json\n", "'format'"),  # the output format is a flag, not a file key
        ("review:\n", "'review'"),  # a section left empty
        ("plan: 800\n", "'plan'"),
        ("1: 2\n", "'1'"),
    ],
)
def test_unknown_keys_are_rejected_naming_the_key(tmp_path, text, key):
    path = write(tmp_path, text=text)
    msg = config_error(path)
    assert f"unknown key {key}" in msg
    assert str(path) in msg


@pytest.mark.parametrize(
    "text, line",
    [
        ("backend: local\nthreads: 4\n  bad: indent\n", 3),
        ("backend: local\nplan: {item_tokens: 800\n", 3),
        ("backend: b: c\n", 1),
        ("\tbackend: local\n", 1),
        ("backend: local\nbackend: [\n", 3),
    ],
)
def test_malformed_yaml_is_one_line_with_the_line_number(tmp_path, text, line):
    path = write(tmp_path, text=text)
    msg = config_error(path)
    assert f"line {line}" in msg
    assert "YAML" in msg and str(path) in msg


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "list"), ("just words\n", "str"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(tmp_path, text, kind):
    msg = config_error(write(tmp_path, text=text))
    assert "mapping" in msg and kind in msg


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing configured yet\n", "---\n"])
def test_empty_file_gives_the_defaults(tmp_path, text):
    path = write(tmp_path, text=text)
    assert read_file(path) == ({}, ())
    assert load({}, {}, None, path) == Settings()


def test_file_that_is_not_utf8_is_a_config_error(tmp_path):
    path = tmp_path / CONFIG_FILE
    path.write_bytes(b"backend: \xff\xfelocal\n")
    msg = config_error(path)
    assert str(path) in msg and "UTF-8" in msg


# ------------------------------------------------------------------------------ which file


def test_explicit_config_path_missing_is_an_error(tmp_path):
    missing = tmp_path / "nope.yml"
    msg = config_error(missing)
    assert str(missing) in msg and "not found" in msg


def test_explicit_config_path_that_is_a_directory_is_an_error(tmp_path):
    msg = config_error(tmp_path)
    assert str(tmp_path) in msg


def test_repo_file_is_found_and_explicit_config_wins(tmp_path):
    write(tmp_path, {"fail_on": "never"})
    assert load({}, {}, tmp_path).fail_on == "never"
    assert load({}, {}, tmp_path).config_path == tmp_path / CONFIG_FILE
    other = write(tmp_path, {"fail_on": "warning"}, name="other.yml")
    s = load({}, {}, tmp_path, other)
    assert (s.fail_on, s.config_path) == ("warning", other)


def test_no_file_gives_defaults_and_no_config_path(tmp_path):
    s = load({}, {}, tmp_path)
    assert s == Settings() and s.config_path is None
    assert load({}, {}, None).config_path is None


# ------------------------------------------------------------------------------ precedence

# (file, environment, flags) -> the expected (fail_on, backend, item_tokens)
PRECEDENCE = [
    pytest.param({}, {}, {}, ("error", "openvino", 1200), id="defaults"),
    pytest.param(
        {"fail_on": "never", "backend": "none", "plan": {"item_tokens": 800}},
        {},
        {},
        ("never", "none", 800),
        id="file",
    ),
    pytest.param(
        {"fail_on": "never"},
        {"REVIEWBOT_FAIL_ON": "warning"},
        {},
        ("warning", "openvino", 1200),
        id="env-over-file",
    ),
    pytest.param(
        {"backend": "none"},
        {"REVIEWBOT_BACKEND": "local"},
        {},
        ("error", "local", 1200),
        id="env-over-file-backend",
    ),
    pytest.param(
        {"fail_on": "never"},
        {"REVIEWBOT_FAIL_ON": "warning"},
        {"fail_on": "error"},
        ("error", "openvino", 1200),
        id="flag-over-env",
    ),
    pytest.param(
        {"backend": "local"},
        {"REVIEWBOT_BACKEND": "local"},
        {"backend": "none"},
        ("error", "none", 1200),
        id="flag-over-env-backend",
    ),
    pytest.param(
        {"plan": {"item_tokens": 800}},
        {},
        {"item_tokens": 600},
        ("error", "openvino", 600),
        id="flag-over-file",
    ),
    pytest.param(
        {"fail_on": "never"},
        {"REVIEWBOT_FAIL_ON": "warning"},
        {"fail_on": None, "item_tokens": None},
        ("warning", "openvino", 1200),
        id="unset-flag-keeps-env",
    ),
    pytest.param(
        {"fail_on": "never"},
        {"REVIEWBOT_FAIL_ON": ""},
        {},
        ("never", "openvino", 1200),
        id="empty-env-is-unset",
    ),
]


def test_a_checkpoint_without_a_backend_runs_on_transformers(tmp_path) -> None:
    assert load({"model_dir": str(tmp_path)}, {}, None).backend == "local"
    assert load({}, {}, None).backend == "openvino"  # the embedded model on OpenVINO by default
    with pytest.raises(ConfigError, match="model_dir needs backend local"):
        load({"model_dir": str(tmp_path), "backend": "openvino"}, {}, None)


@pytest.mark.parametrize("file, environ, flags, expected", PRECEDENCE)
def test_precedence(tmp_path, file, environ, flags, expected):
    if file:
        write(tmp_path, file)
    s = load(flags, environ, tmp_path)
    assert (s.fail_on, s.backend, s.plan.item_tokens) == expected


# (file cache_dir, environment) -> expected cache_dir
CACHE = [
    pytest.param(None, {}, Settings().cache_dir, id="default"),
    pytest.param(None, {"XDG_CACHE_HOME": "/xdg"}, Path("/xdg/reviewbot"), id="xdg"),
    pytest.param("/from-file", {"XDG_CACHE_HOME": "/xdg"}, Path("/xdg/reviewbot"), id="file-ignored"),
    pytest.param(
        None, {"XDG_CACHE_HOME": "/xdg", "REVIEWBOT_CACHE_DIR": "/env"}, Path("/env"), id="env-over-xdg"
    ),
    pytest.param(None, {"XDG_CACHE_HOME": ""}, Settings().cache_dir, id="empty-xdg"),
]


@pytest.mark.parametrize("in_file, environ, expected", CACHE)
def test_cache_dir_and_xdg_cache_home(tmp_path, in_file, environ, expected):
    config = write(tmp_path, {"cache_dir": in_file}, name="owner.yml") if in_file else None
    assert load({}, environ, tmp_path, config).cache_dir == expected  # no file sets it (issue 14)
    flagged = load({"cache_dir": Path("/flag")}, environ, tmp_path)
    assert flagged.cache_dir == Path("/flag")


def test_cache_property_expands_the_home_directory():
    assert Settings().cache == Path(HOME("~/.cache/reviewbot"))
    assert "~" not in str(Settings().cache)


# ------------------------------------------------------------------------------ environment

ENV_BAD = [
    ("REVIEWBOT_BACKEND", "gpt4"),
    ("REVIEWBOT_BACKEND", "LOCAL"),
    ("REVIEWBOT_BACKEND", "fake"),
    ("REVIEWBOT_FAIL_ON", "always"),
]


def test_env_table_names_known_variables():
    assert set(ENV_KEYS) == {
        "REVIEWBOT_BACKEND",
        "REVIEWBOT_MODEL_DIR",
        "REVIEWBOT_CACHE_DIR",
        "REVIEWBOT_FAIL_ON",
        "REVIEWBOT_BASE_URL",
        "REVIEWBOT_API_KEY",
        "REVIEWBOT_ALLOW_UNSANDBOXED",
        "REVIEWBOT_SERVICE_STORE",  # the webhook service (issue 12)
        "REVIEWBOT_GITHUB_WEBHOOK_SECRET",
        "REVIEWBOT_GITLAB_WEBHOOK_SECRET",
        "REVIEWBOT_GITLAB_URL",
        "REVIEWBOT_WEB_URL",
        "REVIEWBOT_BOT_LOGIN",
        "GITHUB_TOKEN",
        "GITHUB_API_URL",
        "GITHUB_EVENT_PATH",
        "GITHUB_STEP_SUMMARY",
        "REVIEWBOT_GITHUB_APP_ID",  # issue 12: the service's auth
        "REVIEWBOT_GITHUB_APP_KEY_PATH",
        "GITLAB_TOKEN",
        "REVIEWBOT_MARKER_KEY",  # issue 14
    }


@pytest.mark.parametrize("var, value", ENV_BAD)
def test_env_values_are_validated_naming_the_variable(var, value):
    with pytest.raises(ConfigError) as info:
        load({}, {var: value}, None)
    msg = str(info.value)
    assert var in msg and repr(value) in msg and "\n" not in msg


@pytest.mark.parametrize(
    "var, value, field, expected",
    [
        ("REVIEWBOT_BACKEND", "none", "backend", "none"),
        ("REVIEWBOT_BACKEND", "local", "backend", "local"),
        ("REVIEWBOT_MODEL_DIR", "/models/q", "model_dir", Path("/models/q")),
        ("REVIEWBOT_MODEL_DIR", "~/m", "model_dir", Path(HOME("~/m"))),
        ("REVIEWBOT_CACHE_DIR", "/c", "cache_dir", Path("/c")),
        ("REVIEWBOT_FAIL_ON", "never", "fail_on", "never"),
    ],
)
def test_env_values_are_read(var, value, field, expected):
    assert get(load({}, {var: value}, None), field) == expected


def test_env_error_wins_over_a_good_flag():
    # the environment is validated even when a flag overrides it: a typo there is still reported
    with pytest.raises(ConfigError, match="REVIEWBOT_BACKEND"):
        load({"backend": "local"}, {"REVIEWBOT_BACKEND": "gpt4"}, None)


@pytest.mark.parametrize(
    "environ, flags, expected",
    [
        ({}, {}, None),
        ({"NO_COLOR": "1"}, {}, False),
        ({"NO_COLOR": "anything"}, {}, False),
        ({"NO_COLOR": ""}, {}, None),  # no-color.org: present and not empty
        ({"NO_COLOR": "1"}, {"color": True}, True),  # --color style flag beats the variable
        ({}, {"color": False}, False),
    ],
)
def test_no_color(environ, flags, expected):
    assert load(flags, environ, None).color is expected


def test_unknown_override_is_rejected():
    with pytest.raises(ConfigError, match="'colour'"):
        load({"colour": False}, {}, None)


# ------------------------------------------------------------------------------ Settings


def test_settings_is_frozen():
    s = Settings()
    with pytest.raises(ValidationError, match="frozen"):
        s.backend = "none"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        s.plan.item_tokens = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        s.extra = 1  # type: ignore[attr-defined]


def test_settings_compare_ignores_where_they_came_from(tmp_path):
    path = write(tmp_path, text="# empty\n")
    assert load({}, {}, None, path) == Settings()


def test_every_file_key_maps_to_a_settings_field():
    names = set(leaves())
    assert set(FILE_KEYS) <= names
    assert set(ENV_KEYS.values()) <= names


# ------------------------------------------------------------------------------ flags

FLAG_BAD = [
    ("item_tokens", 0, "--item-tokens"),
    ("max_comments", 31, "--max-comments"),
    ("budget_tokens", -5, "--budget-tokens"),
    ("threads", 0, "--threads"),
    ("min_drop", -1.0, "--min-drop"),
    ("fail_on", "always", "--fail-on"),
    ("backend", "fake", "--backend"),
]


@pytest.mark.parametrize("name, value, flag", FLAG_BAD)
def test_flags_are_held_to_the_file_limits_naming_the_flag(name, value, flag):
    with pytest.raises(ConfigError) as info:
        load({name: value}, {}, None)
    msg = str(info.value)
    assert msg.startswith(flag + " ") and repr(value) in msg and "\n" not in msg


def test_flag_values_of_other_types_pass_through():
    s = load(
        {"cache_dir": Path("/c"), "model_dir": Path("/m"), "format": "json", "progress": False}, {}, None
    )
    assert (s.cache_dir, s.model_dir, s.format, s.progress) == (Path("/c"), Path("/m"), "json", False)
    assert load({"min_drop": 1}, {}, None).review.min_drop == 1.0


def test_openvino_backend_runs_the_embedded_model_only() -> None:
    assert load({"backend": "openvino"}, {}, None).backend == "openvino"
    assert load({}, {"REVIEWBOT_BACKEND": "openvino"}, None).backend == "openvino"
    with pytest.raises(ConfigError, match="backend openvino runs the embedded model only"):
        load({"backend": "openvino", "model_dir": "/m"}, {}, None)


def test_openai_backend_needs_a_url_and_keeps_its_key_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a server URL"):
        load({"backend": "openai"}, {}, None)
    s = load(
        {"backend": "openai"},
        {"REVIEWBOT_BASE_URL": "http://gpu:8000/v1", "REVIEWBOT_API_KEY": "sk-123"},
        None,
    )
    assert s.base_url == "http://gpu:8000/v1"
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-123"
    assert "sk-123" not in repr(s) and "sk-123" not in str(s.api_key) and "sk-123" not in f"{s.api_key!r}"


def test_a_repositorys_own_file_cannot_set_the_trusted_only_keys(tmp_path):
    """Issue 14, hole 1: the reviewed repository's file named the bot's API URL, the model server and
    the sandbox; those keys come only from flags, the environment or --config."""
    hostile = {
        "github": {"api_url": "http://127.0.0.1:9/"},
        "sandbox": {"allow_unsandboxed": True},
        "base_url": "http://127.0.0.1:9/v1",
        "cache_dir": "/tmp/evil",
        "model_dir": "/tmp/evil",
        "search": {"web_url": "http://127.0.0.1:9/"},
        "github.bot_login": "mallory",
        "fail_on": "never",
    }
    write(
        tmp_path,
        {k: v for k, v in hostile.items() if k != "github.bot_login"}
        | {"github": {"api_url": "http://127.0.0.1:9/", "bot_login": "mallory"}},
    )
    s = load({}, {}, tmp_path)
    assert s.hosts.github.api_url == "https://api.github.com" and not s.sandbox.allow_unsandboxed
    assert (
        s.base_url is None and s.model_dir is None and s.search.web_url is None and s.hosts.bot_login is None
    )
    assert s.cache_dir == Settings().cache_dir
    assert s.fail_on == "never"  # an ordinary key is still honoured
    (note,) = s.config_notes
    assert "github.api_url" in note and "sandbox.allow_unsandboxed" in note and "cannot set them" in note
    from_base = load(
        {},
        {},
        None,
        repo_config=RepoConfig(
            yaml.safe_dump({"sandbox": {"allow_unsandboxed": True}}), "main@abc:.reviewbot.yml"
        ),
    )
    assert not from_base.sandbox.allow_unsandboxed and from_base.config_origin == "main@abc:.reviewbot.yml"
    owner = write(tmp_path, {"sandbox": {"allow_unsandboxed": True}}, name="owner.yml")
    assert not load({}, {}, tmp_path, owner).sandbox.allow_unsandboxed  # not from --config's file either
    assert load(
        {}, {"REVIEWBOT_ALLOW_UNSANDBOXED": "1"}, tmp_path
    ).sandbox.allow_unsandboxed  # the runner's owner
    assert load({"sandbox.allow_unsandboxed": True}, {}, tmp_path).sandbox.allow_unsandboxed


def test_the_base_commits_file_is_used_not_the_checkouts(tmp_path):
    write(tmp_path, {"plan": {"exclude": ["*"]}, "lint": {"linters": []}})  # the head's file
    s = load({}, {}, tmp_path, repo_config=RepoConfig("fail_on: warning\n", "main@abc:.reviewbot.yml"))
    assert s.plan.exclude == () and s.lint.linters == ("ruff", "bandit") and s.fail_on == "warning"
    none = load({}, {}, tmp_path, repo_config=RepoConfig(None, "main@abc:.reviewbot.yml"))
    assert none.plan.exclude == () and none.config_origin == "defaults (main@abc:.reviewbot.yml: no file)"


def test_a_yaml_alias_bomb_is_refused_fast_with_a_short_message(tmp_path):
    """Issue 14, hole 4: 384 bytes of nested aliases in plan.item_tokens cost 41 s, 4.5 GB and a
    351 MB error line."""
    import time

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(lines[:1]) + "\nplan:\n  item_tokens: " + "[" + ",".join(["*a"] * 9) + "]\n"
    bomb = "\n".join(lines) + "\nplan:\n  item_tokens: *i\n"
    for body in (text, bomb):
        t0 = time.perf_counter()
        with pytest.raises(ConfigError) as err:
            load({}, {}, None, repo_config=RepoConfig(body, "main@abc:.reviewbot.yml"))
        assert time.perf_counter() - t0 < 1.0
        assert len(str(err.value)) < 300 and "aliases are not allowed" in str(err.value)


def test_a_huge_value_is_cut_short_in_the_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load({}, {}, None, repo_config=RepoConfig("plan:\n  item_tokens: '" + "x" * 60000 + "'\n", "base"))
    assert len(str(err.value)) < 400 and "more characters" in str(err.value)


# issue 12: the webhook service's auth comes from the environment only and is never shown
def test_service_auth_from_the_environment(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nsecret\n")
    env = {
        "REVIEWBOT_GITHUB_APP_ID": "1234",
        "REVIEWBOT_GITHUB_APP_KEY_PATH": str(key),
        "GITLAB_TOKEN": "glpat-x",
    }
    s = load({}, env, None)
    assert (s.hosts.github.app_id, s.hosts.github.app_key_path) == (1234, key)
    assert s.hosts.github.app_key().get_secret_value().endswith("secret\n")
    assert s.hosts.gitlab.token.get_secret_value() == "glpat-x"
    assert (
        "secret" not in repr(s) and "glpat-x" not in repr(s) and "secret" not in str(s.hosts.github.app_key())
    )
    with pytest.raises(ConfigError, match="REVIEWBOT_GITHUB_APP_ID"):
        load({}, {"REVIEWBOT_GITHUB_APP_ID": "abc"}, None)
    with pytest.raises(ConfigError, match="cannot read the GitHub App key"):
        load({}, {"REVIEWBOT_GITHUB_APP_KEY_PATH": str(tmp_path / "none.pem")}, None).hosts.github.app_key()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".reviewbot.yml").write_text("github:\n  app_id: 5\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load({}, {}, repo)  # no file key: a repository cannot set the service's auth


def test_the_ruff_rules_by_default_are_the_linters_own() -> None:
    from reviewbot.runners.linters import DEFAULT_RUFF_IGNORE, DEFAULT_RUFF_SELECT

    s = Settings()
    assert (s.lint.ruff_select, s.lint.ruff_ignore) == (DEFAULT_RUFF_SELECT, DEFAULT_RUFF_IGNORE)
    assert "E722" in s.lint.ruff_select and "B" in s.lint.ruff_select and "F" in s.lint.ruff_select


# ------------------------------------------------------------------------------ deprecated keys


@pytest.mark.parametrize("old, new", sorted(DEPRECATED.items()))
def test_a_deprecated_key_is_its_new_keys_alias_with_a_note_naming_the_new_key(tmp_path, old, new):
    value = KEY_CASES[new][0]
    for data in (nest(old, value), {old: value}):
        values, notes = read_file(write(tmp_path, data))
        if new in TRUSTED_ONLY:  # ignored under either name, and said so
            assert values == {} and len(notes) == 1 and old in notes[0] and "cannot set them" in notes[0]
            continue
        assert values == {new: KEY_CASES[new][1]}
        (note,) = notes
        assert note == f"{tmp_path / CONFIG_FILE}: key {old!r} is deprecated; use {new!r}"
        s = load({}, {}, tmp_path)
        assert get(s, new) == KEY_CASES[new][1] and note in s.config_notes


def test_a_deprecated_keys_bad_value_is_named_as_written(tmp_path):
    msg = config_error(write(tmp_path, {"github": {"max_comments": 31}}))
    assert "'github.max_comments'" in msg and "31" in msg


def test_a_key_set_under_both_names_is_an_error(tmp_path):
    msg = config_error(write(tmp_path, {"github": {"max_comments": 5}, "hosts": {"max_inline": 6}}))
    assert "'github.max_comments' and 'hosts.max_inline' both set 'hosts.max_inline'" in msg


def test_the_new_host_keys_are_as_trusted_only_as_the_old(tmp_path):
    write(tmp_path, {"hosts": {"bot_login": "mallory", "github": {"api_url": "http://127.0.0.1:9/"}}})
    s = load({}, {}, tmp_path)
    assert s.hosts.bot_login is None and s.hosts.github.api_url == "https://api.github.com"
    (note,) = s.config_notes
    assert "hosts.bot_login" in note and "hosts.github.api_url" in note
    env = {"REVIEWBOT_BOT_LOGIN": "reviewbot[bot]", "GITHUB_API_URL": "https://ghe.example/api/v3"}
    s = load({"max_comments": 4}, env, tmp_path)
    assert (s.hosts.bot_login, s.hosts.github.api_url, s.hosts.max_inline) == (
        "reviewbot[bot]",
        "https://ghe.example/api/v3",
        4,
    )


@pytest.mark.parametrize(
    "text", ["hosts:\n  github:\n    token: x\n", "hosts.marker_key: k\n", "api_key: k\n"]
)
def test_a_secret_has_no_file_key(tmp_path, text):
    assert "unknown key" in config_error(write(tmp_path, text=text))


def test_updated_changes_one_nested_value_and_keeps_the_rest():
    s = Settings()
    t = s.updated({"routes.pin": (("docs/*", "search"),), "index.vectors": True})
    assert t.routes.pin == (("docs/*", "search"),) and t.index.vectors and t.routes.forbid == s.routes.forbid
    assert s.routes.pin == () and not s.index.vectors  # the original is untouched
