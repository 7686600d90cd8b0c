"""The judging sheets of the review's words: before and after the change fact was put first.

    .venv/bin/python bench/all_cases.py --limit-pairs 40 --seed 2 --out /tmp/words.jsonl
    .venv/bin/python bench/words_sheet.py /tmp/words.jsonl [MORE.jsonl] --cases ../shared/data/review-bugs \
        --out bench/data/words_seed2 [--most 40]

The log of `bench/all_cases.py` holds, for every model comment, the posted message and the model's
own sentence (`said`): the sentence that the code before this change posted as the whole message
(the judge, the prompt and the placement are the same, so the comment stands on the same line).
The after side is composed again from `said` by this checkout's code (routes/review_comment.compose
over the hunk of the comment's line, as routes/review_answer.placed composes it, then the echo
guard; as the likelihood strategy does, the model's sentence is left out), so the sheet shows the
words of the code as it is now even when the log came from an earlier commit.
This script writes one report per case for each side (before/CASE.json, after/CASE.json) and lays
each out with ../shared/tools/message_sheet.py (its automatic grounding label included), keeping
the first MOST comments in case order. The reader writes judgments.json beside the sheets
({"CASE:LINE:SIDE": [before, after, why]}, each label U, P, N, W or G: docs/benchmarks.md says what
each means), and `--tally` fills each entry's `judged` field from it and counts them:

    .venv/bin/python bench/words_sheet.py --tally bench/data/words_seed2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from reviewbot.diff.parse import parse_diff
from reviewbot.model import ChangeSet, Finding, LineKind, Location, Severity, Side
from reviewbot.pipeline.echo import guard_echoes
from reviewbot.routes.review_comment import Words, compose

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT.parent / "shared" / "tools" / "message_sheet.py"


def _guarded(files: list, f: Finding) -> str | None:
    kept, _notes = guard_echoes([f], ChangeSet(tuple(files), "sheet"))
    return kept[0].message if kept else None


def as_before(diff: str, c: dict) -> str | None:
    """The comment the code before this change posted: the model's sentence through the echo guard
    (None: the guard dropped the finding, so there was no comment)."""
    where = Location(c["path"], Side(c["side"]), c["line"])
    return _guarded(
        list(parse_diff(diff)), Finding(where, Severity.WARNING, c["said"] or "", "review/bug", "review")
    )


def recompose(diff: str, c: dict) -> str | None:
    """The comment this checkout posts for the model sentence ``c["said"]`` at c's line (None: no
    comment, as before)."""
    files = parse_diff(diff)
    side = Side(c["side"])
    for fd in files:
        if c["path"] not in (fd.new_path, fd.old_path):
            continue
        for h in fd.hunks:
            lines = list(h.lines)
            line = next((ln for ln in lines if ln.side is side and ln.number == c["line"]), None)
            if line is None or line.kind is LineKind.CONTEXT:
                continue
            message, fact = compose(c["path"], line, lines, c["said"] or "", Words(model_speaks=False))
            where = Location(c["path"], side, c["line"])
            return _guarded(
                list(files),
                Finding(where, Severity.WARNING, message, "review/bug", "review", said=c["said"], fact=fact),
            )
    raise ValueError(f"{c['path']}:{c['line']} is not a changed line of the case's diff")


def write_reports(logs: list[Path], out: Path, most: int, cases: Path) -> int:
    taken = 0
    for side in ("before", "after"):
        (out / side).mkdir(parents=True, exist_ok=True)
    for raw in (line for log in logs for line in log.read_text().splitlines()):
        entry = json.loads(raw)
        comments = entry.get("comments", [])
        if "findings" not in entry:
            continue
        diff = (cases / entry["id"] / "change.diff").read_text(encoding="utf-8", errors="replace")
        keep = []
        for c in comments:
            c["before"], c["after"] = as_before(diff, c), recompose(diff, c)
            if c["before"] is not None and c["after"] is not None and len(keep) < most - taken:
                keep.append(c)
        taken += len(keep)
        for side, key in (("before", "before"), ("after", "after")):
            findings = [
                {
                    "path": c["path"],
                    "side": c["side"],
                    "line": c["line"],
                    "message": c[key],
                    "rule": "review/bug",
                    "suggestion": None,
                    "confidence": None,
                }
                for c in keep
            ]
            (out / side / f"{entry['id']}.json").write_text(json.dumps({"findings": findings}, indent=1))
        if taken >= most:
            break
    return taken


def apply_judgments(folder: Path) -> None:
    """Fill each entry's `judged` field from judgments.json ({"CASE:LINE:SIDE": [before, after, why]})."""
    judged = json.loads((folder / "judgments.json").read_text())
    for i, side in enumerate(("before", "after")):
        entries = json.loads((folder / f"{side}.json").read_text())
        for e in entries:
            e["judged"] = judged[f"{e['case']}:{e['line']}:{e['side']}"][i]
        (folder / f"{side}.json").write_text(json.dumps(entries, indent=1))


def tally(folder: Path) -> None:
    if (folder / "judgments.json").exists():
        apply_judgments(folder)
    for side in ("before", "after"):
        entries = json.loads((folder / f"{side}.json").read_text())
        n = len(entries)
        bug = [e for e in entries if e["kind"] == "bug"]
        c = Counter(e["judged"] for e in entries)
        cb = Counter(e["judged"] for e in bug)
        up = cb["U"] + cb["P"]
        print(f"{side}: {n} comments ({len(bug)} on bug cases); judged {dict(sorted(c.items()))}")
        print(
            f"  U+P on bug cases: {up}/{len(bug)} ({100 * up / max(1, len(bug)):.0f}%); "
            f"G: {c['G']}; W+G over all: {c['W'] + c['G']}/{n} ({100 * (c['W'] + c['G']) / max(1, n):.0f}%); "
            f"grounded (automatic): {sum(e['grounded'] for e in entries)}/{n}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log", type=Path, nargs="*")
    ap.add_argument("--cases", type=Path, default=ROOT.parent / "shared" / "data" / "review-bugs")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--most", type=int, default=40)
    ap.add_argument("--tally", type=Path)
    a = ap.parse_args()
    if a.tally:
        tally(a.tally)
        return
    if not a.log or a.out is None:
        ap.error("LOG and --out are needed (or --tally FOLDER)")
    n = write_reports(a.log, a.out / "reports", a.most, a.cases)
    print(f"{n} model comments taken")
    for side in ("before", "after"):
        subprocess.run(
            [
                sys.executable,
                str(SHEET),
                str(a.cases),
                str(a.out / "reports" / side),
                "--out",
                str(a.out / f"{side}.md"),
                "--json",
                str(a.out / f"{side}.json"),
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
