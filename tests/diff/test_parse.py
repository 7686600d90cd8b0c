"""parse_diff over every diff in ../shared/data/diffs, against unidiff's full parse, and fuzzed."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest
import unidiff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.diff.parse import parse_diff, parse_diff_bytes
from reviewbot.errors import DiffError
from reviewbot.model import FileDiff, FileStatus, Line, LineKind

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """The shared data folder: ``<repo>/../shared`` (or ``<repo>/shared``); None when absent."""
    for base in (REPO / ".." / "shared", REPO / "shared"):
        if (base / "data" / "diffs").is_dir():
            return base.resolve()
    return None


SHARED = shared_dir()
DIFFS = SHARED / "data" / "diffs" if SHARED else None
needs_shared = pytest.mark.skipif(SHARED is None, reason=f"shared data not found at {REPO.parent}/shared")


def data_files() -> list[Path]:
    if DIFFS is None:
        return []
    return sorted(p for p in DIFFS.rglob("*") if p.is_file() and p.name not in ("LICENSE", "SOURCES.txt"))


def rel(p: Path) -> str:
    assert DIFFS is not None
    return p.relative_to(DIFFS).as_posix()


FILES = data_files()
IDS = [rel(p) for p in FILES]

# Expected rejections, with a fragment of the reason.
REJECT = {
    "parser/whatthepatch/diff-context.diff": "context diff",
    "parser/whatthepatch/diff-context-blah.diff": "context diff",
    "parser/whatthepatch/context-header.diff": "context diff",
    "parser/whatthepatch/svn-context.patch": "context diff",
    "parser/whatthepatch/mozilla-252983.diff": "context diff",
    "parser/whatthepatch/mozilla-252983-versionless.diff": "context diff",
    "parser/whatthepatch/apache-attachment-2241.diff": "context diff",
    "parser/whatthepatch/issue39-bash42-003.patch": "context diff",
    "parser/whatthepatch/diff-ed.diff": "ed-style diff",
    "parser/whatthepatch/svn-ed.patch": "ed-style diff",
    "parser/whatthepatch/diff-default.diff": "normal diff",
    "parser/whatthepatch/diff-default-blah.diff": "normal diff",
    "parser/whatthepatch/svn-default.patch": "normal diff",
    "parser/whatthepatch/diff-rcs.diff": "RCS-style diff",
    "parser/whatthepatch/svn-rcs.patch": "RCS-style diff",
    # trailing '+'/'-' lines after a complete hunk ("None of these last 4 lines should parse")
    "parser/whatthepatch/diff-unified-blah.diff": "longer than its header",
    # header-only fragments: the hunk promised more lines than the file has
    "parser/whatthepatch/git-header.diff": "shorter than expected",
    "parser/whatthepatch/git-header-long.diff": "shorter than expected",
    "parser/whatthepatch/svn-header.diff": "shorter than expected",
    "parser/whatthepatch/unified-header.diff": "shorter than expected",
    "parser/whatthepatch/unified-header-notab.diff": "shorter than expected",
    # unidiff's deliberately malformed samples
    "parser/unidiff/sample1.diff": "Hunk diff line expected",
    "parser/unidiff/sample2.diff": "shorter than expected",
    "parser/unidiff/sample6.diff": "longer than expected",
    "parser/unidiff/sample7.diff": "shorter than expected",
}

# Must parse. diff-unified-bad*.diff are well-formed unified diffs whose *content* does not match
# the file they claim to patch (whatthepatch's tests fail them when applying to 'lao', not when
# parsing): without the source file no parser can reject them, so they parse here.
ACCEPT = {
    "parser/whatthepatch/diff-unified-bad.diff",
    "parser/whatthepatch/diff-unified-bad2.diff",
    "parser/whatthepatch/diff-unified.diff",
    "parser/unidiff/git.diff",
    "parser/unidiff/git_cr.diff",
    "parser/unidiff/hg.diff",
    "parser/unidiff/svn.diff",
    "parser/unidiff/bzr.diff",
    "parser/unidiff/sample0.diff",
    "parser/unidiff/sample3.diff",
    "parser/unidiff/sample4.diff",
    "parser/unidiff/sample5.diff",
    "parser/unidiff/sample8.diff",
    "real/flask-pr-5772.diff.gz",
    "real/flask-0.12.5..3.1.3.diff",
    "real/requests-v2.25.1..v2.32.3.diff",
}


def check_structure(files: tuple[FileDiff, ...]) -> None:
    """Every hunk's lines agree with its header: counts, consecutive numbers, clean texts."""
    assert len(files) > 0
    for f in files:
        assert f.old_path is not None or f.new_path is not None
        assert f.path
        if f.is_binary:
            assert f.hunks == ()
        for h in f.hunks:
            old_side = [ln for ln in h.lines if ln.kind is not LineKind.ADDED]
            new_side = [ln for ln in h.lines if ln.kind is not LineKind.REMOVED]
            assert len(old_side) == h.old_len
            assert len(new_side) == h.new_len
            assert [ln.old_no for ln in old_side] == list(range(h.old_start, h.old_start + h.old_len))
            assert [ln.new_no for ln in new_side] == list(range(h.new_start, h.new_start + h.new_len))
            for ln in h.lines:
                assert (ln.old_no is None) == (ln.kind is LineKind.ADDED)
                assert (ln.new_no is None) == (ln.kind is LineKind.REMOVED)
                assert "\n" not in ln.text
                assert not ln.text.endswith("\r")


