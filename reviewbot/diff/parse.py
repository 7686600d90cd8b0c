"""Unified diff text -> frozen ``FileDiff`` tuples. The only module of reviewbot that imports unidiff.

How it works, and why: unidiff parses the text once in its ``metadata_only`` mode, which validates
every hunk against its header and gives the file-level facts (paths, git modes, binary markers,
rename headers) about 6x faster than its full mode. The hunk bodies are then read by a tight loop
over ``text.split("\\n")``, starting at the line where unidiff says each file begins, and turned
straight into our slots dataclasses. unidiff splits lines on ``"\\n"`` only (``io.StringIO``), so the
two views of the text agree line for line.

Policies:
- Paths lose their git prefixes (``a/``, ``b/``, and the mnemonic ``c/ i/ o/ w/`` and ``1/ 2/``
  pairs) only when both sides carry one; C-quoted git names are unquoted; ``/dev/null`` is None.
- A file is ADDED/DELETED only on ``/dev/null`` (git writes it for new and deleted files);
  RENAMED/COPIED from git's ``rename``/``copy`` headers (or a ``diff --git`` header whose paths
  differ). A non-git diff whose two names differ (``diff -u x.orig x``) is MODIFIED.
- A trailing ``"\\r"`` is removed from every line's text (CRLF diffs); a lone CR inside a line stays.
- Anything that is not a unified diff raises ``DiffError("<name>: <reason>")`` on one line: empty
  input, context/ed/normal/RCS diffs (named as such), hunks whose line counts disagree with their
  header (including surplus ``+``/``-`` lines right after a complete hunk, which unidiff would
  silently drop), and every error of unidiff's. No other exception escapes ``parse_diff``.
- ``parse_diff_bytes`` gunzips (magic ``1f 8b``), honours a UTF-8/UTF-16 byte-order mark, and
  decodes UTF-8 with ``errors="replace"``: an undecodable byte becomes U+FFFD, which keeps line
  numbers intact and keeps every string encodable for the JSON we post (surrogateescape would not).
"""

from __future__ import annotations

import codecs
import gc
import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from unidiff import PatchSet
from unidiff.constants import (
    RE_DIFF_GIT_HEADER,
    RE_DIFF_GIT_HEADER_NO_PREFIX,
    RE_DIFF_GIT_HEADER_URI_LIKE,
    RE_HUNK_HEADER,
)
from unidiff.errors import UnidiffParseError

from reviewbot.errors import DiffError
from reviewbot.model import FileDiff, FileStatus, Hunk, Line, LineKind

__all__ = ["parse_diff", "parse_diff_bytes"]

_DEV_NULL = "/dev/null"
_GZIP_MAGIC = b"\x1f\x8b"
_SOURCE_PREFIXES = frozenset("aciow1")
_TARGET_PREFIXES = frozenset("biw2")
_MAX_REASON = 160

_RE_HUNK_LIKE = re.compile(r"^@@ -.*$", re.MULTILINE)
_RE_SIMILARITY = re.compile(r"^(?:similarity|copy similarity) index (\d+)%")
_RE_NORMAL = re.compile(r"^\d+(?:,\d+)?[acd]\d+(?:,\d+)?$", re.MULTILINE)
_RE_ED = re.compile(r"^\d+(?:,\d+)?[acd]$", re.MULTILINE)
_RE_RCS = re.compile(r"^[ad]\d+ \d+$", re.MULTILINE)
_RE_CONTEXT = re.compile(r"^\*\*\*\*\*\*\*\*\*\*\*\*\*\*\*", re.MULTILINE)
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class _Mismatch(Exception):
    """Our reading of a hunk disagrees with unidiff's; reported as a DiffError."""


