"""The review-bugs cases: reading each case folder, and the seeded draw of bug/clean pairs."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reviewbot.errors import InputError, UsageError

SAMPLING = "random.Random(seed).shuffle of the bug/clean pairs sorted by name, first N taken"

CaseKind = Literal["bug", "clean"]


@dataclass(frozen=True, slots=True)
class TruthLine:
    path: str
    side: Literal["new", "old"]
    line: int


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    kind: CaseKind
    path: Path  # the case folder
    diff_path: Path  # path / "change.diff"
    truth: tuple[TruthLine, ...]  # empty for clean cases

    @property
    def pair(self) -> str:
        """The name shared with the twin: ``pandas-12`` for ``pandas-12-bug`` and ``pandas-12-clean``."""
        return _pair_key(self.id)

    def diff_text(self) -> str:
        return self.diff_path.read_text(encoding="utf-8", errors="replace")


def _pair_key(case_id: str) -> str:
    for suffix in ("-bug", "-clean"):
        if case_id.endswith(suffix):
            return case_id[: -len(suffix)]
    return case_id


def _read_case(folder: Path) -> Case:
    truth_path = folder / "truth.json"
    where = str(truth_path)
    try:
        data = json.loads(truth_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {where}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed {where}: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise InputError(f"malformed {where}: expected a JSON object")
    kind = data.get("kind")
    if kind not in ("bug", "clean"):
        raise InputError(f'malformed {where}: \'kind\' must be "bug" or "clean", got {kind!r}')
    case_id = data.get("id", folder.name)
    if not isinstance(case_id, str) or not case_id:
        raise InputError(f"malformed {where}: 'id' must be a non-empty string")
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list):
        raise InputError(f"malformed {where}: 'lines' must be a list")
    truth: list[TruthLine] = []
    for i, item in enumerate(raw_lines):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and item.get("side") in ("new", "old")
            and isinstance(item.get("line"), int)
            and not isinstance(item.get("line"), bool)
            and item["line"] > 0
        ):
            raise InputError(
                f"malformed {where}: lines[{i}] must be {{path: str, side: new|old, line: int > 0}}"
            )
        truth.append(TruthLine(item["path"], item["side"], item["line"]))
    if kind == "bug" and not truth:
        raise InputError(f"malformed {where}: a bug case needs at least one truth line")
    return Case(id=case_id, kind=kind, path=folder, diff_path=folder / "change.diff", truth=tuple(truth))


def load_cases(cases_dir: Path, *, limit: int | None = None, seed: int = 0) -> list[Case]:
    """Read every subfolder of ``cases_dir`` holding ``change.diff`` and ``truth.json``.

    Without ``limit`` every case is returned.  With ``limit=N``, N *pairs* are drawn: a pair is a
    ``<project>-<n>-bug`` case and its ``<project>-<n>-clean`` twin, which always travel together,
    so ``limit=40`` gives 40 bug + 40 clean cases (the README's yardsticks are on "40+40 public
    pairs (seed 0)").  The draw: the pair names of the complete pairs, sorted as plain strings, are
    shuffled with ``random.Random(seed).shuffle`` and the first N taken.  So with one seed a
    smaller limit is always a subset of a larger one.  Cases without a twin are left out of a
    limited draw; when N is at least the number of complete pairs, all of them are taken.  (On the
    public review-bugs folder, limit 40 seed 0 gives "every added line" a detection of -0.150, the
    README's yardstick figure; the README does not say how it drew its sample.)

    The result is ordered by pair name, bug before clean, whatever the draw order: the same
    folder, limit and seed always give the same list.
    """
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise InputError(f"cases folder not found: {cases_dir}")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    folders = sorted(
        p
        for p in cases_dir.iterdir()
        if p.is_dir() and (p / "change.diff").is_file() and (p / "truth.json").is_file()
    )
    if not folders:
        raise InputError(f"no cases (folders with change.diff and truth.json) in {cases_dir}")
    cases = [_read_case(f) for f in folders]
    by_pair: dict[str, dict[str, Case]] = {}
    for c in cases:
        by_pair.setdefault(c.pair, {})[c.kind] = c
    order = {"bug": 0, "clean": 1}
    if limit is None:
        return sorted(cases, key=lambda c: (c.pair, order[c.kind], c.id))
    complete = sorted(k for k, v in by_pair.items() if "bug" in v and "clean" in v)
    if not complete:
        raise InputError(f"no bug/clean pairs in {cases_dir} to draw --limit {limit} from")
    shuffled = list(complete)
    random.Random(seed).shuffle(shuffled)
    chosen = shuffled[:limit]
    out: list[Case] = []
    for key in sorted(chosen):
        out.extend((by_pair[key]["bug"], by_pair[key]["clean"]))
    return out
