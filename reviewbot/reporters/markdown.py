"""A Markdown report for PR summaries and ``$GITHUB_STEP_SUMMARY``.

Everything that comes from the change (messages, reasons, notes, paths) is treated as untrusted:

- token-like runs (``reviewbot.redact``) are replaced by ``[redacted]``; a suggestion holding one
  is not shown;
- ``&``, ``<`` and ``>`` become entities, so no raw HTML passes and no ``<!-- reviewbot:... -->``
  marker can be forged by a message (only this module writes markers);
- backslashes, brackets and pipes are backslash-escaped, so no image (tracking pixel) is loaded, no
  link of any kind forms (inline ``[a](u)``, reference ``[a][1]``, shortcut ``[a]``, a ``[1]: u``
  definition, a footnote) and no table forms;
- ``://`` and ``www.`` get a zero-width space, so GitHub does not autolink a bare URL;
- ``@name`` gets a zero-width space after the ``@``, so a message cannot ping people (nor form an
  e-mail autolink);
- line breaks (``\n``, ``\r``, form feeds, U+2028 and the like) become spaces, so untrusted text
  never forms a line of its own (``escape(..., lines=True)`` keeps them for an answer's paragraphs,
  and defuses every line); a line that would begin with ``/`` gets a backslash, so neither GitLab
  (quick actions: ``/approve``, ``/merge``) nor a bot on GitHub reads it as a command;
- references get a zero-width space after their sigil, so they do not link or notify: issues and
  merge requests (``#1``, ``owner/repo#2``, ``!3``, ``GH-4``), labels (``~bug``), milestones
  (``%v1``), snippets (``$5``) and epics (``&6``);
- bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C) are removed, so
  text cannot be shown in an order other than the one it is read in; a suggestion holding one is
  not shown;
- a suggestion holding ``<!--``, a bidi control or a line that begins with ``/`` and a letter is not
  shown, and ``<!--`` in a path is broken, since code cannot be escaped;
- a line that would open a code fence, a heading, a rule, a block quote or a table's delimiter
  row is escaped, also after
  list markers (``- ```​`` would open a fence inside a list item), and every run of three or more
  backticks or tildes is escaped, so a message cannot swallow or forge the rest of the report;
- paths go in code spans whose backtick run is longer than any run in the path, and suggestions in
  fences longer than any backtick run in the code.

The body stays under ``limit`` characters (GitHub's 65,536 by default): findings that do not fit
are counted in a "... N more findings not shown" line; the not-reviewed list is shortened the
same way, but its section, the notes and the statistics are always present.
"""

from __future__ import annotations

import re
from typing import TextIO

from ..merge import fingerprint
from ..model import Finding, Result, Severity, Side
from ..redact import redact
from .terminal import file_order, stats_line, summary

LIMIT = 65_536
MARKER = "<!-- reviewbot:{} -->"

_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")
_AUTOLINK = re.compile(r"(?i)(://|\bwww(?=\.))")
_FENCE_RUN = re.compile(r"`{3,}|~{3,}")
_PUNCT = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]", "|": "\\|"})
_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# a sigil that starts a reference on GitHub or GitLab: issues, merge requests, labels, milestones,
# snippets, epics (``&`` before entities are made, so ``&amp;`` is not touched)
_REFERENCE = re.compile(r"[#!$&](?=\d)|[~%](?=[\w\"'])|\bGH-(?=\d)")
_COMMAND = re.compile(r"^(\s*)/")
_COMMAND_LINE = re.compile(r"^/[A-Za-z]", re.MULTILINE)
# after any list markers: fences, ATX headings, thematic breaks and setext underlines
_BLOCK_START = re.compile(
    r"^((?:\s{0,3}(?:[-*+]|\d{1,9}[.)])(?:\s+|$))*\s{0,3})"
    r"(`{3,}|~{3,}|#{1,6}(?=\s|$)|[-*_](?:\s*[-*_]){2,}\s*$|=+\s*$|-+\s*$)"
)
_TABLE_RULE = re.compile(r"^[\s|:\\-]*-[\s|:\\-]*$")  # a table's delimiter row, pipes escaped or not
MAX_MESSAGE = 4_000
WALKTHROUGH_MIN = 800  # characters: below this a quarter of the limit holds no useful walkthrough
MAX_SUGGESTION = 8_000
ICON = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.INFO: "🔵"}


