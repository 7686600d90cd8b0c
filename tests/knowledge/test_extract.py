"""Static extraction: signatures, deprecations, aliases, and chunks at code and heading boundaries."""

from __future__ import annotations

from reviewbot.knowledge.chunks import chunks
from reviewbot.knowledge.extract import api_entries, sentences
from reviewbot.knowledge.text import fts_query, keywords, words

SRC = '''"""Mod doc."""
import posixpath as path
try:
    from .fast import speedup
except ImportError:
    speedup = None


@decorator
def old(a, b=1, **kw) -> int:
    """Return a. Deprecated since 3.1: use new()."""
    return a


def warned(x):
    warnings.warn("warned() goes away in 4.0", DeprecationWarning, stacklevel=2)


class K(Base):
    """A K."""

    X = 1

    def __init__(self, size, *, mode="r"):
        if mode == "rb":
            warnings.warn("mode='rb' is deprecated", DeprecationWarning)

    def run(self):
        """Run it."""

    def _private(self):
        pass
'''


def test_api_entries() -> None:
    api = api_entries(SRC, "pkg.mod")
    by = {e.name: e for e in api.entries}
    assert set(by) == {"pkg.mod", "pkg.mod.old", "pkg.mod.warned", "pkg.mod.K", "pkg.mod.K.run"}
    old = by["pkg.mod.old"]
    assert old.signature == "def old(a, b=1, **kw) -> int" and old.params == ("a", "b") and old.varkw
    assert old.start == 9 and old.deprecated == "Deprecated since 3.1: use new()."
    assert by["pkg.mod.warned"].deprecated == "warned() goes away in 4.0"
    k = by["pkg.mod.K"]
    assert k.params == ("size", "mode") and k.deprecated is None
    assert dict(k.param_notes) == {"mode": "mode='rb' is deprecated"}
    assert api.aliases == {"pkg.mod.path": "posixpath", "pkg.mod.speedup": "pkg.fast.speedup"}


def test_python_chunks_follow_definitions() -> None:
    got = [(c.kind, c.name, c.start, c.end) for c in chunks(SRC, "pkg/mod.py")]
    assert ("function", "old", 9, 12) in got  # the decorator line starts it
    assert ("class", "K", 19, 23) in got and ("method", "K.run", 28, 29) in got
    assert got[0][:3] == ("module", "module", 1)
    lines = SRC.splitlines()
    for c in chunks(SRC, "pkg/mod.py"):
        assert c.text == "\n".join(lines[c.start - 1 : c.end])


def test_broken_python_falls_back_to_line_windows() -> None:
    (c,) = chunks("def broken(:\n    pass\n", "bad.py")
    assert (c.kind, c.start, c.end) == ("text", 1, 2)


def test_markdown_and_rst_sections() -> None:
    md = "intro\n# Title\ntext\n```\n# not a heading\n```\n## Sub\nmore\n"
    got = [(c.name, c.start, c.end) for c in chunks(md, "README.md")]
    assert got == [("(top)", 1, 1), ("Title", 2, 6), ("Title > Sub", 7, 8)]
    rst = "Guide\n=====\n\nHello.\n\nPart\n----\nBody.\n"
    assert [(c.name, c.start) for c in chunks(rst, "docs/guide.rst")] == [("Guide", 1), ("Guide > Part", 6)]


def test_words_queries_and_sentences() -> None:
    assert words("HTTPAdapter.send_request") == [
        "httpadapter",
        "http",
        "adapter",
        "send_request",
        "send",
        "request",
    ]
    assert keywords("Where is the retry Backoff handled?") == ["retry", "backoff"]
    assert fts_query(['a"b', "c"]) == '"a""b" OR "c"'
    assert sentences("One thing. Two things!\n\nThird para") == ["One thing.", "Two things!", "Third para"]