def parse_file(p: Path) -> tuple[FileDiff, ...]:
    return parse_diff_bytes(p.read_bytes(), name=p.name)


@needs_shared
def test_data_present() -> None:
    assert len(FILES) > 60
    assert set(REJECT) <= set(IDS)
    assert ACCEPT <= set(IDS)


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_data_file_parses_or_is_rejected_cleanly(path: Path) -> None:
    key = rel(path)
    try:
        files = parse_file(path)
    except DiffError as exc:
        msg = str(exc)
        assert "\n" not in msg and "\r" not in msg
        assert msg.startswith(f"{path.name}: ")
        assert key not in ACCEPT, msg
        if key in REJECT:
            assert REJECT[key] in msg
        return
    assert key not in REJECT, f"{key} should have been rejected"
    check_structure(files)


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_lines_match_unidiff_full_parse(path: Path) -> None:
    """Our fast reader gives exactly unidiff's lines (numbers, kinds, text) wherever we parse."""
    try:
        files = parse_file(path)
    except DiffError:
        return
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    patch = unidiff.PatchSet(data.decode("utf-8", errors="replace"))
    assert len(patch) == len(files)
    kinds = {"+": LineKind.ADDED, "-": LineKind.REMOVED, " ": LineKind.CONTEXT}
    for pf, f in zip(patch, files):
        assert len(pf) == len(f.hunks)
        assert bool(pf.is_binary_file) == f.is_binary
        for uh, h in zip(pf, f.hunks):
            expected = [
                Line(
                    kinds[ul.line_type],
                    ul.source_line_no,
                    ul.target_line_no,
                    ul.value.rstrip("\n").removesuffix("\r"),
                )
                for ul in uh
                if ul.line_type in kinds
            ]
            assert list(h.lines) == expected
            assert (h.old_start, h.old_len, h.new_start, h.new_len) == (
                uh.source_start,
                uh.source_length,
                uh.target_start,
                uh.target_length,
            )


