"""The walkthrough on the real diffs of ../shared/data, checked against an independent walk.

The independent walk reads Python with ``tokenize`` (not ``ast``): a ``def``/``class`` keyword that
opens a logical line starts a definition, INDENT/DEDENT tokens end it, and a definition's own lines
are its rows (decorators included) less those of the definitions nested in it. Old and new texts
come from the diff where it gives them (added and deleted files, a file shown whole), and for
requests v2.25.1..v2.32.3 from the two released source trees (the walkthrough then reads them
through a git range).
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
import time
import tokenize
from pathlib import Path

import pytest

from reviewbot.model import ChangeSet, FileDiff, FileStatus, LineKind, Skipped
from reviewbot.plan import skip_reason
from reviewbot.sources.diff_file import DiffFileSource
from reviewbot.sources.git import GitSource
from reviewbot.walkthrough import FileWalk, walk

REPO = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (REPO.parent / "shared/data", REPO / "shared/data") if p.is_dir()), None)
REAL = SHARED / "diffs/real" if SHARED else None
DIFFS = sorted(p.name for p in REAL.glob("*.diff*")) if REAL else []
needs_real = pytest.mark.skipif(REAL is None, reason="../shared/data not found")


# ---------------------------------------------------------------------- the independent walk


def token_defs(source: str) -> dict[str, tuple[str, ...]] | None:
    """{key: own lines} of every def/class in ``source`` by tokenize; None when it does not tokenize."""
    lines = re.split(r"\r\n|\r|\n", source)
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)]
    except (tokenize.TokenError, SyntaxError):
        return None
    spans: list[tuple[str, int, int]] = []  # (key, first row, last row)
    open_: list[list] = []  # [name, depth, first row, last row, block?]
    depth = 0
    line_start = True
    decorator_row: int | None = None
    last_row = 0
    seen: dict[str, int] = {}
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.type == tokenize.INDENT:
            depth += 1
        elif t.type == tokenize.DEDENT:
            depth -= 1
            while open_ and open_[-1][4] and depth <= open_[-1][1]:
                d = open_.pop()
                spans.append((d[0], d[2], d[3]))
        elif t.type in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING, tokenize.ENDMARKER):
            pass
        elif t.type == tokenize.NEWLINE:
            if open_ and not open_[-1][4] and open_[-1][3] == -1:  # the header of the last def ended
                nxt = next((x for x in toks[i + 1 :] if x.type not in (tokenize.NL, tokenize.COMMENT)), None)
                if nxt is not None and nxt.type == tokenize.INDENT:
                    open_[-1][4] = True
                    open_[-1][3] = last_row
                else:  # a one-line definition
                    d = open_.pop()
                    spans.append((d[0], d[2], last_row))
            line_start = True
        else:
            last_row = t.end[0]
            if open_ and open_[-1][4]:
                for d in open_:
                    if d[4]:
                        d[3] = last_row
            if line_start:
                line_start = False
                if t.string == "@":
                    decorator_row = decorator_row or t.start[0]
                else:
                    j = i + 1 if t.string == "async" else i
                    if toks[j].string in ("def", "class"):
                        name = toks[j + 1].string
                        prefix = open_[-1][0].split("#")[0] if open_ else ""
                        qual = (prefix + "." if prefix else "") + name
                        scope = f"{prefix}|{qual}"
                        seen[scope] = seen.get(scope, 0) + 1
                        key = qual if seen[scope] == 1 else f"{qual}#{seen[scope]}"
                        first = decorator_row or t.start[0]
                        open_.append([key, depth, first, -1, False])
                    decorator_row = None
        i += 1
    for d in open_:
        spans.append((d[0], d[2], d[3] if d[3] > 0 else last_row))
    out = {}
    for key, first, last in spans:
        inner = [(a, b) for k, a, b in spans if k != key and first < a and b <= last]
        out[key] = tuple(
            lines[r - 1] for r in range(first, last + 1) if not any(a <= r <= b for a, b in inner)
        )
    return out


def expected(old: str, new: str) -> dict[str, set[str]] | None:
    before, after = token_defs(old), token_defs(new)
    if before is None or after is None:
        return None
    name = lambda k: k.split("#")[0]  # noqa: E731
    return {
        "added": {name(k) for k in after if k not in before},
        "removed": {name(k) for k in before if k not in after},
        "changed": {name(k) for k in after if k in before and after[k] != before[k]},
    }


def parses(source: str) -> bool:
    try:
        compile(source, "<walk>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def named(fw: FileWalk) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"added": set(), "removed": set(), "changed": set()}
    for s in fw.symbols:
        if s.change == "renamed":
            out["added"].add(s.name)
            out["removed"].add(s.was or "")
        else:
            out[s.change].add(s.name)
    return out


def shown_whole(f: FileDiff) -> tuple[str, str] | None:
    """Old and new text of a file the diff gives whole (the test's own reading of the hunks)."""
    if len(f.hunks) != 1:
        return None
    h = f.hunks[0]
    old = "".join(ln.text + "\n" for ln in h.lines if ln.kind is not LineKind.ADDED)
    new = "".join(ln.text + "\n" for ln in h.lines if ln.kind is not LineKind.REMOVED)
    if f.status is FileStatus.ADDED:
        return "", new
    if f.status is FileStatus.DELETED:
        return old, ""
    trailing = len(h.lines) - max(i for i, ln in enumerate(h.lines) if ln.kind is not LineKind.CONTEXT) - 1
    if h.old_start <= 1 and h.new_start <= 1 and trailing < 3:
        return old, new
    return None


def walked(cs: ChangeSet):
    skipped = [Skipped(f.path, r) for f in cs.files if (r := skip_reason(f))]
    return walk(cs, skipped), {s.path for s in skipped}


# ------------------------------------------------------------------------------------ tests


def test_the_independent_walk_sees_what_it_should() -> None:
    old = "class A:\n    x = 1\n\n    def f(self, a):\n        return a\n\n@dec\ndef g(): pass\n"
    new = "class A:\n    x = 1\n\n    def f(self, a, b=2):\n        return a\n\ndef h():\n    pass\n"
    assert expected(old, new) == {"added": {"h"}, "removed": {"g"}, "changed": {"A.f"}}


@needs_real
@pytest.mark.parametrize("name", DIFFS)
def test_every_definition_a_real_diff_gives_whole_is_named(name: str) -> None:
    cs = DiffFileSource(str(REAL / name)).load()
    w, skipped = walked(cs)
    by_path = {f.path: f for f in w.files}
    checked = 0
    for f in cs.files:
        if not f.path.endswith(".py") or (f.path in skipped and f.status is not FileStatus.DELETED):
            continue
        texts = shown_whole(f)
        if texts is None:
            continue
        want = expected(*texts)
        if want is None or not all(parses(t) for t in texts):
            continue  # Python 2 files of old releases: the walkthrough falls back to the diff's lines
        fw = by_path[f.path]
        assert "(ast)" in fw.basis, (f.path, fw.basis)
        assert named(fw) == want, f.path
        checked += 1
    if name == "flask-pr-5772.diff.gz":
        assert checked == 1  # app.py; the rest is a committed virtualenv, listed as not reviewed
        assert sum(1 for s in w.not_reviewed if s.reason == "vendored tree (venv/)") == 904


@needs_real
@pytest.mark.parametrize("name", DIFFS)
def test_every_definition_line_a_real_diff_adds_or_removes_is_named(name: str) -> None:
    """Files the diff shows only in part: each def/class line it adds or removes is named, and each
    added (removed) definition named has its line among the added (removed) lines."""
    cs = DiffFileSource(str(REAL / name)).load()
    w, skipped = walked(cs)
    by_path = {f.path: f for f in w.files}
    pattern = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)")
    for f in cs.files:
        if not f.path.endswith(".py") or f.path in skipped or shown_whole(f) is not None:
            continue
        fw = by_path[f.path]
        lines = {kind: def_lines(f, kind, pattern) for kind in (LineKind.ADDED, LineKind.REMOVED)}
        raw = {kind: def_lines(f, kind, pattern, strings=True) for kind in (LineKind.ADDED, LineKind.REMOVED)}
        names = {s.name.rsplit(".", 1)[-1] for s in fw.symbols} | {
            (s.was or "").rsplit(".", 1)[-1] for s in fw.symbols
        }
        missing = (lines[LineKind.ADDED] | lines[LineKind.REMOVED]) - names
        assert not missing, (f.path, missing)
        for s in fw.symbols:
            last = s.name.rsplit(".", 1)[-1]
            if s.change == "added":
                assert last in raw[LineKind.ADDED], (f.path, s)
            elif s.change == "removed":
                assert last in raw[LineKind.REMOVED], (f.path, s)


