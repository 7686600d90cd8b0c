"""DiffIndex: every anchor it gives lies inside the diff; positions outside it give None."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.diff.index import DiffIndex, line_code
from reviewbot.diff.parse import parse_diff
from reviewbot.diff.render import github_position, gitlab_position
from reviewbot.model import FileDiff, LineKind, Location, Side

SHAS = {"base_sha": "b" * 40, "start_sha": "s" * 40, "head_sha": "h" * 40}


# ------------------------------------------------------------------------- random diff generator


@dataclass(frozen=True)
class GenFile:
    path: str
    old_first: int
    hunks: tuple[tuple[int, tuple[str, ...]], ...]  # (unchanged lines before the hunk, ops)


OPS = st.lists(st.sampled_from(" +-"), min_size=1, max_size=12).map(tuple)
HUNKS = st.lists(st.tuples(st.integers(1, 6), OPS), min_size=1, max_size=4).map(tuple)


@st.composite
def gen_files(draw: st.DrawFn) -> tuple[GenFile, ...]:
    names = draw(
        st.lists(
            st.sampled_from(["a.py", "src/b.py", "c d.txt", "e/f/g.rs"]), min_size=1, max_size=3, unique=True
        )
    )
    return tuple(GenFile(n, draw(st.integers(1, 5)), draw(HUNKS)) for n in names)


def render(files: tuple[GenFile, ...]) -> str:
    out: list[str] = []
    for f in files:
        out += [f"diff --git a/{f.path} b/{f.path}", f"--- a/{f.path}", f"+++ b/{f.path}"]
        o = n = f.old_first
        for gap, ops in f.hunks:
            o += gap - 1
            n += gap - 1
            old_len = sum(op != "+" for op in ops)
            new_len = sum(op != "-" for op in ops)
            out.append(f"@@ -{o},{old_len} +{n},{new_len} @@ section")
            out += [f"{op}line {i} of {f.path}" for i, op in enumerate(ops)]
            o += old_len + 1
            n += new_len + 1
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Truth:
    """Positions computed from the parsed hunks, independently of DiffIndex."""

    right: dict[
        tuple[str, int], tuple[int, LineKind, int, int]
    ]  # (path, new) -> (hunk, kind, gl_old, gl_new)
    left: dict[tuple[str, int], tuple[int, int, int]]  # (path, old) -> (hunk, gl_old, gl_new)


def truth_of(files: tuple[FileDiff, ...]) -> Truth:
    right: dict = {}
    left: dict = {}
    for f in files:
        for k, h in enumerate(f.hunks):
            o, n = h.old_start, h.new_start
            for ln in h.lines:
                if ln.kind is LineKind.ADDED:
                    right[(f.path, n)] = (k, ln.kind, o, n)
                    n += 1
                elif ln.kind is LineKind.REMOVED:
                    left[(f.path, o)] = (k, o, n)
                    o += 1
                else:
                    right[(f.path, n)] = (k, ln.kind, o, n)
                    o += 1
                    n += 1
    return Truth(right, left)


def check_github(anchor: dict, truth: Truth) -> None:
    path, line, side = anchor["path"], anchor["line"], anchor["side"]
    table = truth.right if side == "RIGHT" else truth.left
    assert (path, line) in table
    if "start_line" in anchor:
        start = anchor["start_line"]
        assert anchor["start_side"] == side
        assert start < line
        hunk = table[(path, line)][0]
        for n in range(start, line + 1):  # every line of the range is in the diff, in one hunk
            assert table[(path, n)][0] == hunk
    else:
        assert "start_side" not in anchor


def check_gitlab_end(end: dict, path: str, truth: Truth) -> None:
    if "new_line" in end:
        _, kind, old, new = truth.right[(path, end["new_line"])]
        if kind is LineKind.ADDED:
            assert "old_line" not in end
            assert end["type"] == "new"
        else:
            assert end["old_line"] == old
            assert end["type"] == "old"
    else:
        _, old, new = truth.left[(path, end["old_line"])]
        assert end["type"] == "old"
    assert end["line_code"] == hashlib.sha1(path.encode()).hexdigest() + f"_{old}_{new}"


@settings(max_examples=150, deadline=None)
@given(gen_files(), st.data())
def test_random_diffs_anchor_inside_the_diff(gen: tuple[GenFile, ...], data: st.DataObject) -> None:
    files = parse_diff(render(gen))
    # the parse round-trips the generated hunks
    assert [f.path for f in files] == [g.path for g in gen]
    for f, g in zip(files, gen):
        assert [
            "+" if ln.kind is LineKind.ADDED else "-" if ln.kind is LineKind.REMOVED else " "
            for h in f.hunks
            for ln in h.lines
        ] == [op for _, ops in g.hunks for op in ops]
    index = DiffIndex(files)
    truth = truth_of(files)

    # every line of the diff, single-line anchors
    for f in files:
        for k, h in enumerate(f.hunks):
            for ln in h.lines:
                loc = Location(f.path, ln.side, ln.number)
                gh = github_position(index, loc)
                assert gh == {"path": f.path, "line": ln.number, "side": ln.side.value}
                check_github(gh, truth)
                assert index.contains(f.path, ln.side, ln.number)
                assert index.hunk_of(f.path, ln.side, ln.number) == k
                assert index.line_at(f.path, ln.side, ln.number) == ln
                gl = gitlab_position(index, loc, **SHAS)
                assert gl is not None
                assert gl["position_type"] == "text" and gl["old_path"] == gl["new_path"] == f.path
                if ln.kind is LineKind.ADDED:
                    assert (gl.get("new_line"), "old_line" in gl) == (ln.new_no, False)
                elif ln.kind is LineKind.REMOVED:
                    assert (gl.get("old_line"), "new_line" in gl) == (ln.old_no, False)
                else:
                    assert (gl["old_line"], gl["new_line"]) == (ln.old_no, ln.new_no)
                assert "line_range" not in gl

    # random ranges inside one hunk
    for _ in range(10):
        f = data.draw(st.sampled_from(files))
        k = data.draw(st.integers(0, len(f.hunks) - 1))
        h = f.hunks[k]
        side = data.draw(st.sampled_from([Side.LEFT, Side.RIGHT]))
        numbers = sorted(ln.number for ln in h.lines if ln.side is side)
        if len(numbers) < 2:
            continue
        a, b = sorted(data.draw(st.lists(st.sampled_from(numbers), min_size=2, max_size=2, unique=True)))
        loc = Location(f.path, side, b, start_line=a)
        gh = github_position(index, loc)
        contiguous = all(
            (f.path, n) in (truth.right if side is Side.RIGHT else truth.left) for n in range(a, b + 1)
        )
        if side is Side.RIGHT:
            assert contiguous  # new-side numbers of a hunk are consecutive
        if not contiguous:  # a LEFT range broken by context lines
            assert gh is None
            assert gitlab_position(index, loc, **SHAS) is None
            continue
        assert gh is not None
        assert (gh["start_line"], gh["line"]) == (a, b)
        check_github(gh, truth)
        gl = gitlab_position(index, loc, **SHAS)
        assert gl is not None
        check_gitlab_end(gl["line_range"]["start"], f.path, truth)
        check_gitlab_end(gl["line_range"]["end"], f.path, truth)
        end = gl["line_range"]["end"]
        assert {key: gl.get(key) for key in ("old_line", "new_line")} == {
            key: end.get(key) for key in ("old_line", "new_line")
        }

    # random positions: anything the index accepts is in the diff; anything outside gives None
    max_line = max(max(h.old_start + h.old_len, h.new_start + h.new_len) for f in files for h in f.hunks)
    for _ in range(40):
        path = data.draw(st.sampled_from([f.path for f in files] + ["missing.py"]))
        side = data.draw(st.sampled_from([Side.LEFT, Side.RIGHT]))
        line = data.draw(st.integers(-1, max_line + 5))
        start = data.draw(st.none() | st.integers(-1, max_line + 5))
        loc = Location(path, side, line, start_line=start)
        table = truth.right if side is Side.RIGHT else truth.left
        gh = github_position(index, loc)
        if (path, line) not in table:
            assert gh is None
            assert gitlab_position(index, loc, **SHAS) is None
            assert not index.contains(path, side, line)
            assert index.hunk_of(path, side, line) is None
            assert index.line_at(path, side, line) is None
        elif gh is not None:
            check_github(gh, truth)
        if start is not None and start > line:
            assert gh is None
        elif start is not None and start < line and gh is not None:
            assert gh["start_line"] == start


def test_renamed_file_found_by_old_and_new_path() -> None:
    text = (
        "diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\nrename to new.py\n"
        "--- a/old.py\n+++ b/new.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    )
    index = DiffIndex(parse_diff(text))
    assert index.file("old.py") is index.file("new.py") is not None
    assert github_position(index, Location("old.py", Side.LEFT, 2)) == {
        "path": "new.py",
        "line": 2,
        "side": "LEFT",
    }
    gl = gitlab_position(index, Location("new.py", Side.RIGHT, 2), **SHAS)
    assert gl is not None
    assert (gl["old_path"], gl["new_path"], gl["new_line"]) == ("old.py", "new.py", 2)


def test_left_context_is_not_addressable() -> None:
    """LEFT covers removed lines only (GitHub's API); a context line is addressed on RIGHT."""
    index = DiffIndex(parse_diff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n"))
    assert not index.contains("x", Side.LEFT, 1)
    assert github_position(index, Location("x", Side.LEFT, 1)) is None
    assert index.contains("x", Side.RIGHT, 1)
    assert github_position(index, Location("x", Side.LEFT, 2)) == {"path": "x", "line": 2, "side": "LEFT"}


def test_added_and_deleted_files_gitlab_paths() -> None:
    text = (
        "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        "diff --git a/d.py b/d.py\ndeleted file mode 100644\n--- a/d.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    )
    index = DiffIndex(parse_diff(text))
    added = gitlab_position(index, Location("n.py", Side.RIGHT, 2, start_line=1), **SHAS)
    assert added is not None
    assert (added["old_path"], added["new_path"], added["new_line"]) == ("n.py", "n.py", 2)
    assert added["line_range"]["start"]["line_code"] == line_code("n.py", 0, 1)
    assert added["line_range"]["end"] == {"line_code": line_code("n.py", 0, 2), "type": "new", "new_line": 2}
    deleted = gitlab_position(index, Location("d.py", Side.LEFT, 1), **SHAS)
    assert deleted is not None
    assert (deleted["old_path"], deleted["new_path"], deleted["old_line"]) == ("d.py", "d.py", 1)
    assert "new_line" not in deleted
    assert github_position(index, Location("d.py", Side.LEFT, 1)) == {
        "path": "d.py",
        "line": 1,
        "side": "LEFT",
    }


def test_pure_deletion_hunk_does_not_shadow_previous_hunk() -> None:
    text = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n@@ -3 +1,0 @@\n-c\n"
    index = DiffIndex(parse_diff(text))
    assert github_position(index, Location("x", Side.RIGHT, 1)) == {"path": "x", "line": 1, "side": "RIGHT"}
    assert index.hunk_of("x", Side.LEFT, 3) == 1


def test_binary_and_hunkless_files_have_no_positions() -> None:
    text = "diff --git a/i.png b/i.png\nindex 1..2 100644\nBinary files a/i.png and b/i.png differ\n"
    index = DiffIndex(parse_diff(text))
    assert index.file("i.png") is not None
    assert github_position(index, Location("i.png", Side.RIGHT, 1)) is None


# ----------------------------------------------------------------------------------- line_code


def test_line_code_format() -> None:
    # a GitLab DiffNote on an added line 4 of the new file b.txt (from GitLab's API answer)
    assert line_code("b.txt", 0, 4) == "aceba96ffdf13ce4cd4171c0248420cc03108ef0_0_4"
    assert line_code("a/b.py", 5, 7) == hashlib.sha1(b"a/b.py").hexdigest() + "_5_7"


@pytest.mark.parametrize("path", ["x", "dir/caf\u00e9.py", "with space.txt"])
def test_line_code_hashes_utf8_path(path: str) -> None:
    assert line_code(path, 1, 2).split("_") == [hashlib.sha1(path.encode("utf-8")).hexdigest(), "1", "2"]


def test_line_codes_follow_gitlab_counters() -> None:
    """Added lines carry the old counter, removed lines the new counter (Gitlab::Diff::Parser)."""
    index = DiffIndex(parse_diff("--- a/x\n+++ b/x\n@@ -10,3 +20,3 @@\n a\n-b\n+c\n d\n"))
    pos = gitlab_position(index, Location("x", Side.RIGHT, 22, start_line=20), **SHAS)
    assert pos is not None
    assert pos["line_range"]["start"]["line_code"] == line_code("x", 10, 20)
    assert pos["line_range"]["end"]["line_code"] == line_code("x", 12, 22)
    added = gitlab_position(index, Location("x", Side.RIGHT, 21, start_line=20), **SHAS)
    assert added is not None and added["line_range"]["end"]["line_code"] == line_code("x", 12, 21)
    removed = gitlab_position(index, Location("x", Side.LEFT, 11), **SHAS)
    assert removed is not None and removed["old_line"] == 11 and "new_line" not in removed
