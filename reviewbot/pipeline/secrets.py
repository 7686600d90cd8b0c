"""Secrets in the change: found with detect-secrets on the added lines, redacted before any route
sees the change, reported as findings that never repeat them.

    found = scan(cs)                 # detect-secrets' line plugins and filters, added lines only
    cs = redacted(cs, found)         # every line and head read carries REDACTED in their place
    found_findings(found)            # one error finding per line: rule secrets/<type>
    scrub(findings, found)           # no finding (a linter's, the model's) quotes a value

The pipeline runs this once, before planning: the work items, the prompts and the files the routes
read at head hold the placeholder; the Result's ChangeSet is the redacted one, so reporters that
show code show the placeholder too. Linters run on the files as they are (they never reach a model)
and their messages are scrubbed. A private key block is redacted from its BEGIN line to its END line.
A credential in a URL whose password is a documented placeholder (``user:pass@``) or whose host is
reserved for examples (``example.com``) is not a secret (``placeholder``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import unquote

from ..model import ChangeSet, FileDiff, Finding, LineKind, Location, Severity, Side
from ..redact import REDACTED

__all__ = ["Secret", "found_findings", "placeholder", "redacted", "scan", "scrub"]

_LOCK = threading.Lock()  # detect-secrets keeps its settings in module state
_GENERIC = ("High Entropy", "Keyword")  # kinds named only when nothing more precise matched


@dataclass(frozen=True, slots=True)
class Secret:
    path: str
    line: int  # in the new file
    kind: str  # detect-secrets' type: "AWS Access Key", ...
    value: str  # never leaves this module but as a pattern to replace


def _scan_lines(path: str, lines: list[tuple[int, str]]) -> list[tuple[int, str, str]]:
    from detect_secrets.core.scan import _process_line_based_plugins  # the per-file step of scan_diff
    from detect_secrets.settings import default_settings

    with _LOCK, default_settings():
        return [
            (s.line_number, s.type, s.secret_value or "") for s in _process_line_based_plugins(lines, path)
        ]


# Placeholders of documentation and test fixtures: `https://user:pass@proxy`, `password@example.com`.
_PLACEHOLDER_WORDS = frozenset(
    {"pass", "password", "passwd", "pwd", "secret", "changeme", "example", "xxx", "dummy", "test", "foo"}
)
_PLACEHOLDER_FORM = re.compile(r"x+|\*+|<[^<>]*>|\{[^{}]*\}|\$\{?\w+\}?|\.\.\.")
_EXAMPLE_HOST = re.compile(
    r"@(?:[\w.-]+\.)?(?:example\.(?:com|org|net)|[\w-]+\.(?:example|test|invalid|localhost)|localhost)\b",
    re.I,
)


def placeholder(kind: str, value: str, text: str) -> bool:
    """Whether a credential in a URL is a documented placeholder, not a secret: its password is a
    placeholder word or form (``pass``, ``password``, ``<password>``, ``${PASSWORD}``), or its host is a
    name reserved for examples (example.com, *.test, *.invalid, localhost)."""
    if kind != "Basic Auth Credentials":
        return False
    words = [w for w in re.split(r"[^\w*<>{}$.]+", unquote(value).casefold()) if w]
    if words and all(w in _PLACEHOLDER_WORDS or _PLACEHOLDER_FORM.fullmatch(w) for w in words):
        return True
    return _EXAMPLE_HOST.search(text) is not None


def scan(cs: ChangeSet) -> list[Secret]:
    """The secrets on the added lines of ``cs``, one per line (the most precise kind)."""
    out: list[Secret] = []
    for fd in cs.files:
        if fd.new_path is None or fd.is_binary:
            continue
        added = [(ln.new_no, ln.text) for h in fd.hunks for ln in h.lines if ln.kind is LineKind.ADDED]
        by_line: dict[int, list[tuple[str, str]]] = {}
        text_at = dict(added)
        for n, kind, value in _scan_lines(fd.new_path, [(n, t) for n, t in added if n is not None]):
            if value and not placeholder(kind, value, text_at.get(n, "")):
                by_line.setdefault(n, []).append((kind, value))
        block = False
        for n, text in added:
            assert n is not None
            if "PRIVATE KEY-----" in text and "BEGIN" in text:
                block = True
            hits = by_line.get(n, [])
            if block and not hits:
                hits = [("Private Key", text.strip())]  # the key's body, up to its END line
            if block and "-----END" in text:
                block = False
            if hits:
                precise = [h for h in hits if not any(g in h[0] for g in _GENERIC)] or hits
                values = sorted({v for _, v in hits}, key=len, reverse=True)
                out.extend(Secret(fd.new_path, n, precise[0][0], v) for v in values)
    return out


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    vs = sorted({v for v in values if v}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in vs)) if vs else None


def _redact_line(text: str, values: Sequence[str]) -> str:
    p = _pattern(values)
    return p.sub(REDACTED, text) if p is not None else text


def redacted(cs: ChangeSet, found: Sequence[Secret]) -> ChangeSet:
    """``cs`` with each secret replaced by REDACTED on its line, in the hunks and in head reads."""
    if not found:
        return cs
    at: dict[tuple[str, int], list[str]] = {}
    for s in found:
        at.setdefault((s.path, s.line), []).append(s.value)

    def fix_file(fd: FileDiff) -> FileDiff:
        if not any(p == fd.new_path for p, _ in at):
            return fd
        hunks = tuple(
            replace(
                h,
                lines=tuple(
                    replace(ln, text=_redact_line(ln.text, at[(fd.new_path, ln.new_no)]))
                    if ln.new_no is not None and (fd.new_path, ln.new_no) in at
                    else ln
                    for ln in h.lines
                ),
            )
            for h in fd.hunks
        )
        return replace(fd, hunks=hunks)

    inner = cs.read_head

    def read_head(path: str) -> str | None:
        text = inner(path) if inner is not None else None
        if text is None or not any(p == path for p, _ in at):
            return text
        lines = text.split("\n")
        for (p, n), values in at.items():
            if p == path and 0 < n <= len(lines):
                lines[n - 1] = _redact_line(lines[n - 1], values)
        return "\n".join(lines)

    return replace(cs, files=tuple(fix_file(fd) for fd in cs.files), read_head=read_head if inner else None)


def _slug(kind: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")


# detect-secrets' heuristics: a long hex digest or `password = "dev"` in a test is as likely as a real
# key, and `https://user:pass@host` is most often a documentation example, so these are warnings;
# a detector of a known key format (AWS, GitHub, private key, ...) is an error.
_GUESSES = frozenset(
    {"Hex High Entropy String", "Base64 High Entropy String", "Secret Keyword", "Basic Auth Credentials"}
)


def found_findings(found: Sequence[Secret]) -> list[Finding]:
    """One finding per line with a secret; the message names the kind, never the value. Known key
    formats are errors; entropy and keyword guesses are warnings (so they do not fail CI alone)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for s in found:
        if (s.path, s.line) in seen:
            continue
        seen.add((s.path, s.line))
        out.append(
            Finding(
                Location(s.path, Side.RIGHT, s.line),
                Severity.WARNING if s.kind in _GUESSES else Severity.ERROR,
                f"a secret ({s.kind}) is added on this line: remove it, keep it out of the history, and "
                "rotate it (anyone who can read the change has it)",
                f"secrets/{_slug(s.kind)}",
                "lint",
                category="security",
                source="detect-secrets",
            )
        )
    return out


def scrub(findings: Sequence[Finding], found: Sequence[Secret]) -> list[Finding]:
    """``findings`` with every secret value in a message or suggestion replaced by REDACTED."""
    p = _pattern(s.value for s in found)
    if p is None:
        return list(findings)
    out = []
    for f in findings:
        msg = p.sub(REDACTED, f.message)
        sug = p.sub(REDACTED, f.suggestion) if f.suggestion is not None else None
        out.append(f if (msg, sug) == (f.message, f.suggestion) else replace(f, message=msg, suggestion=sug))
    return out