def def_lines(f: FileDiff, kind: LineKind, pattern: re.Pattern[str], strings: bool = False) -> set[str]:
    """Names on the def/class lines of one side of the diff, leaving out (unless ``strings``) those
    after an odd number of triple quotes on that side of the hunk (inside a docstring's example)."""
    out = set()
    for h in f.hunks:
        quotes = 0
        for ln in h.lines:
            if ln.kind is not kind and ln.kind is not LineKind.CONTEXT:
                continue
            m = pattern.match(ln.text)
            if m and (strings or quotes % 2 == 0) and ln.kind is kind:
                out.add(m.group(1))
            quotes += ln.text.count('"""') + ln.text.count("'''")
    return out


def _tree(tmp: Path, tarball: Path) -> Path:
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp, filter="data")
    return tmp / "requests"


@needs_real
def test_requests_release_to_release_matches_the_independent_walk_of_both_trees(tmp_path: Path) -> None:
    """v2.25.1..v2.32.3 as a git range: every Python file walked from its old and new text, and
    what the walkthrough names equals what tokenize finds in the two released trees."""
    assert SHARED is not None
    old_tree = _tree(tmp_path / "old", SHARED / "repos/requests-v2.25.1.tar.gz")
    new_tree = _tree(tmp_path / "new", SHARED / "repos/requests-v2.32.3.tar.gz")
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], check=True)
    for tree, tag in ((old_tree, "old"), (new_tree, "new")):
        subprocess.run(["rsync", "-a", "--delete", "--exclude=.git", f"{tree}/", f"{repo}/"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", tag], check=True)
    cs = GitSource(repo, "HEAD~1..HEAD").load()
    w, skipped = walked(cs)
    checked = 0
    for fw in w.files:
        if not fw.path.endswith(".py") or fw.path in skipped and fw.status is not FileStatus.DELETED:
            continue
        old_p, new_p = old_tree / (fw.old_path or fw.path), new_tree / fw.path
        old = old_p.read_text(encoding="utf-8") if fw.status is not FileStatus.ADDED else ""
        new = new_p.read_text(encoding="utf-8") if fw.status is not FileStatus.DELETED else ""
        want = expected(old, new)
        assert want is not None
        assert "(ast)" in fw.basis, (fw.path, fw.basis)
        assert named(fw) == want, fw.path
        checked += 1
    assert checked >= 30


@needs_real
def test_the_walk_of_flask_pr_5772_takes_under_a_second() -> None:
    cs = DiffFileSource(str(REAL / "flask-pr-5772.diff.gz")).load()  # the source's parse is not the walk
    skipped = [Skipped(f.path, r) for f in cs.files if (r := skip_reason(f))]
    t0 = time.perf_counter()
    w = walk(cs, skipped)
    seconds = time.perf_counter() - t0
    assert len(w.files) == 950
    assert seconds < 1.0, seconds
