"""Fuzz targets shared by tests/test_fuzz.py (hypothesis, bounded, in every pytest run) and
bench/fuzz.py (a longer run that prints its figures). Each target takes one input and either
returns or raises the error type its function documents; anything else is a crash.

    diff(data: bytes)       diff.parse.parse_diff_bytes      -> DiffError
    config(text: str)       config.parse_text    -> ConfigError
    artifact(data: bytes)   reporters.artifact.untrusted_findings -> InputError
    escape(text: str)       reporters.markdown.escape: nothing in the output renders as a link,
                            image, table, heading, fence, rule, quote, HTML or mention
"""

from __future__ import annotations

import re

import markdown_it

from reviewbot.config import parse_text
from reviewbot.diff.parse import parse_diff_bytes
from reviewbot.errors import ConfigError, DiffError, InputError
from reviewbot.reporters.artifact import untrusted_findings
from reviewbot.reporters.markdown import escape as md_escape

_MD = markdown_it.MarkdownIt("commonmark").enable("table")
# an indented code block is allowed: it shows text as code, which links or renders nothing
_ACTIVE = {"link_open", "image", "table_open", "heading_open", "fence", "html_block", "html_inline",
           "blockquote_open", "hr"}  # fmt: skip
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")

SEEDS_DIFF = [
    b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n a\n-b\n+c\n+d\n",
    b"--- a/x\r\n+++ b/x\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n",
    b"diff --git a/x b/y\nsimilarity index 90%\nrename from x\nrename to y\n",
]
SEEDS_CONFIG = [
    "lint:\n  linters: [ruff]\n",
    "plan:\n  item_tokens: 800\n  exclude: ['*.lock']\n",
    "a: &x [1]\nb: *x\n",
]
SEEDS_ARTIFACT = [
    b'{"version": "1", "source": "git", "findings": [{"path": "a.py", "line": 1, "severity": "error",'
    b' "message": "m", "rule": "r", "route": "review"}]}',
]
SEEDS_MARKDOWN = ["[a][1]\n\n[1]: http://x", "- ```\nx", "| a | b |\n|---|---|", "<b>@x</b> ![i](u)"]


def diff(data: bytes) -> None:
    try:
        files = parse_diff_bytes(data)
    except DiffError as exc:
        assert "\n" not in str(exc), str(exc)
        return
    assert isinstance(files, tuple)


def config(text: str) -> None:
    try:
        parse_text(text, "fuzz.yml")
    except ConfigError as exc:
        assert len(str(exc)) < 2000, len(str(exc))


def artifact(data: bytes) -> None:
    try:
        untrusted_findings(data)
    except InputError:
        pass


def escape(text: str) -> None:
    out = md_escape(text)
    assert "<" not in out, out
    for tok in _MD.parse(out):
        assert tok.type not in _ACTIVE, (tok.type, text, out)
        for child in tok.children or ():
            assert child.type not in _ACTIVE, (child.type, text, out)
            if child.type == "text":
                assert not _MENTION.search(child.content), (text, out)
