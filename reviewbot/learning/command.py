"""``reviewbot learn``: what the team of one repository taught the review, printed, and written as
``.reviewbot/learnings.yml`` when asked. The host side (which reader, its transport and token) is
the caller's: this takes the signals already read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from ..errors import InputError
from .describe import describe
from .file import PATH, as_doc, dump
from .learn import combine, learn
from .lessons import Learnings
from .signals import Signal


def learn_command(
    signals: list[Signal],
    repository: str,
    *,
    today: date,
    base_floor: float,
    committed: Learnings | None = None,
    write: Path | None = None,
    notes: tuple[str, ...] = (),
    as_json: bool = False,
) -> str:
    """The text to print (``as_json``: the file's content as JSON, with the repository, the notes
    and where it was written); with ``write``, the file written there (its folder made if needed).
    What the committed file says is kept (a team's edits are not overwritten by a relearn)."""
    learned = learn(signals, today=today, this_pr=None, base_floor=base_floor)
    learned = Learnings(learned.lessons, learned.judge_floor, learned.judge_reason, learned.notes + notes)
    result = combine(committed.active(today) if committed else None, learned)
    if write is not None:
        try:
            write.parent.mkdir(parents=True, exist_ok=True)
            write.write_text(dump(result), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {write}: {exc.strerror or exc}") from None
    if as_json:
        doc = {"repository": repository, "notes": list(result.notes), **as_doc(result)}
        doc["written"] = None if write is None else str(write)
        return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
    text = describe(result, repository)
    if write is not None:
        text += f"written to {write} (commit it as {PATH} on the default branch to use it as edited)\n"
    return text