@needs_shared
class TestKnownFiles:
    def get(self, key: str) -> tuple[FileDiff, ...]:
        assert DIFFS is not None
        return parse_file(DIFFS / key)

    def test_git_rename(self) -> None:
        files = self.get("parser/unidiff/git_rename.diff")
        assert [f.status for f in files] == [FileStatus.RENAMED] * 3
        assert (files[0].old_path, files[0].new_path, files[0].similarity) == ("added", "moved", 85)
        pure = files[2]
        assert (pure.old_path, pure.new_path, pure.hunks) == ("onefile", "otherfile", ())

    def test_binary(self) -> None:
        files = self.get("parser/unidiff/binary.diff")
        assert any(f.is_binary and f.hunks == () for f in files)
        git_bin = self.get("parser/whatthepatch/git-bin.patch")
        assert [f.is_binary for f in git_bin] == [True, False, True, True]

    def test_git_delete(self) -> None:
        (f,) = self.get("parser/unidiff/git_delete.diff")
        assert f.status is FileStatus.DELETED
        assert (f.old_path, f.new_path, f.path) == ("somefile.c", None, "somefile.c")
        assert f.old_mode == "100644"
        assert all(ln.kind is LineKind.REMOVED for ln in f.hunks[0].lines)

    def test_git_added_modified_deleted(self) -> None:
        files = self.get("parser/unidiff/git.diff")
        assert [f.status for f in files] == [FileStatus.ADDED, FileStatus.MODIFIED, FileStatus.DELETED]
        assert [f.path for f in files] == ["added_file", "modified_file", "removed_file"]

    def test_no_prefix_and_quoted_names(self) -> None:
        assert [f.path for f in self.get("parser/unidiff/git_no_prefix.diff")] == ["file1", "file2", "file3"]
        assert self.get("parser/unidiff/git_quoted_filename.diff")[0].path == "A \u00e2 B.py"
        spaced = self.get("parser/unidiff/git_quoted_filename_with_spaces.diff")[0]
        assert spaced.path == "docs/develop/Bug \u6392\u67e5.md"

    def test_new_empty_file(self) -> None:
        (f,) = self.get("parser/whatthepatch/git-new-empty-file.diff")
        assert (f.status, f.hunks, f.new_mode) == (FileStatus.ADDED, (), "100644")

    def test_cr_inside_line_is_kept(self) -> None:
        (f,) = self.get("parser/unidiff/git_cr.diff")
        assert len(f.hunks[0].lines) == 3
        assert "\r" in f.hunks[0].lines[0].text

    def test_samples(self) -> None:
        for key in ("sample0.diff", "sample3.diff", "sample4.diff", "sample5.diff"):
            check_structure(self.get(f"parser/unidiff/{key}"))

    def test_gzip_equals_text(self) -> None:
        assert DIFFS is not None
        gz = DIFFS / "real" / "flask-pr-5772.diff.gz"
        files = parse_file(gz)
        assert len(files) == 950
        assert sum(f.added for f in files) == 321_388
        text = gzip.decompress(gz.read_bytes()).decode("utf-8")
        assert parse_diff(text) == files

    def test_real_release_diff_has_renames(self) -> None:
        files = self.get("real/flask-0.12.5..3.1.3.diff")
        assert any(f.status is FileStatus.RENAMED for f in files)


# ------------------------------------------------------------------------------- synthetic inputs