def escape(text: str, *, lines: bool = False) -> str:
    """Untrusted text made inert (see the module docstring), on one line; with ``lines`` its line
    breaks are kept (as ``\\n``) and each line is defused the same way."""
    text = _BIDI.sub("", redact(text)).translate(_PUNCT)
    text = _REFERENCE.sub(lambda m: m.group(0) + "\u200b", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _AUTOLINK.sub(lambda m: m.group(1)[0] + "\u200b" + m.group(1)[1:], text)
    text = _MENTION.sub("@\u200b", text)
    out = []
    for line in _BREAK.split(text) if lines else [_BREAK.sub(" ", text)]:
        line = _FENCE_RUN.sub(lambda r: "".join("\\" + c for c in r.group(0)), line)
        m = _BLOCK_START.match(line)
        if m:
            line = m.group(1) + "\\" + line[len(m.group(1)) :]
        elif _TABLE_RULE.match(line):
            line = "\\" + line
        out.append(_COMMAND.sub(r"\1\\/", line))
    return "\n".join(out)


def escape_cell(text: str) -> str:
    return escape(" ".join(text.split()))


def _longest_run(text: str, ch: str) -> int:
    runs = re.findall(re.escape(ch) + "+", text)
    return max((len(r) for r in runs), default=0)


def code_span(text: str) -> str:
    """`text` as inline code that no backtick inside can close early; newlines become spaces.

    Entities are not decoded in code, so an HTML comment opener is broken with a zero-width space
    instead: a raw ``<!--`` in the body would let a path forge a marker for a text search.
    """
    text = _BIDI.sub("", _BREAK.sub(" ", text)).replace("<!--", "<!\u200b--")
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(code: str, info: str = "") -> str:
    """A fenced block holding `code`; the fence is longer than any backtick run in it."""
    ticks = "`" * max(3, _longest_run(code, "`") + 1)
    return f"{ticks}{info}\n{code.rstrip(chr(10))}\n{ticks}"


def suggestion_withheld(code: str) -> str | None:
    """Why a suggestion is not shown (a line for the body), or None: the one check every host's
    bodies use. Code cannot be escaped, so a raw comment opener (it could forge a marker), a
    credential-like run, a bidi control (the code would read otherwise than it runs) or a line that
    begins with ``/`` and a letter (a GitLab quick action: GitLab reads commands in a fence whose
    closing line is longer than three backticks) leaves it out."""
    if len(code) > MAX_SUGGESTION:
        return f"_A suggestion of {len(code)} characters is not shown (too long)._"
    if "<!--" in code:
        return "_The suggestion is not shown: it contains an HTML comment._"
    if redact(code) != code:
        return "_The suggestion is not shown: it holds what looks like a credential._"
    if _BIDI.search(code):
        return "_The suggestion is not shown: it holds a bidirectional control character._"
    if _COMMAND_LINE.search(_BREAK.sub("\n", code)):
        return "_The suggestion is not shown: a line of it begins with `/`, which GitLab reads as a command._"
    return None


def plain(text: str) -> str:
    """Untrusted text for a field shown as plain text (a check run's annotation): credential-like
    runs redacted, bidi controls removed."""
    return _BIDI.sub("", redact(text))


def _lines(f: Finding) -> str:
    loc = f.location
    return f"{loc.first}-{loc.line}" if loc.first != loc.line else str(loc.line)


def where(f: Finding) -> str:
    """The finding's path and lines as a code span, and whether they are removed lines."""
    removed = " (removed lines)" if f.location.side is Side.LEFT else ""
    return code_span(f"{f.location.path}:{_lines(f)}") + removed


def route(f: Finding) -> str:
    """The route that found it, escaped, with the router's probability where it gave one."""
    text = f.route if f.route_probability is None else f"{f.route} ({f.route_probability:.2f})"
    return escape(text)


def message(f: Finding) -> str:
    """The finding's message, escaped, cut at ``MAX_MESSAGE`` characters with a count of the rest."""
    text = f.message
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + f" ... ({len(f.message) - MAX_MESSAGE} more characters not shown)"
    return escape(text)


def _finding_block(f: Finding, markers: bool) -> str:
    loc = f.location
    parts = [
        f"{ICON[f.severity]} **{f.severity.value}** {where(f)} · {code_span(f.rule)} · route {route(f)}",
        "",
        message(f),
    ]
    if f.suggestion is not None:
        withheld = suggestion_withheld(f.suggestion)
        parts += ["", withheld or fence(f.suggestion, "suggestion" if loc.side is Side.RIGHT else "")]
    if markers:
        parts += ["", MARKER.format(fingerprint(f))]
    return "\n".join(parts) + "\n"


def _fit(blocks: list[str], budget: int, more: str) -> list[str]:
    """As many blocks as fit in `budget` characters, then a line counting the rest."""
    out: list[str] = []
    used = 0
    for i, b in enumerate(blocks):
        rest = len(blocks) - i - 1
        reserve = len(more.format(n=len(blocks))) + 2 if rest else 0
        if used + len(b) + 1 + reserve > budget:
            out.append(more.format(n=len(blocks) - i) + "\n")
            return out
        out.append(b)
        used += len(b) + 1
    return out


def _header(result: Result, markers: bool) -> str:
    lines = [MARKER.format("summary")] if markers else []
    lines += [
        "## reviewbot review",
        "",
        f"**{summary(result)}** in {escape(' '.join(result.changeset.description.split()))}",
    ]
    if result.unanchored:
        lines.append(f"- {len(result.unanchored)} not placed on the diff (listed below)")
    lines.append(f"- {len(result.skipped)} not reviewed (listed below)")
    by_path: dict[str, dict[Severity, int]] = {}
    for f in result.findings:
        counts = by_path.setdefault(f.location.path, {s: 0 for s in Severity})
        counts[f.severity] += 1
    if by_path:
        lines += ["", "| file | errors | warnings | info |", "| --- | ---: | ---: | ---: |"]
        for path in file_order(result):
            c = by_path.get(path)
            if c:
                cells = [c[Severity.ERROR], c[Severity.WARNING], c[Severity.INFO]]
                lines.append(
                    f"| {code_span(path).replace('|', chr(92) + '|')} | " + " | ".join(map(str, cells)) + " |"
                )
    return "\n".join(lines) + "\n"


def _tail(result: Result, budget: int) -> str:
    parts: list[str] = []
    if result.unanchored:
        parts.append("### Not placed on the diff\n")
        blocks = [
            f"- **{u.finding.severity.value}** "
            f"{code_span(u.finding.location.path + ':' + _lines(u.finding))} "
            f"{code_span(u.finding.rule)}: {escape(u.reason)}: {escape(' '.join(u.finding.message.split()))}"
            for u in result.unanchored
        ]
        parts += _fit(blocks, budget // 3, "- ... {n} more not shown")
        parts.append("")
    parts.append("### Not reviewed\n")
    if result.skipped:
        blocks = [
            f"- {code_span(s.path)}: {escape(' '.join(s.reason.split()))} ({escape(s.stage)})"
            for s in result.skipped
        ]
        parts += _fit(blocks, budget // 3, "- ... {n} more not shown")
    else:
        parts.append("Nothing: every planned file was reviewed.")
    parts.append("")
    if result.notes:
        parts.append("### Notes\n")
        blocks = [f"- {escape(' '.join(n.split()))}" for n in result.notes]
        parts += _fit(blocks, budget // 6, "- ... {n} more notes not shown")
        parts.append("")
    parts.append(f"<sub>{escape(stats_line(result))}</sub>")
    return "\n".join(parts) + "\n"


def walkthrough_section(result: Result, *, limit: int) -> str:
    """The walkthrough of a review's change, escaped here (its not-reviewed list is the review's):
    the section that reports and summary comments open with."""
    from ..walkthrough import walk
    from .walkthrough import render_markdown

    return render_markdown(walk(result.changeset, result.skipped), code=code_span, escape=escape, limit=limit)


def render(result: Result, *, limit: int = LIMIT, markers: bool = True, walkthrough: bool = True) -> str:
    """The whole report; never longer than `limit` characters. It opens with the walkthrough of the
    change unless ``walkthrough`` is False (a summary comment puts its own at its top)."""
    header = _header(result, markers)
    if walkthrough and limit // 4 >= WALKTHROUGH_MIN:
        header += "\n" + walkthrough_section(result, limit=limit // 4)
    elif walkthrough:
        header += "\n_The walkthrough is left out: the report's size limit is too small for it._\n"
    tail = _tail(result, limit // 2)
    budget = limit - len(header) - len(tail) - 64
    by_path: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_path.setdefault(f.location.path, []).append(f)
    blocks: list[str] = []
    for path in file_order(result):
        findings = sorted(by_path.get(path, []), key=lambda f: (f.location.line, f.location.side.value))
        for i, f in enumerate(findings):
            block = _finding_block(f, markers)
            if i == 0:
                block = f"### {code_span(path)}\n\n" + block
            blocks.append(block)
    body = _fit(blocks, budget, "_... {n} more findings not shown_") if blocks else []
    text = header + "\n" + "\n".join(body) + ("\n" if body else "") + tail
    if len(text) > limit:  # only with a tiny limit: cut hard rather than break the promise
        cut = "\n\n_... report truncated_\n"
        text = text[: max(0, limit - len(cut))] + cut
        text = text[:limit]
    return text


class MarkdownReporter:
    def __init__(self, out: TextIO, *, limit: int = LIMIT, markers: bool = True) -> None:
        self.out = out
        self.limit = limit
        self.markers = markers

    def report(self, result: Result) -> None:
        self.out.write(render(result, limit=self.limit, markers=self.markers))
