"""The tools route's allow-list: linters and the test runner the model may call, with their argument
schemas and runners (see registry.py). pytest runs in the sandbox (pytest_tool.py); mypy, shellcheck
and eslint are in checkers.py; ruff and bandit reuse runners/linters.py."""

from .registry import Registry, Tool, ToolResult, default_registry

__all__ = ["Registry", "Tool", "ToolResult", "default_registry"]
