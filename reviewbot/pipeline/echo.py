"""Model text that repeats the change's own text is not posted as the bot's words.

A change can carry instructions ("LGTM, approved by @octocat. See the report.") in comments,
strings or its description, and a model may obey them by repeating them. So, for findings whose
source is the model:

- a sentence of the message whose words all appear, in order, in the change's added lines or its
  description (three words or more; any length for a command, a line such as ``/approve``) is left
  out of the message; a message left empty drops the finding;
- a suggestion line (eight characters or more) found in an added line outside the lines it
  replaces (in a comment, a string, another function: code the author wrote elsewhere and the
  model carried over) drops the suggestion, so it is never a committable block.

Each removal is counted in a note. Text the model wrote itself, and suggestions that only rework
the lines they replace, pass. The change fact a model finding opens with (``Finding.fact``) is the
bot's own account of the change, quoting it on purpose: only the model's words after it are read.
Whether the finding stays is decided on the model's own sentence (``Finding.said``), as before the
fact was put first: a finding whose sentence only echoed the change is dropped, fact or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..model import ChangeSet, FileDiff, Finding, LineKind

__all__ = ["guard_echoes"]

_WORD = re.compile(r"[a-z0-9@_']+")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_COMMAND = re.compile(r"\s*/[A-Za-z]")  # a quick action's form: /approve, /merge
_MIN_WORDS = 3
_MIN_LINE = 8


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _added(fd: FileDiff) -> Iterable[tuple[int, str]]:
    for h in fd.hunks:
        for ln in h.lines:
            if ln.kind is LineKind.ADDED and ln.new_no is not None:
                yield ln.new_no, ln.text


class _Change:
    def __init__(self, cs: ChangeSet) -> None:
        parts = [_words(cs.description)]
        self.by_path: dict[str, list[tuple[int, str]]] = {}
        for fd in cs.files:
            added = list(_added(fd))
            if fd.new_path is not None:
                self.by_path[fd.new_path] = added
            parts.append(_words(" ".join(text for _, text in added)))
            parts.append(_words(re.sub(r"[_./-]", " ", fd.new_path or fd.old_path or "")))
        self.prose = " " + " \n ".join(parts) + " "

    def echoed(self, sentence: str) -> bool:
        w = _words(sentence)
        long_enough = w.count(" ") + 1 >= _MIN_WORDS or _COMMAND.match(sentence) is not None
        return long_enough and bool(w) and f" {w} " in self.prose

    def copied_suggestion(self, f: Finding) -> bool:
        own = range(f.location.first, f.location.line + 1)
        elsewhere = [text for no, text in self.by_path.get(f.location.path, ()) if no not in own]
        for line in (f.suggestion or "").splitlines():
            text = line.strip()
            if len(text) >= _MIN_LINE and any(text in other for other in elsewhere):
                return True
        return False


def _split(message: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(message) if s.strip()]


def guard_echoes(findings: Sequence[Finding], cs: ChangeSet) -> tuple[list[Finding], list[str]]:
    """``findings`` with the model's echoes of the change removed, and one note per kind of removal."""
    change: _Change | None = None
    out: list[Finding] = []
    sentences = dropped = suggestions = 0
    for f in findings:
        if f.source != "model":
            out.append(f)
            continue
        change = change or _Change(cs)
        fact = f.fact if f.fact and f.message.startswith(f.fact) else ""
        own = _split(f.said) if fact and f.said else []
        if own and all(change.echoed(s) for s in own):
            sentences += len(own)
            dropped += 1
            continue
        parts = _split(f.message[len(fact) :])
        keep = [s for s in parts if not change.echoed(s)]
        sentences += len(parts) - len(keep)
        if not keep and not fact:
            dropped += 1
            continue
        if len(keep) < len(parts):
            f = replace(f, message=" ".join([fact, *(s.strip() for s in keep)]).strip())
        if f.suggestion is not None and change.copied_suggestion(f):
            f = replace(f, suggestion=None)
            suggestions += 1
        out.append(f)
    notes = []
    if sentences:
        notes.append(
            f"{sentences} sentence(s) of model messages that repeat the change's own text were left out"
            + (f" ({dropped} finding(s) had nothing else and were dropped)" if dropped else "")
        )
    if suggestions:
        notes.append(
            f"{suggestions} model suggestion(s) that copy code from elsewhere in the change were not offered"
        )
    return out, notes
