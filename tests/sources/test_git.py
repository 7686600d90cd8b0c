"""GitSource against real git repositories made in tmp_path (global and system config switched off)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.requests_repo import REQUESTS_DIFF, make_requests_repo, requests_available

from reviewbot.diff.parse import parse_diff_bytes
from reviewbot.errors import SourceError, UsageError
from reviewbot.model import FileStatus
from reviewbot.sources import GitSource
from reviewbot.sources.git import _CONFIG

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0, reason="git not installed"
)


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the machine's nor the user's git configuration takes part; none is written."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(k, raising=False)


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def write(repo: Path, path: str, data: str | bytes) -> None:
    p = repo / path
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data)


BODY = "".join(f"line {i}: some text that makes the file long enough to be a rename\n" for i in range(40))


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """main: c1 (a.py, old_name.py, gone.txt, logo.png), c2 (edit, rename, binary change, delete, add)."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q")
    write(r, "a.py", "def f():\n    return 1\n")
    write(r, "old_name.py", BODY)
    write(r, "gone.txt", "bye\n")
    write(r, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    write(r, "docs/readme.md", "# docs\n")
    c1 = commit(r, "one")
    write(r, "a.py", "def f():\n    return 2\n")
    (r / "old_name.py").rename(r / "pkg_new_name.py")
    write(r, "pkg_new_name.py", BODY + "one more line\n")
    (r / "gone.txt").unlink()
    write(r, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary, changed")
    write(r, "added.py", "x = 1\n")
    c2 = commit(r, "two")
    return r, c1, c2


def by_path(cs):
    return {f.path: f for f in cs.files}


# ------------------------------------------------------------------------------------ the diff


def test_two_commits(repo) -> None:
    r, c1, c2 = repo
    cs = GitSource(r, f"{c1}..{c2}").load()
    assert cs.base == c1 and cs.head == c2
    assert cs.description == f"git {c1[:7]}..{c2[:7]}"
    files = by_path(cs)
    assert set(files) == {"a.py", "pkg_new_name.py", "gone.txt", "logo.png", "added.py"}
    assert files["a.py"].status is FileStatus.MODIFIED
    assert [ln.text for h in files["a.py"].hunks for ln in h.lines if ln.kind.value == "added"] == [
        "    return 2"
    ]
    ren = files["pkg_new_name.py"]
    assert ren.status is FileStatus.RENAMED and ren.old_path == "old_name.py" and ren.similarity
    assert files["gone.txt"].status is FileStatus.DELETED and files["gone.txt"].new_path is None
    assert files["logo.png"].is_binary and files["logo.png"].hunks == ()
    assert files["added.py"].status is FileStatus.ADDED


def test_identical_trees_give_an_empty_change(repo) -> None:
    r, c1, c2 = repo
    cs = GitSource(r, f"{c2}..{c2}").load()
    assert cs.files == () and cs.base == cs.head == c2


def test_mode_change_and_odd_names(repo) -> None:
    r, c1, c2 = repo
    write(r, "caf\u00e9 menu.py", "x = 1\n")
    write(r, "run.sh", "echo hi\n")
    c3 = commit(r, "three")
    (r / "run.sh").chmod(0o755)
    write(r, "caf\u00e9 menu.py", "x = 2\n")
    c4 = commit(r, "four")
    files = by_path(GitSource(r, f"{c3}..{c4}").load())
    assert set(files) == {"caf\u00e9 menu.py", "run.sh"}
    assert files["run.sh"].mode_changed and files["run.sh"].new_mode == "100755"


def test_subdirectory_of_the_work_tree(repo) -> None:
    r, c1, c2 = repo
    cs = GitSource(r / "docs", f"{c1}..{c2}").load()
    assert "a.py" in by_path(cs)  # paths are from the top level, not relative to docs/
    assert cs.workdir == str(r)


# ----------------------------------------------------------------------------------- the range


@pytest.fixture
def branched(repo):
    """main: c1 - c2 - m3 ; feature: c2 - f1 - f2 (checked out)."""
    r, c1, c2 = repo
    git(r, "checkout", "-q", "-b", "feature")
    write(r, "feature.py", "y = 1\n")
    f1 = commit(r, "f1")
    write(r, "feature.py", "y = 2\n")
    f2 = commit(r, "f2")
    git(r, "checkout", "-q", "main")
    write(r, "main_only.py", "z = 1\n")
    m3 = commit(r, "m3")
    git(r, "checkout", "-q", "feature")
    return r, dict(c1=c1, c2=c2, f1=f1, f2=f2, m3=m3)


def test_two_dot_range_is_a_tree_diff(branched) -> None:
    r, c = branched
    cs = GitSource(r, "main..feature").load()
    assert (cs.base, cs.head) == (c["m3"], c["f2"])
    assert set(by_path(cs)) == {"feature.py", "main_only.py"}  # main_only.py shows as deleted


def test_three_dot_range_uses_the_merge_base(branched) -> None:
    r, c = branched
    cs = GitSource(r, "main...feature").load()
    assert (cs.base, cs.head) == (c["c2"], c["f2"])
    assert set(by_path(cs)) == {"feature.py"}


def test_single_revision_means_rev_three_dots_head(branched) -> None:
    r, c = branched
    cs = GitSource(r, "main").load()
    assert (cs.base, cs.head) == (c["c2"], c["f2"])
    cs = GitSource(r, "HEAD~1").load()  # an ancestor: the merge base is itself
    assert (cs.base, cs.head) == (c["f1"], c["f2"])


def test_empty_sides_mean_head(branched) -> None:
    r, c = branched
    cs = GitSource(r, f"{c['c2'][:10]}..").load()
    assert (cs.base, cs.head) == (c["c2"], c["f2"])
    cs = GitSource(r, "..main").load()
    assert (cs.base, cs.head) == (c["f2"], c["m3"])


def test_one_commit(branched) -> None:
    r, c = branched
    cs = GitSource(r, "HEAD~1^!").load()
    assert (cs.base, cs.head) == (c["c2"], c["f1"])
    assert set(by_path(cs)) == {"feature.py"}


def test_default_range_is_the_merge_base_with_main(branched) -> None:
    r, c = branched
    cs = GitSource(r, None).load()
    assert (cs.base, cs.head) == (c["c2"], c["f2"])
    assert cs.description == f"git {c['c2'][:7]}..{c['f2'][:7]} (merge base of main and HEAD)"
    assert set(by_path(cs)) == {"feature.py"}


def test_default_range_on_main_reviews_the_last_commit(repo) -> None:
    r, c1, c2 = repo
    cs = GitSource(r).load()
    assert (cs.base, cs.head) == (c1, c2)
    assert "last commit" in cs.description and "main" in cs.description


def test_default_range_on_a_root_commit(tmp_path: Path) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q")
    write(r, "x.py", "x = 1\n")
    c1 = commit(r, "root")
    cs = GitSource(r).load()
    assert cs.head == c1 and cs.base == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the empty tree
    assert [f.status for f in cs.files] == [FileStatus.ADDED]
    assert "root commit" in cs.description


def test_default_range_prefers_origin_head(branched, tmp_path: Path) -> None:
    r, c = branched
    git(r, "checkout", "-q", "main")  # the remote's HEAD, which a clone records as origin/HEAD
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(r), str(clone)], check=True, capture_output=True)
    assert git(clone, "symbolic-ref", "refs/remotes/origin/HEAD") == "refs/remotes/origin/main"
    git(clone, "checkout", "-q", "-b", "topic")
    write(clone, "topic.py", "t = 1\n")
    t1 = commit(clone, "t1")
    git(clone, "branch", "-q", "-m", "main", "old-main")  # no local main: origin/HEAD must be used
    cs = GitSource(clone).load()
    assert (cs.base, cs.head) == (c["m3"], t1)
    assert "origin/main" in cs.description