def test_line_fast_construction_matches_dataclass() -> None:
    """parse.py fills Line's slots directly: valid only while Line.__init__ just stores its fields."""
    assert [f.name for f in dataclasses.fields(Line)] == ["kind", "old_no", "new_no", "text"]
    assert not hasattr(Line, "__post_init__")
    (f,) = parse_diff("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n")
    assert f.hunks[0].lines == (
        Line(LineKind.CONTEXT, 1, 1, "a"),
        Line(LineKind.REMOVED, 2, None, "b"),
        Line(LineKind.ADDED, None, 2, "c"),
    )
    assert hash(f.hunks[0].lines[0]) == hash(Line(LineKind.CONTEXT, 1, 1, "a"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.hunks[0].lines[0].text = "x"  # type: ignore[misc]


def test_crlf_and_no_newline_marker() -> None:
    text = (
        "--- a/x\r\n+++ b/x\r\n@@ -1,2 +1,2 @@ def f():\r\n a\r\n-b\r\n\\ No newline at end of file\r\n"
        "+c\r\n\\ No newline at end of file\r\n"
    )
    (f,) = parse_diff(text)
    h = f.hunks[0]
    assert h.section == "def f():"
    assert [ln.text for ln in h.lines] == ["a", "b", "c"]


def test_mode_change_only() -> None:
    text = "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    (f,) = parse_diff(text)
    assert (f.status, f.old_mode, f.new_mode, f.mode_changed, f.hunks) == (
        FileStatus.MODIFIED,
        "100644",
        "100755",
        True,
        (),
    )


def test_copy() -> None:
    text = "diff --git a/a.py b/b.py\nsimilarity index 100%\ncopy from a.py\ncopy to b.py\n"
    (f,) = parse_diff(text)
    assert (f.status, f.old_path, f.new_path, f.similarity) == (FileStatus.COPIED, "a.py", "b.py", 100)


def test_plain_diff_different_names_is_modified() -> None:
    (f,) = parse_diff("--- x.orig\n+++ x\n@@ -1 +1 @@\n-a\n+b\n")
    assert (f.status, f.old_path, f.new_path) == (FileStatus.MODIFIED, "x.orig", "x")


def test_empty_line_is_context() -> None:
    (f,) = parse_diff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n")
    assert [ln.kind for ln in f.hunks[0].lines] == [
        LineKind.CONTEXT,
        LineKind.CONTEXT,
        LineKind.REMOVED,
        LineKind.ADDED,
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty diff"),
        ("  \n\n", "empty diff"),
        ("hello world\n", "no unified diff file headers"),
        ("\x1b[1mdiff --git a/x b/x\x1b[m\n\x1b[1m--- a/x\x1b[m\n", "--no-color"),
        ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n", "shorter than expected"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n", "longer than its header"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n-c\n", "longer than its header"),
        ("@@ -1 +1 @@\n-a\n+b\n", "Unexpected hunk"),
        ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n?b\n", "Hunk diff line expected"),
    ],
)
def test_rejections_are_one_line_and_named(text: str, fragment: str) -> None:
    with pytest.raises(DiffError) as ei:
        parse_diff(text, name="my.diff")
    msg = str(ei.value)
    assert msg.startswith("my.diff: ")
    assert fragment in msg
    assert "\n" not in msg


def test_mail_signature_after_last_hunk_is_fine() -> None:
    text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n-- \n2.43.0\n\n"
    (f,) = parse_diff(text)
    assert len(f.hunks[0].lines) == 2


def test_bytes_inputs() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-caf\u00e9\n+cafe\n"
    assert parse_diff_bytes(diff.encode()) == parse_diff(diff)
    assert parse_diff_bytes(gzip.compress(diff.encode())) == parse_diff(diff)
    assert parse_diff_bytes(diff.encode("utf-16")) == parse_diff(diff)
    assert parse_diff_bytes(b"\xef\xbb\xbf" + diff.encode()) == parse_diff(diff)
    (f,) = parse_diff_bytes(diff.encode().replace(b"\xc3\xa9", b"\xff"))
    assert f.hunks[0].lines[0].text == "caf\ufffd"
    with pytest.raises(DiffError, match="corrupt gzip"):
        parse_diff_bytes(b"\x1f\x8b\x08\x00garbage", name="x.gz")


# ---------------------------------------------------------------------------------------- fuzzing


def parse_or_diff_error(text: str) -> None:
    try:
        files = parse_diff(text, name="fuzz")
    except DiffError as exc:
        assert str(exc).startswith("fuzz: ")
        assert "\n" not in str(exc)
        return
    check_structure(files)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_random_text(text: str) -> None:
    parse_or_diff_error(text)


LINE_ALPHABET = st.sampled_from(
    [
        "+",
        "-",
        " ",
        "\\",
        "@@ -1,2 +1,2 @@",
        "@@ -0,0 +1 @@",
        "--- a/f",
        "+++ b/f",
        "diff --git a/f b/f",
        "new file mode 100644",
        "deleted file mode 100644",
        "old mode 100644",
        "new mode 100755",
        "rename from f",
        "rename to g",
        "Binary files a/f and b/f differ",
        "GIT binary patch",
        "x",
        "",
        "\r",
        "index 123..456 100644",
        "similarity index 90%",
        "*** f",
        "***************",
        "1,2c3",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(LINE_ALPHABET, st.text(max_size=4)), max_size=30))
def test_fuzz_diff_like_lines(parts: list[tuple[str, str]]) -> None:
    parse_or_diff_error("\n".join(a + b for a, b in parts))


SMALL_REAL = [
    "parser/unidiff/git.diff",
    "parser/unidiff/git_rename.diff",
    "parser/unidiff/sample0.diff",
    "parser/unidiff/binary.diff",
    "parser/whatthepatch/git-bin.patch",
    "real/flask-pr-5761.diff",
    "parser/unidiff/git_quoted_filename.diff",
    "parser/whatthepatch/svn-unified.patch",
]


@needs_shared
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SMALL_REAL),
    st.lists(
        st.tuples(
            st.sampled_from(["del", "dup", "ins", "flip", "swap"]),
            st.integers(0, 10_000),
            st.text(max_size=6),
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_fuzz_mutated_real_diffs(key: str, mutations: list[tuple[str, int, str]]) -> None:
    assert DIFFS is not None
    lines = (DIFFS / key).read_bytes().decode("utf-8", errors="replace").split("\n")
    for op, pos, junk in mutations:
        if not lines:
            break
        i = pos % len(lines)
        if op == "del":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "ins":
            lines.insert(i, junk)
        elif op == "flip":
            lines[i] = junk + lines[i][1:]
        else:
            j = (pos // 7) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
    parse_or_diff_error("\n".join(lines))


def test_never_raises_other_errors_on_odd_types() -> None:
    with pytest.raises(DiffError):
        parse_diff(b"--- a\n", name="b")  # type: ignore[arg-type]
    with pytest.raises(DiffError):
        parse_diff_bytes("text", name="s")  # type: ignore[arg-type]
