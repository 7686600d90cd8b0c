"""The settings' one definition: frozen pydantic models, one per section of `.reviewbot.yml`.

A field's path is its file key (`settings.plan.item_tokens` is `plan.item_tokens` in the file); the
types hold the limits, and `config_schema.py` publishes them as a JSON Schema. Fields made with
`not_in_file` (secrets, where the run's files are, the output) come only from the environment or
flags. `config.py` reads the sources and says which keys a file may set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

from .choices import BACKENDS, FAIL_ON, FORMATS, LINT_MODES, LINTERS, REVIEW_STRATEGIES, TOOLS
from .errors import ConfigError
from .model import ROUTE_NAMES
from .profiles import DEFAULT_KINDS, DEFAULT_OFF

Backend = Literal[BACKENDS]  # type: ignore[valid-type]
Format = Literal[FORMATS]  # type: ignore[valid-type]
FailOn = Literal[FAIL_ON]  # type: ignore[valid-type]
Strategy = Literal[REVIEW_STRATEGIES]  # type: ignore[valid-type]
LintMode = Literal[LINT_MODES]  # type: ignore[valid-type]
Linter = Literal[LINTERS]  # type: ignore[valid-type]
Tool = Literal[TOOLS]  # type: ignore[valid-type]
Route = Literal[ROUTE_NAMES]  # type: ignore[valid-type]


def _int(lo: int, hi: int) -> Any:
    return Annotated[int, Strict(), Field(ge=lo, le=hi)]


def _number(lo: float, hi: float) -> Any:
    return Annotated[float, Strict(), Field(ge=lo, le=hi, allow_inf_nan=False)]


_SAY: dict[str, str] = {}  # a pattern -> what a message calls the text it matches


def _text(pattern: str, say: str) -> Any:
    _SAY[pattern] = say
    return Annotated[str, Strict(), StringConstraints(min_length=1, pattern=pattern)]


def _path(v: Any) -> Any:
    if isinstance(v, Path):
        return v
    if not isinstance(v, str) or not v:
        raise ValueError("must be a path")
    return Path(os.path.expanduser(v))


def _pins(v: Any) -> Any:  # a mapping in the file, pairs in Settings
    if isinstance(v, dict):
        return tuple(v.items())
    if not isinstance(v, tuple):
        raise ValueError(f"must map path globs to routes ({', '.join(ROUTE_NAMES)})")
    return v


Url = _text(r"^https?://", "an http(s) URL")
Name = _text(r"\S", "a non-empty name")
Device = _text(r"^(auto|cpu|cuda|cuda:\d+)$", "auto, cpu, cuda or cuda:N")
AnyPath = Annotated[Path, BeforeValidator(_path), WithJsonSchema({"type": "string", "minLength": 1})]
Globs = tuple[Annotated[str, Strict(), StringConstraints(min_length=1)], ...]
RuleCodes = tuple[_text(r"^[A-Z]+[0-9]*$", "a rule code such as F, E722, B"), ...]  # as ruff takes them
RuleGlobs = tuple[
    _text(r"^[a-z0-9-]+/[A-Za-z0-9_*?.-]+$", "a rule such as bandit/B101, ruff/F401, secrets/*"), ...
]
Pins = Annotated[
    tuple[tuple[Annotated[str, Strict(), StringConstraints(min_length=1)], Route], ...],
    BeforeValidator(_pins),
    WithJsonSchema({"type": "object", "additionalProperties": {"enum": list(ROUTE_NAMES)}}),
]

# DEFAULT_RUFF_* in runners/linters.py are these: defects, not style
RUFF_SELECT = ("F", "E9", "E722", "B", "PLE")
RUFF_IGNORE = ("B904", "B905", "B028", "B009", "B010")


def not_in_file(default: Any = None, **kw: Any) -> Any:
    """A field no configuration file may name (an unknown key there): the environment or a flag sets it."""
    return Field(default, json_schema_extra={"not_in_file": True}, **kw)


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())


class Plan(Section):
    item_tokens: _int(200, 100_000) = 1200  # the most diff tokens in one work item
    budget_tokens: _int(200, 10_000_000) = 24000  # the most diff tokens sent to the model in one review
    exclude: Globs = ()  # extra path globs to skip
    include_vendored: Annotated[bool, Strict()] = False


class Review(Section):
    strategy: Strategy = "auto"  # routes/review.py: pick_strategy
    error_confidence: _number(0.0, 1.0) | None = None  # a model's finding is an error only from here
    min_drop: _number(0.0, 10.0) = 0.05  # nats/token by which the new code must be less likely
    max_findings_per_item: _int(1, 10) = 2
    max_new_tokens: _int(16, 4096) = 200
    # likelihood: ask the model for the row and a fix of each flagged hunk (else the judge's line)
    suggestions: Annotated[bool, Strict()] = False


class Routes(Section):  # reviewbot/router.py
    pin: Pins = ()  # (path glob, route): the first match decides
    forbid: tuple[Route, ...] = ()
    second_margin: _number(0.0, 1.0) = 0.0  # run the runner-up too when p(best) - p(runner-up) < this
    calibrate: Annotated[bool, Strict()] = False  # divide by the labels' priors on a content-free item


class Tools(Section):
    allow: tuple[Tool, ...] = TOOLS
    timeout: _number(1, 3600) = 120.0  # seconds per tool run (pytest: per test run)


class Interpreter(Section):
    timeout: _number(1, 3600) = 60.0  # seconds for one model-written test in the sandbox


class Sandbox(Section):
    # run model-written code WITHOUT the sandbox where bubblewrap cannot start (never by default)
    allow_unsandboxed: Annotated[bool, Strict()] = False


class Search(Section):  # reviewbot/knowledge/, docs/search.md
    web_url: Url | None = None  # a SearxNG instance for the search route's web lookups; off when unset


class Index(Section):
    vectors: Annotated[bool, Strict()] = False  # repo_qa: MiniLM vectors fused with BM25 (`vectors` extra)


class Lint(Section):  # runners/linters.py
    linters: tuple[Linter, ...] = LINTERS
    mode: LintMode = "added"
    timeout: _number(1, 3600) = 120.0
    ruff_select: RuleCodes = RUFF_SELECT
    ruff_ignore: RuleCodes = RUFF_IGNORE
    bandit_severity: Literal["low", "medium", "high"] = "medium"  # bandit's checks from this severity


class FileKinds(Section):  # reviewbot/profiles.py: which paths are tests, docs, examples, re-exports
    tests: Globs = DEFAULT_KINDS["tests"]
    docs: Globs = DEFAULT_KINDS["docs"]
    examples: Globs = DEFAULT_KINDS["examples"]
    reexports: Globs = DEFAULT_KINDS["reexports"]


class RulesOff(Section):  # the rules not shown in each kind of file (and in the rest, "code")
    tests: RuleGlobs = DEFAULT_OFF["tests"]
    docs: RuleGlobs = DEFAULT_OFF["docs"]
    examples: RuleGlobs = DEFAULT_OFF["examples"]
    reexports: RuleGlobs = DEFAULT_OFF["reexports"]
    code: RuleGlobs = DEFAULT_OFF["code"]


class ModelCalls(Section):  # pipeline/, backends/openai/, backends/local.py
    concurrency: _int(1, 256) | None = None  # work items at once; None: 1 for local, 8 for openai
    timeout: _number(1, 3600) = 60.0  # openai backend: seconds per HTTP request
    retries: _int(0, 10) = 3  # openai backend: retries of a failed request (jittered backoff)
    deadline: _number(1, 86400) | None = None  # seconds of model work per review; later items not sent
    device: Device = "auto"  # local backend: auto | cpu | cuda | cuda:N


class Tests(Section):  # the change's own tests (runners/change_tests.py), beside the linters
    enabled: Annotated[bool, Strict()] = True
    timeout: _number(1, 3600) = 120.0  # seconds for all the test runs of one review, base reruns included


class Learning(Section):  # reviewbot/learning/: what the team's verdicts on earlier comments teach
    enabled: Annotated[bool, Strict()] = True
    pull_requests: _int(1, 100) = 50  # the most recently updated pull (merge) requests read for signals
    seconds: _number(1, 600) = 10.0  # no new call for signals after this many seconds


class Service(Section):  # the webhook service (docs/service.md)
    store: Name = "sqlite"  # sqlite (a file in the cache) or a redis:// URL
    max_body: _int(1024, 1 << 30) = 4 * 1024 * 1024  # bytes; real events are far smaller
    max_attempts: _int(1, 20) = 3  # tries of a job before it is listed as failed
    backoff: _number(0, 86400) = 30.0  # seconds before the first retry; doubled each time
    reconcile: _number(0, 86400) = 600.0  # seconds between reconciler passes; 0: off


class GitHub(Section):  # reviewbot/hosts/github/, docs/github.md
    api_url: Url = "https://api.github.com"
    token: SecretStr | None = not_in_file(repr=False)  # GITHUB_TOKEN; never given to a model backend
    event_path: AnyPath | None = not_in_file()  # $GITHUB_EVENT_PATH: the event that started the workflow
    step_summary: AnyPath | None = not_in_file()  # $GITHUB_STEP_SUMMARY: the job summary file
    app_id: _int(1, 2**53) | None = not_in_file()  # the service as a GitHub App (installation tokens)
    app_key_path: AnyPath | None = not_in_file()  # the App's private key (PEM), read when the service starts
    webhook_secret: SecretStr | None = not_in_file(repr=False)

    def app_key(self) -> SecretStr | None:
        """The GitHub App's private key, read from ``app_key_path``."""
        if self.app_key_path is None:
            return None
        try:
            return SecretStr(Path(os.path.expanduser(str(self.app_key_path))).read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read the GitHub App key {self.app_key_path}: {exc.strerror}") from None


class GitLab(Section):  # reviewbot/hosts/gitlab/, docs/gitlab.md
    url: Url = not_in_file("https://gitlab.com/api/v4")  # the API the service's workers send the token to
    token: SecretStr | None = not_in_file(repr=False)  # a project or group token
    webhook_secret: SecretStr | None = not_in_file(repr=False)


class Hosts(Section):  # what every host shares, and each host's own
    max_inline: _int(0, 30) = 30  # inline comments (GitHub) or threads (GitLab) a run; the rest listed
    bot_login: Name | None = None  # whose earlier comments are the bot's (default: the token's user)
    marker_key: SecretStr | None = not_in_file(repr=False)  # signs the hidden markers (hosts/markers.py)
    github: GitHub = GitHub()
    gitlab: GitLab = GitLab()


_WHERE = ("config_path", "config_origin", "config_notes")  # not compared


class Settings(Section):
    """Everything one run is configured with, loaded by `config.load` and passed down."""

    backend: Backend = "openvino"  # the embedded model on OpenVINO's CPU runtime; local: torch + transformers
    model_dir: AnyPath | None = None  # a transformers checkpoint instead of the embedded model
    base_url: Url | None = None  # openai backend: an OpenAI-compatible server (vLLM, llama.cpp, ...)
    api_model: Name | None = None  # openai backend: the served model's name (default: the first listed)
    api_key: SecretStr | None = not_in_file(repr=False)  # openai backend: REVIEWBOT_API_KEY
    cache_dir: AnyPath = Path("~/.cache/reviewbot")
    threads: _int(1, 512) | None = None
    fail_on: FailOn = "error"
    fail_on_model: Annotated[bool, Strict()] = False  # a model's finding (a guess) may fail the run too
    format: Format = not_in_file("terminal")
    color: bool | None = not_in_file()  # None: when the output is a terminal and NO_COLOR is unset
    progress: bool = not_in_file(True)
    plan: Plan = Plan()
    review: Review = Review()
    routes: Routes = Routes()
    tools: Tools = Tools()
    interpreter: Interpreter = Interpreter()
    sandbox: Sandbox = Sandbox()
    search: Search = Search()
    index: Index = Index()
    lint: Lint = Lint()
    file_kinds: FileKinds = FileKinds()
    # not in repr, whose test for leaked secrets would meet `secrets/secret-keyword`
    rules_off: RulesOff = Field(RulesOff(), repr=False)
    model: ModelCalls = ModelCalls()
    tests: Tests = Tests()
    learning: Learning = Learning()
    service: Service = Service()
    hosts: Hosts = Hosts()
    # where the settings came from, for messages
    config_path: Path | None = not_in_file()
    config_origin: str | None = not_in_file()  # the file used, for the report
    config_notes: tuple[str, ...] = not_in_file(())  # keys of it that were ignored or are deprecated

    @property
    def cache(self) -> Path:
        return Path(os.path.expanduser(str(self.cache_dir)))

    def updated(self, changes: dict[str, Any]) -> Settings:
        """A copy with the values at these paths changed: ``s.updated({"routes.pin": pins})``.
        The values are the program's own, typed already (not validated again)."""
        return _updated(self, nest(changes))

    def __eq__(self, other: object) -> bool:  # where the settings came from is not compared
        if not isinstance(other, Settings):
            return NotImplemented
        return _compared(self) == _compared(other)

    def __hash__(self) -> int:
        return hash(tuple(_compared(self).items()))


def _compared(s: Settings) -> dict[str, Any]:
    return {k: v for k, v in s.__dict__.items() if k not in _WHERE}


def _updated(model: Any, changes: dict[str, Any]) -> Any:
    return model.model_copy(
        update={
            name: _updated(getattr(model, name), value) if isinstance(value, dict) else value
            for name, value in changes.items()
        }
    )


def leaves(model: type[BaseModel] = Settings, prefix: str = "") -> dict[str, Any]:
    """Every setting's path (`plan.item_tokens`) and its FieldInfo, sections opened."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, Section):
            out.update(leaves(kind, f"{prefix}{name}."))
        else:
            out[prefix + name] = info
    return out


def in_file(info: Any) -> bool:
    extra = info.json_schema_extra
    return not (isinstance(extra, dict) and extra.get("not_in_file"))


def get(settings: BaseModel, path: str) -> Any:
    """The value at a dotted path: get(s, "plan.item_tokens")."""
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"plan.item_tokens": 800} -> {"plan": {"item_tokens": 800}}."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        *heads, leaf = path.split(".")
        node = out
        for head in heads:
            node = node.setdefault(head, {})
        node[leaf] = value
    return out


def problem(error: Any) -> str:
    """pydantic's message of one error as the rest of reviewbot words it: "must be ..."."""
    pattern = (error.get("ctx") or {}).get("pattern")
    if error["type"] == "string_pattern_mismatch" and pattern in _SAY:
        return f"must be {_SAY[pattern]}"
    msg = re.sub(r"^Value error, ", "", error["msg"])
    msg = re.sub(r"^(Input|String|Value|Tuple|Number) should (be|have|match)", r"must \2", msg)
    return msg[0].lower() + msg[1:]
