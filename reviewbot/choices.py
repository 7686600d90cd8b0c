"""The values some settings may take, by name: the command line's flags offer them (without importing
pydantic) and the models of `settings.py` accept them."""

BACKENDS = ("local", "openvino", "openai", "none")  # the fake backend is for tests, built directly
FORMATS = ("terminal", "json", "sarif", "markdown", "rdjson")
FAIL_ON = ("error", "warning", "never")
REVIEW_STRATEGIES = ("auto", "likelihood", "generative")  # routes/review.py says how auto picks
LINT_MODES = ("added", "diff_context", "file")
LINTERS = ("ruff", "bandit")
TOOLS = ("ruff", "bandit", "mypy", "pytest", "shellcheck", "eslint")  # built by compose.default_registry
