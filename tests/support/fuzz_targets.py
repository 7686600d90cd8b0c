"""Fuzz targets shared by tests/test_fuzz.py (hypothesis, bounded, in every pytest run) and
bench/fuzz.py (a longer run that prints its figures). Each target takes one input and either
returns or raises the error type its function documents; anything else is a crash.

    diff(data: bytes)       diff.parse.parse_diff_bytes      -> DiffError
    anchor(data: bytes)     diff.anchor + diff.render on the diff in data[8:], at lines drawn
                            from data[:8]: a position maps back to the same line and side; an
                            anchor is always on a changed or context line of one hunk
    config(text: str)       config.parse_text    -> ConfigError
    artifact(data: bytes)   reporters.artifact.untrusted_findings -> InputError
    escape(text: str)       reporters.markdown.escape: nothing in the output renders as a link,
                            image, table, heading, fence, rule, quote, HTML or mention; the output
                            is one line, never begins with "/", and holds no bidi control
"""

from __future__ import annotations

import re

import markdown_it

from reviewbot.config import parse_text
from reviewbot.diff import DiffIndex, github_position, gitlab_position
from reviewbot.diff import anchor as place
from reviewbot.diff.parse import parse_diff_bytes
from reviewbot.errors import ConfigError, DiffError, InputError
from reviewbot.model import Anchored, Finding, LineKind, Location, Severity, Side
from reviewbot.reporters.artifact import untrusted_findings
from reviewbot.reporters.markdown import escape as md_escape

_MD = markdown_it.MarkdownIt("commonmark").enable("table")
# an indented code block is allowed: it shows text as code, which links or renders nothing
_ACTIVE = {
    "link_open",
    "image",
    "table_open",
    "heading_open",
    "fence",
    "html_block",
    "html_inline",
    "blockquote_open",
    "hr",
}
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


SEEDS_ANCHOR = [bytes(range(8)) + d for d in SEEDS_DIFF] + [
    b"\x05\x81\x02\xff\x00\x10\x03\x07diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n"
    b"@@ -10,2 +10,3 @@\n e\n+f\n g\n",
]
_SHAS = {"base_sha": "a" * 40, "start_sha": "a" * 40, "head_sha": "b" * 40}


def _maps_back(index: DiffIndex, loc: Location) -> None:
    """Where a host position exists, it names the same line, on the same side, in one hunk."""
    gh = github_position(index, loc)
    ln = index.line_at(loc.path, loc.side, loc.line)
    if gh is not None:
        assert ln is not None and gh["line"] == loc.line and gh["side"] == loc.side.value, (gh, loc)
        assert ln.kind is not (LineKind.REMOVED if loc.side is Side.RIGHT else LineKind.ADDED), (ln, loc)
        if "start_line" in gh:
            assert index.range_hunk(loc.path, loc.side, gh["start_line"], loc.line) is not None, (gh, loc)
    gl = gitlab_position(index, loc, **_SHAS)
    assert (gl is None) == (gh is None) or loc.start_line not in (None, loc.line), (gl, gh, loc)
    if gl is not None:
        assert ln is not None
        assert gl.get("new_line") == ln.new_no and gl.get("old_line") == ln.old_no, (gl, ln)
        assert (ln.new_no if loc.side is Side.RIGHT else ln.old_no) == loc.line, (gl, ln, loc)


def anchor(data: bytes) -> None:
    picks, raw = data[:8], data[8:]
    try:
        files = parse_diff_bytes(raw)
    except DiffError:
        return
    index = DiffIndex(files)
    for f in files:
        if any(
            b.old_start < a.old_start + a.old_len or b.new_start < a.new_start + a.new_len
            for a, b in zip(f.hunks, f.hunks[1:])
        ):
            continue  # overlapping or unordered hunks (found by atheris): not checked yet
        top = max(
            [ln.new_no or 0 for h in f.hunks for ln in h.lines]
            + [ln.old_no or 0 for h in f.hunks for ln in h.lines]
            + [1]
        )
        for i in range(0, len(picks) - 1, 2):
            side = Side.RIGHT if picks[i] & 1 else Side.LEFT
            line = 1 + picks[i] % (top + 2)
            start = None if picks[i + 1] & 1 else 1 + picks[i + 1] % (top + 2)
            loc = Location(f.path, side, line, start)
            _maps_back(index, loc)
            got = place(Finding(loc, Severity.WARNING, "m", "model/bug", "review"), index)
            if isinstance(got, Anchored):  # on a line of the diff, in one hunk, and every host can show it
                at = got.finding.location
                assert index.range_hunk(at.path, at.side, at.first, at.line) == got.hunk, (loc, at)
                assert github_position(index, at) is not None, (loc, at)
                assert gitlab_position(index, at, **_SHAS) is not None, (loc, at)
        if sum(f.path in (g.path, g.old_path, g.new_path) for g in files) > 1:
            # a path named twice (found by atheris): the index serves the first; no position is wrong
            continue
        for h in f.hunks:  # every line shown is a position on its side
            for ln in h.lines:
                if ln.new_no is not None and ln.kind is not LineKind.REMOVED:
                    _maps_back(index, Location(f.path, Side.RIGHT, ln.new_no))
                    assert github_position(index, Location(f.path, Side.RIGHT, ln.new_no)) is not None
                if ln.old_no is not None and ln.kind is LineKind.REMOVED:
                    assert github_position(index, Location(f.path, Side.LEFT, ln.old_no)) is not None


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


_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> None:
    out = md_escape(text)
    assert "<" not in out, out
    assert len(out.splitlines()) <= 1 and not out.lstrip().startswith("/"), (text, out)  # no command line
    assert not _BIDI.search(out), (text, out)
    for tok in _MD.parse(out):
        assert tok.type not in _ACTIVE, (tok.type, text, out)
        for child in tok.children or ():
            assert child.type not in _ACTIVE, (child.type, text, out)
            if child.type == "text":
                assert not _MENTION.search(child.content), (text, out)