def test_default_range_without_a_default_branch(tmp_path: Path) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q", "-b", "work")
    write(r, "x.py", "x = 1\n")
    commit(r, "one")
    with pytest.raises(SourceError) as ei:
        GitSource(r).load()
    msg = str(ei.value)
    assert "\n" not in msg and "default branch" in msg and "--git BASE..HEAD" in msg


def test_no_commits_yet(tmp_path: Path) -> None:
    r = tmp_path / "r"
    r.mkdir()
    git(r, "init", "-q")
    with pytest.raises(SourceError, match="no commits"):
        GitSource(r).load()


def test_unrelated_histories(branched) -> None:
    r, c = branched
    git(r, "checkout", "-q", "--orphan", "island")
    write(r, "island.py", "i = 1\n")
    commit(r, "island")
    with pytest.raises(SourceError, match="no merge base .*--git BASE..HEAD"):
        GitSource(r, "main...island").load()


@pytest.mark.parametrize(
    "spec, bad",
    [
        ("nope..HEAD", "nope"),
        ("HEAD..nope", "nope"),
        ("nope", "nope"),
        ("main...nope", "nope"),
        ("--output=/tmp/x", "--output=/tmp/x"),
        ("HEAD~99", "HEAD~99"),
        ("HEAD^{tree}", "HEAD^{tree}"),
    ],
)
def test_bad_revision(branched, spec: str, bad: str) -> None:
    r, _ = branched
    with pytest.raises(SourceError) as ei:
        GitSource(r, spec).load()
    msg = str(ei.value)
    assert "\n" not in msg and repr(bad) in msg
    assert ei.value.exit_code == 4


def test_empty_range_is_a_usage_error(repo) -> None:
    with pytest.raises(UsageError):
        GitSource(repo[0], "  ").load()


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as ei:
        GitSource(tmp_path, "HEAD~1..HEAD").load()
    assert str(ei.value) == f"{tmp_path} is not a git repository"


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such directory"):
        GitSource(tmp_path / "nope").load()


