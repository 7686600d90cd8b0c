"""Subprocess runner with limits, and the deterministic linters (ruff, bandit) run on every change."""
