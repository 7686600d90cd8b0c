"""The tools route's allow-list: linters and the test runner the model may call, with their argument
schemas and runners. The base types are in base.py; mypy, shellcheck, eslint, ruff and bandit in
checkers.py (ruff and bandit through runners/linters.py); pytest in pytest_tool.py (run in the
sandbox by runners/pytest_driver.py). compose.default_registry builds the allow-list by name."""

from .base import Registry, Tool, ToolResult

__all__ = ["Registry", "Tool", "ToolResult"]
