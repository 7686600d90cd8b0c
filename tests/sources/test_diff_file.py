"""DiffFileSource: files, stdin, gzip, size limits and one-line errors."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import pytest

from reviewbot.errors import DiffError, InputError, UsageError
from reviewbot.model import FileStatus
from reviewbot.sources import DiffFileSource
from reviewbot.sources.diff_file import DEFAULT_MAX_BYTES

DIFF = b"""\
diff --git a/pkg/mod.py b/pkg/mod.py
index 3b18e51..a1c2d3e 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,3 +1,4 @@
 import os
+import sys
 VERSION = 1
 def f():
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
"""


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg
    return msg


def test_reads_a_diff_file(tmp_path: Path) -> None:
    p = tmp_path / "change.diff"
    p.write_bytes(DIFF)
    cs = DiffFileSource(str(p)).load()
    assert [f.path for f in cs.files] == ["pkg/mod.py", "new.txt"]
    assert cs.files[1].status is FileStatus.ADDED
    assert cs.description == f"diff file {p}"
    # index lines carry abbreviated blob ids, not commits: nothing is invented
    assert cs.base is None and cs.head is None
    assert cs.read_head is None and cs.workdir is None


def test_accepts_a_path_object(tmp_path: Path) -> None:
    p = tmp_path / "change.diff"
    p.write_bytes(DIFF)
    assert len(DiffFileSource(p).load().files) == 2


def test_reads_stdin() -> None:
    cs = DiffFileSource("-", stdin=io.BytesIO(DIFF)).load()
    assert [f.path for f in cs.files] == ["pkg/mod.py", "new.txt"]
    assert cs.description == "diff file <stdin>"


def test_stdin_errors_are_named_stdin() -> None:
    with pytest.raises(DiffError, match=r"^<stdin>: "):
        DiffFileSource("-", stdin=io.BytesIO(b"not a diff\n")).load()


def test_stdin_terminal_is_a_usage_error() -> None:
    class Tty(io.BytesIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(UsageError, match="terminal"):
        DiffFileSource("-", stdin=Tty(DIFF)).load()


def test_gzip_file(tmp_path: Path) -> None:
    p = tmp_path / "change.diff.gz"
    p.write_bytes(gzip.compress(DIFF))
    cs = DiffFileSource(str(p)).load()
    assert [f.path for f in cs.files] == ["pkg/mod.py", "new.txt"]


def test_gzip_on_stdin_and_concatenated_members() -> None:
    data = gzip.compress(DIFF[:200]) + gzip.compress(DIFF[200:])
    cs = DiffFileSource("-", stdin=io.BytesIO(data)).load()
    assert len(cs.files) == 2


def test_corrupt_gzip(tmp_path: Path) -> None:
    p = tmp_path / "bad.diff.gz"
    p.write_bytes(gzip.compress(DIFF)[:30])
    with pytest.raises(DiffError, match=r"bad\.diff\.gz: corrupt gzip data") as ei:
        DiffFileSource(str(p)).load()
    _one_line(ei.value)


def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.diff"
    with pytest.raises(InputError) as ei:
        DiffFileSource(str(p)).load()
    assert _one_line(ei.value) == f"{p}: no such file"
    assert ei.value.exit_code == 3


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as ei:
        DiffFileSource(str(tmp_path)).load()
    assert _one_line(ei.value) == f"{tmp_path}: is a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    p = tmp_path / "secret.diff"
    p.write_bytes(DIFF)
    p.chmod(0)
    try:
        with pytest.raises(InputError) as ei:
            DiffFileSource(str(p)).load()
        assert _one_line(ei.value) == f"{p}: permission denied"
    finally:
        p.chmod(0o600)


def test_empty_file_is_a_diff_error(tmp_path: Path) -> None:
    p = tmp_path / "empty.diff"
    p.write_bytes(b"")
    with pytest.raises(DiffError, match="empty diff"):
        DiffFileSource(str(p)).load()


def test_default_limit_is_200_mb() -> None:
    assert DEFAULT_MAX_BYTES == 200 * 1024 * 1024
    assert DiffFileSource("x").max_bytes == DEFAULT_MAX_BYTES


def test_size_limit_file(tmp_path: Path) -> None:
    p = tmp_path / "big.diff"
    p.write_bytes(DIFF)
    assert DiffFileSource(str(p), max_bytes=len(DIFF)).load().files  # exactly at the limit is fine
    with pytest.raises(InputError) as ei:
        DiffFileSource(str(p), max_bytes=len(DIFF) - 1).load()
    assert "limit" in _one_line(ei.value)
    assert ei.value.args[0].startswith(f"{p}: larger than")


def test_size_limit_names_megabytes() -> None:
    data = b"x" * (2 * 1024 * 1024 + 1)
    with pytest.raises(InputError, match=r"^<stdin>: larger than the 2 MB limit"):
        DiffFileSource("-", stdin=io.BytesIO(data), max_bytes=2 * 1024 * 1024).load()


def test_size_limit_applies_to_decompressed_size(tmp_path: Path) -> None:
    p = tmp_path / "bomb.diff.gz"
    p.write_bytes(gzip.compress(DIFF + b" " * 100_000))
    assert p.stat().st_size < 2000
    with pytest.raises(InputError, match="larger than"):
        DiffFileSource(str(p), max_bytes=50_000).load()


def test_bad_max_bytes() -> None:
    with pytest.raises(UsageError):
        DiffFileSource("x", max_bytes=0)


def test_fifo(tmp_path: Path) -> None:
    """Process substitution (<(git diff)) gives a pipe whose size is not known up front."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write(DIFF)

    t = threading.Thread(target=writer)
    t.start()
    try:
        cs = DiffFileSource(str(fifo)).load()
    finally:
        t.join(5)
    assert len(cs.files) == 2
