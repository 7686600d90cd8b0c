"""The validators of configuration values: each takes a raw value and returns it typed, or raises ValueError."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .model import ROUTE_NAMES


def one_of(options: tuple[str, ...]):
    def check(v: Any) -> str:
        if not isinstance(v, str) or v not in options:
            raise ValueError(f"must be one of {', '.join(options)}; got {v!r}")
        return v

    return check


def integer(lo: int, hi: int):
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"must be an integer from {lo} to {hi}; got {v!r}")
        return v

    return check


def number(lo: float, hi: float):
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise ValueError(f"must be a number from {lo} to {hi}; got {v!r}")
        return float(v)

    return check


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"must be true or false; got {v!r}")
    return v


def url(v: Any) -> str:
    if not isinstance(v, str) or not v.startswith(("http://", "https://")):
        raise ValueError(f"must be an http(s) URL; got {v!r}")
    return v


def nonempty(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"must be a non-empty name; got {v!r}")
    return v


def device(v: Any) -> str:
    if not isinstance(v, str) or not (v in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", v)):
        raise ValueError(f"must be auto, cpu, cuda or cuda:N; got {v!r}")
    return v


def path(v: Any) -> Path:
    if not isinstance(v, str) or not v:
        raise ValueError(f"must be a path; got {v!r}")
    return Path(os.path.expanduser(v))


def globs(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise ValueError(f"must be a list of path globs; got {v!r}")
    return tuple(v)


def rule_codes(v: Any) -> tuple[str, ...]:
    """Linter rule codes or prefixes, as ruff takes them: F, E722, B, PLE."""
    if not isinstance(v, list) or not all(isinstance(x, str) and re.fullmatch(r"[A-Z]+[0-9]*", x) for x in v):
        raise ValueError(f"must be a list of rule codes such as F, E722, B; got {v!r}")
    return tuple(v)


def rule_globs(v: Any) -> tuple[str, ...]:
    """Rules as reviewbot names them (``source/code``), globs allowed: bandit/B101, secrets/*."""
    if not isinstance(v, list) or not all(
        isinstance(x, str) and re.fullmatch(r"[a-z0-9-]+/[A-Za-z0-9_*?.-]+", x) for x in v
    ):
        raise ValueError(f"must be a list of rules such as bandit/B101, ruff/F401, secrets/*; got {v!r}")
    return tuple(v)


def pins(v: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, dict) or not all(
        isinstance(g, str) and g and r in ROUTE_NAMES for g, r in v.items()
    ):
        raise ValueError(f"must map path globs to routes ({', '.join(ROUTE_NAMES)}); got {v!r}")
    return tuple(v.items())


def drawn_from(names: tuple[str, ...]):
    def check(v: Any) -> tuple[str, ...]:
        if not isinstance(v, list) or not all(x in names for x in v):
            raise ValueError(f"must be a list drawn from {', '.join(names)}; got {v!r}")
        return tuple(v)

    return check
