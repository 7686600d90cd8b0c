"""A "did you mean" hint: the closest known name to a misspelt one (config keys, command-line flags)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name most like `word`, or None when none is close."""
    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key(key: str, known: Iterable[str]) -> str:
    """The tail of an "unknown key" message: a suggestion when one is close, else every known key."""
    names = sorted(known)
    best = closest(key, names)
    return f"did you mean {best!r}?" if best else f"known: {', '.join(names)}"


def suggest_flag(message: str, parser: Any) -> str:
    """A "; did you mean --x?" tail for argparse's "unrecognized arguments: --y" message, else ""."""
    m = re.search(r"unrecognized arguments: (--?[\w-]+)", message)
    if not m:
        return ""
    best = closest(m.group(1), _flags(parser))
    if best == m.group(1):
        return f"; {best} belongs to another command"
    return f"; did you mean {best}?" if best else ""


def _flags(parser: Any) -> list[str]:  # the parser's flags and its subcommands'
    out: list[str] = []
    for action in parser._actions:  # noqa: SLF001 - argparse lists its actions nowhere public
        out += action.option_strings
        if isinstance(action.choices, dict):  # the subcommands
            for sub in action.choices.values():
                out += _flags(sub)
    return out
