"""Hostile diffs: a CRLF diff, a hunk header that does not parse, a binary blob."""

from __future__ import annotations

import random

import pytest

from reviewbot.diff.parse import parse_diff, parse_diff_bytes
from reviewbot.errors import DiffError

GIT = "diff --git a/pkg/x.py b/pkg/x.py\n--- a/pkg/x.py\n+++ b/pkg/x.py\n@@ -1,1 +1,2 @@\n a\n+b\n"


def test_crlf_diff_paths_have_no_cr():
    (fd,) = parse_diff(GIT.replace("\n", "\r\n"))
    assert (fd.old_path, fd.new_path) == ("pkg/x.py", "pkg/x.py")
    assert fd.status.value == "modified"
    assert [ln.text for ln in fd.hunks[0].lines] == ["a", "b"]


def test_crlf_plain_diff_paths_have_no_cr():
    (fd,) = parse_diff("--- a/x.py\r\n+++ b/x.py\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n")
    assert fd.new_path == "x.py"


@pytest.mark.parametrize("header", ["@@ -1,zz +1,4 @@", "@@ -x +1 @@", "@@ -1,1 +1,a @@ def f():"])
@pytest.mark.parametrize("prefix", ["", "diff --git a/x.py b/x.py\n"])
def test_a_malformed_hunk_header_is_a_one_line_error(header, prefix):
    text = f"{prefix}--- a/x.py\n+++ b/x.py\n{header}\n a\n+b\n"
    with pytest.raises(DiffError) as err:
        parse_diff(text)
    msg = str(err.value)
    assert "malformed hunk header" in msg and header.split(" @@")[0] in msg and "\n" not in msg


@pytest.mark.parametrize("seed", range(20))
def test_a_binary_blob_is_called_binary(seed):
    rng = random.Random(seed)
    blob = bytes(rng.randrange(256) for _ in range(4096))
    with pytest.raises(DiffError, match="binary data, not a diff"):
        parse_diff_bytes(blob)


def test_a_blob_with_an_ansi_escape_is_still_binary():
    blob = b"\x1b[31m" + bytes(range(256)) * 8
    with pytest.raises(DiffError, match="binary data, not a diff"):
        parse_diff_bytes(blob)


def test_a_coloured_diff_is_still_named():
    with pytest.raises(DiffError, match="ANSI colour"):
        parse_diff("\x1b[1mdiff --git a/x b/x\x1b[m\n\x1b[1m--- a/x\x1b[m\n")
