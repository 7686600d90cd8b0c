"""Bounded fuzzing of the parsers that read untrusted input: the diff parser, the
configuration loader, the artifact reader and the markdown escaper. Targets: tests/support/fuzz_targets.py;
a longer run: bench/fuzz.py (figures in docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import fuzz_targets as t

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_DIFF_LINES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "diff --git a/x b/x",
                "--- a/x",
                "+++ b/x",
                "--- /dev/null",
                "+++ /dev/null",
                "@@ -1 +1 @@",
                "@@ -1,2 +1,3 @@ f",
                "@@ -1,zz +1 @@",
                "\\ No newline at end of file",
                "Binary files a/x and b/x differ",
                "rename from x",
                "rename to y",
                "new file mode 100644",
            ]
        ),
        st.text(max_size=20).map(lambda s: " " + s),
        st.text(max_size=20).map(lambda s: "+" + s),
        st.text(max_size=20).map(lambda s: "-" + s),
    ),
    max_size=30,
)


@BOUNDED
@given(
    st.one_of(
        st.binary(max_size=2000),
        _DIFF_LINES.map(lambda ls: "\n".join(ls).encode()),
        _DIFF_LINES.map(lambda ls: "\r\n".join(ls).encode()),
    )
)
@example(b"\x1b[31m\x00\x01")
@example(b"--- a/x\n+++ b/x\n@@ -1,zz +1,4 @@\n a\n")
def test_diff_parser(data):
    t.diff(data)


@BOUNDED
@given(
    st.tuples(
        st.binary(min_size=8, max_size=8),
        st.one_of(st.binary(max_size=600), _DIFF_LINES.map(lambda ls: "\n".join(ls).encode())),
    ).map(lambda p: p[0] + p[1])
)
@example(t.SEEDS_ANCHOR[-1])
@example(
    b"\x00\x01\x02\x03-b\n+y\n--- a/x.py\n+++ b/x.py\nb/x.pypy\n"
    b"--- a/x.p!\n+++ b/x.py\n@@ -3,2 +1,3 @@\n a\n-b\n+c\n+d\n"
)
def test_anchor_math(data):
    t.anchor(data)


_YAML_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(["plan", "lint", "sandbox", "github", "model", "review", "routes", "x"])


@BOUNDED
@given(st.one_of(st.text(max_size=400), st.dictionaries(_KEYS, _YAML_VALUE, max_size=4).map(json.dumps)))
@example("a: &a [1]\nb: *a\n")
@example("plan: {item_tokens: [" + "1," * 1000 + "]}")
def test_config_loader(text):
    t.config(text)


_FINDING = st.fixed_dictionaries(
    {},
    optional={
        "path": st.one_of(st.text(max_size=40), st.integers()),
        "line": st.one_of(st.integers(), st.text(max_size=5), st.none()),
        "first": st.integers(),
        "side": st.sampled_from(["RIGHT", "LEFT", "x"]),
        "severity": st.sampled_from(["error", "warning", "info", "fatal"]),
        "message": st.text(max_size=80),
        "rule": st.text(max_size=20),
        "route": st.text(max_size=10),
        "suggestion": st.one_of(st.none(), st.text(max_size=40)),
    },
)


@BOUNDED
@given(
    st.one_of(
        st.binary(max_size=600),
        st.builds(
            lambda fs, v: json.dumps({"version": v, "source": "git", "findings": fs}).encode(),
            st.lists(_FINDING, max_size=5),
            st.sampled_from(["1", "2", 1]),
        ),
    )
)
@example(b'{"version":"1","findings":444}')  # found by atheris: a TypeError before the fix
@example(b'{"version":"1","unanchored":{"a":1}}')
def test_artifact_reader(data):
    t.artifact(data)


_MD_PIECES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "[",
                "]",
                "(",
                ")",
                "!",
                "<",
                ">",
                "|",
                "-",
                "`",
                "~",
                "#",
                "@",
                "\\",
                "*",
                "_",
                ":",
                "http://x.y",
                "www.a.b",
                "\n",
                " ",
                "1.",
                "---",
                "<!--",
            ]
        ),
        st.text(max_size=6),
    ),
    max_size=40,
).map("".join)


@BOUNDED
@given(st.one_of(st.text(max_size=300), _MD_PIECES))
@example("[docs][1]\n\n[1]: https://evil.example")
@example("- ```\ncode")
@example("| a | b |\n|---|---|\n| 1 | 2 |")
@example("| a | b |\n--: ")  # found by bench/fuzz.py: a one-column table behind escaped pipes
def test_markdown_escaper(text):
    t.escape(text)


@pytest.mark.parametrize("target", ["diff", "anchor", "config", "artifact", "markdown"])
def test_atheris_bounded_run(target):
    """Each target under atheris (coverage-guided, libFuzzer) for 5,000 inputs: no crash."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run(
        [sys.executable, str(root / "bench/fuzz.py"), "--atheris", target, "--runs", "5000"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=root,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "Done 5000 runs" in res.stderr, res.stderr[-2000:]
