"""``.reviewbot/learnings.yml``: what was learned, as a plain file a team can read, edit and commit.

It is read from the base branch like the configuration, never from the change (a pull request
cannot teach the bot about itself, nor unteach it). ``dump`` writes it; ``parse`` reads and
validates it, and a bad file is one ``ConfigError`` line that names the place.

    version: 1
    judge:                       # optional: the judge's minimum confidence in this repository
      min_confidence: 0.42
      reason: writers rejected 9 and acted on 1 of the comments under confidence 0.42 (rejected in #3, #5, #8)
    lessons:
      - action: hold             # hold: held back, with the reason; keep: never held by resemblance
        rule: review/bug
        fact_kind: constant-changed
        path: pandas/core/**     # ** any path; dir/** below a folder; else one file
        rejected: 4
        accepted: 0
        pull_requests: [12, 15, 20]
        expires: 2027-06-04
        message: ...             # optional: a lesson by resemblance to this comment
        code: ...
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError
from .lessons import Learnings, Lesson

PATH = ".reviewbot/learnings.yml"
MAX_BYTES = 512 * 1024
HEADER = (
    "# What reviewbot learned from the team's verdicts on its comments in this repository.\n"
    "# Edit freely: remove a lesson to forget it, change its path or action; the file is read from\n"
    "# the base branch. Written by `reviewbot learn --write`.\n"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Judge(_Strict):
    min_confidence: float = Field(ge=0.0, le=1.0)
    reason: str = ""


class _Lesson(_Strict):
    action: Literal["hold", "keep"]
    rule: str = Field(min_length=1)
    fact_kind: str = ""
    path: str = "**"
    rejected: int = Field(default=0, ge=0)
    accepted: int = Field(default=0, ge=0)
    pull_requests: list[int] = []
    expires: date
    message: str = ""
    code: str = ""


class _File(_Strict):
    version: Literal[1]
    judge: _Judge | None = None
    lessons: list[_Lesson] = []


def _no_aliases(text: str, where: str) -> None:
    """Anchors and aliases are refused before anything is built (an alias bomb stays unexpanded)."""
    import yaml

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(
                    f"{where}: line {event.start_mark.line + 1}: anchors and aliases are not allowed"
                )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"{where}:{f' line {mark.line + 1}' if mark else ''} not valid YAML") from None


def parse(text: str, where: str = PATH) -> Learnings:
    import yaml

    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_BYTES // 1024} KiB; not read")
    _no_aliases(text, where)
    data = yaml.safe_load(text)
    try:
        doc = _File.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        at = ".".join(str(p) for p in e["loc"]) or "the file"
        raise ConfigError(f"{where}: {at}: {e['msg']}") from None
    lessons = tuple(
        Lesson(
            x.action,
            x.rule,
            x.fact_kind,
            x.path,
            x.rejected,
            x.accepted,
            tuple(x.pull_requests),
            x.expires,
            x.message,
            x.code,
        )
        for x in doc.lessons
    )
    if doc.judge is None:
        return Learnings(lessons)
    return Learnings(lessons, doc.judge.min_confidence, doc.judge.reason or f"set in {where}")


def dump(learnings: Learnings) -> str:
    import yaml

    return HEADER + yaml.safe_dump(as_doc(learnings), sort_keys=False, allow_unicode=True, width=100)


def as_doc(learnings: Learnings) -> dict:
    """The file's content as data (``expires`` a ``date``): what ``dump`` writes, and what
    ``reviewbot learn --format json`` prints."""
    doc: dict = {"version": 1}
    if learnings.judge_floor is not None:
        doc["judge"] = {"min_confidence": learnings.judge_floor, "reason": learnings.judge_reason}
    lessons = []
    for x in learnings.lessons:
        entry = {
            "action": x.action,
            "rule": x.rule,
            "fact_kind": x.fact_kind,
            "path": x.path,
            "rejected": x.rejected,
            "accepted": x.accepted,
            "pull_requests": list(x.pull_requests),
            "expires": x.expires,
        }
        if x.by_resemblance:
            entry |= {"message": x.message, "code": x.code}
        lessons.append(entry)
    doc["lessons"] = lessons
    return doc


def read_committed(file_at: Callable[[str, str], str | None], base: str) -> Learnings | None:
    """The committed lessons as the base commit holds them (``file_at(path, ref)``: the host's
    file reader), like the configuration; None when the base has no such file. The change's head
    is never read: a pull request cannot teach the bot, nor unteach it."""
    text = file_at(PATH, base)
    return None if text is None else parse(text, f"{base[:7]}:{PATH} (the pull request's base)")