def test_git_dir_of_a_calling_hook_is_ignored(repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r, c1, c2 = repo
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    cs = GitSource(r, "HEAD~1..HEAD").load()
    assert (cs.base, cs.head) == (c1, c2)


# ------------------------------------------------------------------------------ configuration


def test_user_configuration_does_not_break_parsing(repo) -> None:
    r, c1, c2 = repo
    expected = GitSource(r, f"{c1}..{c2}").load().files
    for key, value in [
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("color.ui", "always"),
        ("color.diff", "always"),
        ("diff.external", "false"),
        ("diff.relative", "true"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.renames", "false"),
        ("diff.context", "10"),
        ("core.pager", "false"),
        ("diff.submodule", "log"),
        ("core.quotepath", "false"),
    ]:
        git(r, "config", key, value)
    git(r, "config", "diff.py.textconv", "false")
    write(r, ".git/info/attributes", "*.py diff=py\n")
    assert GitSource(r / "docs", f"{c1}..{c2}").load().files == expected


def test_pinned_configuration_is_valid_for_git(repo) -> None:
    r, _, _ = repo
    for item in _CONFIG:
        key, _, value = item.partition("=")
        proc = subprocess.run(
            ["git", "-C", str(r), "-c", item, "config", "--get", key], capture_output=True, text=True
        )
        assert proc.returncode == 0 and proc.stdout.strip() == value


# ---------------------------------------------------------------------------------- read_head


def test_read_head(repo) -> None:
    r, c1, c2 = repo
    write(r, "a.py", "changed in the work tree\n")  # read_head reads the commit, not the disk
    cs = GitSource(r, f"{c1}..{c2}").load()
    rh = cs.read_head
    assert rh is not None
    assert rh("a.py") == "def f():\n    return 2\n"
    assert rh("./a.py") == "def f():\n    return 2\n"
    assert rh("pkg_new_name.py").endswith("one more line\n")
    assert rh("gone.txt") is None  # deleted at head
    assert rh("nope.py") is None
    assert rh("logo.png") is None  # binary
    assert rh("docs") is None  # a directory
    for bad in ("../repo/a.py", "docs/../a.py", "/etc/passwd", "", "a\0.py"):
        assert rh(bad) is None


def test_read_head_at_an_older_head(repo) -> None:
    r, c1, c2 = repo
    cs = GitSource(r, f"{c1}^!").load()  # the root commit, against the empty tree
    assert cs.head == c1 and cs.description.endswith("(root commit)")
    assert cs.read_head("a.py") == "def f():\n    return 1\n"
    assert cs.read_head("gone.txt") == "bye\n"


def test_read_head_decodes_with_replacement(repo) -> None:
    r, c1, c2 = repo
    write(r, "latin.txt", b"caf\xe9\n")
    commit(r, "latin-1")
    assert GitSource(r, "HEAD~1..HEAD").load().read_head("latin.txt") == "caf\ufffd\n"


# ------------------------------------------------------------------------------------ workdir


def test_workdir_when_clean(repo) -> None:
    r, c1, c2 = repo
    assert GitSource(r, f"{c1}..{c2}").load().workdir == str(r)


def test_workdir_ignores_unrelated_edits(repo) -> None:
    r, c1, c2 = repo
    write(r, "docs/readme.md", "edited, but not part of the change\n")
    write(r, "scratch.txt", "untracked, not part of the change\n")
    assert GitSource(r, f"{c1}..{c2}").load().workdir == str(r)


@pytest.mark.parametrize("dirt", ["modified", "staged", "untracked-old-path", "deleted"])
def test_workdir_none_when_changed_paths_are_dirty(repo, dirt: str) -> None:
    r, c1, c2 = repo
    if dirt == "modified":
        write(r, "a.py", "local edit\n")
    elif dirt == "staged":
        write(r, "added.py", "staged edit\n")
        git(r, "add", "added.py")
    elif dirt == "untracked-old-path":
        write(r, "gone.txt", "back, untracked\n")
    else:
        (r / "pkg_new_name.py").unlink()
    assert GitSource(r, f"{c1}..{c2}").load().workdir is None


def test_workdir_none_when_head_is_not_checked_out(branched) -> None:
    r, c = branched
    assert GitSource(r, "main...feature").load().workdir == str(r)
    assert GitSource(r, "HEAD~1^!").load().workdir is None
    assert GitSource(r, "feature..main").load().workdir is None


# ---------------------------------------------------------------------------- a real project


@pytest.mark.skipif(
    not requests_available() or not REQUESTS_DIFF.is_file(),
    reason="requests tarballs or reference diff absent",
)
def test_requests_release_range_matches_the_reference_diff(tmp_path: Path) -> None:
    r = make_requests_repo(tmp_path)
    cs = GitSource(r, "HEAD~1..HEAD").load()
    reference = parse_diff_bytes(REQUESTS_DIFF.read_bytes(), name=REQUESTS_DIFF.name)
    assert {f.path for f in cs.files} == {f.path for f in reference}
    assert {(f.status, f.old_path, f.new_path) for f in cs.files} == {
        (f.status, f.old_path, f.new_path) for f in reference
    }
    assert cs.workdir == str(r)
    text = cs.read_head("src/requests/api.py")
    assert text is not None and "def request(" in text
