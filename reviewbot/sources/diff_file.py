"""A unified diff read from a file (plain or gzip) or from standard input.

    DiffFileSource("change.diff").load() -> ChangeSet
    DiffFileSource("-", stdin=sys.stdin.buffer).load()

- Errors are one line: ``InputError("FILE: no such file")``, ``"FILE: is a directory"``,
  ``"FILE: permission denied"``, ``"FILE: larger than the 200 MB limit"``; a diff that does not
  parse raises the parser's ``DiffError("FILE: reason")``.
- Inputs above ``max_bytes`` (default 200 MB) are refused, before reading the rest of them. The
  limit also applies to the *decompressed* size of a gzip file, so a small gzip bomb is refused too.
- A diff file says nothing reliable about revisions (``index abc..def`` lines are abbreviated
  blob ids, not commits), so ``base``/``head`` stay None; there is no checkout (``workdir``) and
  no way to read files at head (``read_head``).
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import BinaryIO

from reviewbot.diff.parse import parse_diff_bytes
from reviewbot.errors import DiffError, InputError, UsageError
from reviewbot.model import ChangeSet

__all__ = ["DEFAULT_MAX_BYTES", "DiffFileSource"]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
STDIN_NAME = "<stdin>"
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def _size(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{n} bytes"


class DiffFileSource:
    """``path`` is a file name, or ``"-"`` for ``stdin`` (default: the process's binary stdin)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        stdin: BinaryIO | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if max_bytes <= 0:
            raise UsageError(f"max_bytes must be positive, got {max_bytes}")
        self.path = os.fspath(path)
        self.stdin = stdin
        self.max_bytes = max_bytes

    @property
    def name(self) -> str:
        return STDIN_NAME if self.path == "-" else self.path

    def load(self) -> ChangeSet:
        data = self._read_stdin() if self.path == "-" else self._read_file()
        data = self._gunzip(data)
        files = parse_diff_bytes(data, name=self.name)
        return ChangeSet(files=files, description=f"diff file {self.name}")

    # ------------------------------------------------------------------------------------ reading

    def _too_big(self) -> InputError:
        return InputError(f"{self.name}: larger than the {_size(self.max_bytes)} limit for a diff")

    def _read_stdin(self) -> bytes:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        try:
            if stream.isatty():
                raise UsageError("the diff is read from stdin, but stdin is a terminal: pipe a diff in")
        except (AttributeError, ValueError, OSError):  # closed or odd streams: just try to read
            pass
        try:
            data = stream.read(self.max_bytes + 1)
        except OSError as exc:
            raise InputError(f"{STDIN_NAME}: cannot read ({exc.strerror or exc})") from exc
        if isinstance(data, str):  # a text stream was passed by mistake
            data = data.encode("utf-8", errors="surrogateescape")
        if len(data) > self.max_bytes:
            raise self._too_big()
        return data

    def _read_file(self) -> bytes:
        name = self.path
        try:
            if os.path.isdir(name):
                raise InputError(f"{name}: is a directory")
            with open(name, "rb") as fh:
                data = fh.read(self.max_bytes + 1)  # a FIFO (<(git diff)) has no size to stat
        except FileNotFoundError as exc:
            raise InputError(f"{name}: no such file") from exc
        except IsADirectoryError as exc:
            raise InputError(f"{name}: is a directory") from exc
        except PermissionError as exc:
            raise InputError(f"{name}: permission denied") from exc
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from exc
        if len(data) > self.max_bytes:
            raise self._too_big()
        return data

    def _gunzip(self, data: bytes) -> bytes:
        """Decompress gzip layers ourselves, stopping at ``max_bytes`` of output (gzip bombs)."""
        while data[:2] == _GZIP_MAGIC:
            d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out = bytearray()
            rest = data
            try:
                while True:
                    out += d.decompress(rest, self.max_bytes + 1 - len(out))
                    if len(out) > self.max_bytes:
                        raise self._too_big()
                    rest = d.unconsumed_tail
                    if d.eof:
                        # concatenated gzip members (gzip -c a b): carry on with the next one
                        rest = d.unused_data
                        if rest[:2] != _GZIP_MAGIC:
                            break
                        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                        continue
                    if not rest:
                        raise DiffError(f"{self.name}: corrupt gzip data (truncated)")
            except zlib.error as exc:
                raise DiffError(f"{self.name}: corrupt gzip data ({exc})") from exc
            data = bytes(out)
        return data
