"""Prompt templates, kept as data files beside this module (string.Template, `$name` fields).

Values put into a template are never re-read as template text, so PR content cannot inject
template fields. The output schemas live in code (routes), not in the prompts.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template


@cache
def template(name: str) -> Template:
    return Template(files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    return template(name).substitute(values)