def parse_diff(text: str, *, name: str = "<diff>") -> tuple[FileDiff, ...]:
    """Parse a unified diff (git, hg, svn, bzr, plain ``diff -u``) into ``FileDiff`` values.

    Raises ``DiffError`` (and nothing else) when ``text`` is not a valid unified diff.
    """
    if not isinstance(text, str):
        raise DiffError(f"{name}: expected text, got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    if not text or text.isspace():
        raise DiffError(f"{name}: empty diff")
    if "\r\n" in text:  # CRLF: unidiff would keep the '\r' in the paths of the file headers
        text = text.replace("\r\n", "\n")
    if (bad := _bad_hunk_header(text)) is not None:
        raise DiffError(f"{name}: malformed hunk header {_one_line(bad)!r}")
    try:
        patch = PatchSet(text, metadata_only=True)
    except UnidiffParseError as exc:
        raise DiffError(f"{name}: {_one_line(str(exc))}") from exc
    except Exception as exc:  # unidiff on hostile input: never let it escape as anything else
        raise DiffError(f"{name}: unreadable diff ({type(exc).__name__}: {_one_line(str(exc))})") from exc
    if not patch:
        raise DiffError(f"{name}: {_why_not_unified(text)}")
    try:
        with _gc_paused():
            return _convert(patch, text)
    except _Mismatch as exc:
        raise DiffError(f"{name}: {exc}") from exc
    except Exception as exc:
        raise DiffError(f"{name}: malformed diff ({type(exc).__name__}: {_one_line(str(exc))})") from exc


def parse_diff_bytes(data: bytes, *, name: str = "<diff>") -> tuple[FileDiff, ...]:
    """Parse raw bytes: gzip-compressed or not, UTF-8 (undecodable bytes become U+FFFD) or UTF-16 with BOM."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DiffError(f"{name}: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise DiffError(f"{name}: corrupt gzip data ({_one_line(str(exc))})") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8", errors="replace")
    return parse_diff(text, name=name)


# ---------------------------------------------------------------------------------------- convert


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many small acyclic objects (the Lines of a large diff).

    Without it CPython 3.11 runs full collections over the growing heap again and again: a third
    of the conversion time on an 11 MB diff. The previous state is restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _convert(patch: PatchSet, text: str) -> tuple[FileDiff, ...]:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" in text:  # CRLF: drop each line's trailing '\r' (a lone CR inside a line stays)
        lines = [ln[:-1] if ln[-1:] == "\r" else ln for ln in lines]
    return tuple(_convert_file(pf, lines) for pf in patch)


def _convert_file(pf, lines: list[str]) -> FileDiff:  # pf: unidiff.PatchedFile
    info = [ln.rstrip("\r\n") for ln in (pf.patch_info or ())]
    header = _git_header_paths(info[0]) if info and info[0].startswith("diff --git ") else None
    src, tgt = pf.source_file, pf.target_file
    strip = _has_prefixes(*(header or (src, tgt)))
    old_path = None if src == _DEV_NULL else _clean_path(src, strip)
    new_path = None if tgt == _DEV_NULL else _clean_path(tgt, strip)

    status = None
    similarity = None
    for ln in info:
        if ln.startswith("rename from "):
            status, old_path = FileStatus.RENAMED, _unquote(ln[12:])
        elif ln.startswith("rename to "):
            status, new_path = FileStatus.RENAMED, _unquote(ln[10:])
        elif ln.startswith("copy from "):
            status, old_path = FileStatus.COPIED, _unquote(ln[10:])
        elif ln.startswith("copy to "):
            status, new_path = FileStatus.COPIED, _unquote(ln[8:])
        elif (m := _RE_SIMILARITY.match(ln)) is not None:
            similarity = int(m.group(1))
    if old_path is None and new_path is None:
        raise _Mismatch("a file whose old and new paths are both /dev/null")
    if old_path is None:
        status = FileStatus.ADDED
    elif new_path is None:
        status = FileStatus.DELETED
    elif status is None:
        # git names both sides of a rename; a plain `diff -u old new` names two files, not a rename
        renamed = header is not None and old_path != new_path
        status = FileStatus.RENAMED if renamed else FileStatus.MODIFIED

    hunks = _read_hunks(pf, lines) if len(pf) else ()
    return FileDiff(
        old_path=old_path,
        new_path=new_path,
        status=status,
        hunks=hunks,
        is_binary=bool(pf.is_binary_file),
        old_mode=pf.source_mode,
        new_mode=pf.target_mode,
        similarity=similarity,
    )


def _read_hunks(pf, lines: list[str]) -> tuple[Hunk, ...]:
    """Read the bodies of ``pf``'s hunks from ``lines``, starting where unidiff says the file begins."""
    path = pf.path
    nlines = len(lines)
    i = (pf.diff_line_no or 1) - 1
    hunks = []
    for number, uh in enumerate(pf, 1):
        while True:  # find this hunk's header: only git/--- /+++ headers lie between hunks
            if i >= nlines:
                raise _Mismatch(f"{path}: hunk {number} header not found")
            raw = lines[i]
            i += 1
            if raw.startswith("@@ -") and (m := RE_HUNK_HEADER.match(raw)) is not None:
                break
        o_start, o_len, n_start, n_len = (int(g) if g is not None else 1 for g in m.groups()[:4])
        if (o_start, o_len, n_start, n_len) != (
            uh.source_start,
            uh.source_length,
            uh.target_start,
            uh.target_length,
        ):
            raise _Mismatch(f"{path}: hunk {number} header disagrees: {raw!r}")
        body, i = _read_body(lines, i, o_start, o_len, n_start, n_len)
        if body is None:
            raise _Mismatch(f"{path}: hunk {number} does not match its header")
        while i < nlines and lines[i][:1] == "\\":
            i += 1
        if i < nlines and _is_surplus_line(lines[i]):
            raise _Mismatch(
                f"hunk {number} of {path} is longer than its header "
                f"'@@ -{o_start},{o_len} +{n_start},{n_len} @@' says: surplus line {lines[i][:60]!r}"
            )
        section = m.group(5).rstrip("\r")
        hunks.append(Hunk(o_start, o_len, n_start, n_len, section, body))
    return tuple(hunks)


# Line is a frozen slots dataclass whose __init__ only stores its four fields (test_parse checks
# this); setting the slots through their descriptors builds the same object at half the cost,
# which is most of the conversion time on large diffs.
_new = object.__new__
_set_kind = Line.__dict__["kind"].__set__
_set_old = Line.__dict__["old_no"].__set__
_set_new = Line.__dict__["new_no"].__set__
_set_text = Line.__dict__["text"].__set__


def _read_body(
    lines: list[str], i: int, o: int, o_len: int, n: int, n_len: int
) -> tuple[tuple[Line, ...] | None, int]:
    """The hunk body starting at ``lines[i]``: its Lines (None when malformed) and the next index."""
    added, removed, context = LineKind.ADDED, LineKind.REMOVED, LineKind.CONTEXT
    new, set_kind, set_old, set_new, set_text = _new, _set_kind, _set_old, _set_new, _set_text
    line_cls = Line
    o_end, n_end = o + o_len, n + n_len
    body: list[Line] = []
    append = body.append
    while o < o_end or n < n_end:
        # at most this many lines remain (context lines count for both sides)
        seg = lines[i : i + (o_end - o) + (n_end - n)]
        if not seg:
            return None, i
        markers = 0
        before = len(body)
        for raw in seg:
            c = raw[:1]
            ln = new(line_cls)
            if c == "+":
                set_kind(ln, added)
                set_old(ln, None)
                set_new(ln, n)
                n += 1
            elif c == "-":
                set_kind(ln, removed)
                set_old(ln, o)
                set_new(ln, None)
                o += 1
            elif c == " " or c == "" or c == "\r":  # a bare CR line: unidiff reads it as empty context
                set_kind(ln, context)
                set_old(ln, o)
                set_new(ln, n)
                o += 1
                n += 1
            elif c == "\\":  # '\ No newline at end of file'
                markers += 1
                continue
            else:
                return None, i
            set_text(ln, raw[1:])
            append(ln)
            if o >= o_end and n >= n_end:
                break
        i += len(body) - before + markers
    if o != o_end or n != n_end:
        return None, i
    return tuple(body), i


def _is_surplus_line(raw: str) -> bool:
    """A '+'/'-' line right after a complete hunk that is not a file header nor a mail signature."""
    c = raw[:1]
    if c == "+":
        return not raw.startswith("+++ ")
    if c == "-":
        return not raw.startswith("--- ") and raw.rstrip() != "--"
    return False


# ------------------------------------------------------------------------------------------ paths


def _git_header_paths(line: str) -> tuple[str, str] | None:
    for rx in (RE_DIFF_GIT_HEADER, RE_DIFF_GIT_HEADER_URI_LIKE, RE_DIFF_GIT_HEADER_NO_PREFIX):
        m = rx.match(line)
        if m is not None:
            return m.group("source"), m.group("target")
    return None


def _has_prefixes(src: str | None, tgt: str | None) -> bool:
    """True when both sides carry a git prefix pair (a/ b/, c/ w/, i/ w/, o/ w/, 1/ 2/, ...)."""
    s = None if src in (None, _DEV_NULL) else _unquote(src)
    t = None if tgt in (None, _DEV_NULL) else _unquote(tgt)
    if s is None and t is None:
        return False
    s_ok = s is None or (s[1:2] == "/" and s[:1] in _SOURCE_PREFIXES)
    t_ok = t is None or (t[1:2] == "/" and t[:1] in _TARGET_PREFIXES)
    return s_ok and t_ok


def _clean_path(path: str, strip: bool) -> str:
    path = _unquote(path)
    return path[2:] if strip and path[1:2] == "/" else path


def _unquote(path: str) -> str:
    """Undo git's C-style quoting: ``"a/caf\\303\\251"`` -> ``a/café``. Unquoted paths pass through."""
    if len(path) < 2 or path[0] != '"' or path[-1] != '"':
        return path
    body = path[1:-1]
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            octal = body[i + 1 : i + 4]
            if len(octal) == 3 and all(c in "01234567" for c in octal):
                out.append(int(octal, 8) & 0xFF)
                i += 4
                continue
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                i += 2
                continue
        out += ch.encode("utf-8", errors="replace")
        i += 1
    return out.decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------------------- errors


def _bad_hunk_header(text: str) -> str | None:
    """The first ``@@ -`` line after a file header that is not a hunk header (unidiff skips it)."""
    start = text.find("\n+++ ")
    if start < 0:
        return None
    for m in _RE_HUNK_LIKE.finditer(text, start):
        if RE_HUNK_HEADER.match(m.group(0)) is None:
            return m.group(0)
    return None


def _looks_binary(head: str) -> bool:
    """NUL bytes, or many control characters and undecodable bytes: not text at all."""
    sample = head[:4096]
    odd = sum(1 for c in sample if c == "\ufffd" or (ord(c) < 32 and c not in "\t\n\r\f\x1b"))
    return "\x00" in sample or odd > len(sample) // 20


def _why_not_unified(text: str) -> str:
    """Name the diff flavour when the text has no unified file headers at all."""
    head = text[:200_000]
    if _looks_binary(head):
        return "binary data, not a diff"
    if "\x1b[" in head:
        return "contains ANSI colour escapes: make the diff with --no-color"
    if _RE_CONTEXT.search(head) and "\n*** " in "\n" + head:
        return "looks like a context diff (diff -c), not a unified diff"
    if _RE_NORMAL.search(head) and re.search(r"^[<>] ", head, re.MULTILINE):
        return "looks like a normal diff (diff without -u), not a unified diff"
    if _RE_ED.search(head) and re.search(r"^\.$", head, re.MULTILINE):
        return "looks like an ed-style diff (diff -e), not a unified diff"
    if _RE_RCS.search(head):
        return "looks like an RCS-style diff (diff -n), not a unified diff"
    return "no unified diff file headers ('--- a/x' / '+++ b/x' or 'diff --git') found"


def _one_line(message: str) -> str:
    message = message.strip().replace("\r", "\\r").replace("\n", "\\n")
    return message if len(message) <= _MAX_REASON else message[: _MAX_REASON - 3] + "..."
