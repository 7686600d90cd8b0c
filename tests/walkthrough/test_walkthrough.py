"""The walkthrough: signatures compared, the diff-only walk, texts rebuilt from the head, file roles,
the capped and escaped renderings, ``reviewbot describe``, and the summaries that open with it."""

from __future__ import annotations

import io
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from reviewbot.diff.parse import parse_diff_bytes
from reviewbot.model import ChangeSet, Result, Skipped, Stats
from reviewbot.platforms.cli import main
from reviewbot.reporters import markdown, terminal
from reviewbot.reporters.walkthrough import MAX_SYMBOLS, render_markdown, render_text, to_json
from reviewbot.walkthrough import walk
from reviewbot.walkthrough.model import plain
from reviewbot.walkthrough.roles import role
from reviewbot.walkthrough.symbols import compare, definitions


def _changes(old: str, new: str) -> dict[str, tuple[str, list[str]]]:
    before, after = definitions(textwrap.dedent(old)), definitions(textwrap.dedent(new))
    assert before is not None and after is not None
    return {s.name: (s.change, [plain(d) for d in s.details]) for s in compare(before, after)}


def _diff(text: str) -> ChangeSet:
    return ChangeSet(parse_diff_bytes(textwrap.dedent(text).encode(), name="t"), "t")


# ----------------------------------------------------------------------------- the ast walk


@pytest.mark.parametrize(
    ("old", "new", "name", "want"),
    [
        ("def f(a, b): pass", "def f(a, c): pass", "f", ["parameter `b` renamed to `c`"]),
        ("def f(a): pass", "def f(a, b=1): pass", "f", ["parameter `b` added"]),
        ("def f(a, b): pass", "def f(a): pass", "f", ["parameter `b` removed"]),
        ("def f(a=1): pass", "def f(a=2): pass", "f", ["default of `a` changed from `1` to `2`"]),
        ("def f(a): pass", "def f(a=None): pass", "f", ["parameter `a` got the default `None`"]),
        (
            "def f(a, *, b): pass",
            "def f(a, b): pass",
            "f",
            ["parameter `b` became positional (was keyword-only)"],
        ),
        ("def f(): pass", "@cache\ndef f(): pass", "f", ["decorator `@cache` added"]),
        ("def f(): pass", "async def f(): pass", "f", ["became `async`"]),
        (
            "def f() -> int: pass",
            "def f() -> str: pass",
            "f",
            ["return annotation changed from `int` to `str`"],
        ),
        ("class A(B): pass", "class A(B, C): pass", "A", ["bases `(B)` became `(B, C)`"]),
        ("def f():\n    return 1", "def f():\n    return 2", "f", ["body changed"]),
        (
            "def f():\n    return 1",
            "def f():\n    # why\n    return (1)",
            "f",
            ["comments or formatting only"],
        ),
    ],
)
def test_signature_and_body_changes_are_named(old: str, new: str, name: str, want: list[str]) -> None:
    assert _changes(old, new)[name] == ("changed", want)


def test_a_changed_method_names_the_method_not_its_class() -> None:
    old = "class A:\n    x = 1\n    def f(self):\n        return 1\n    def g(self):\n        pass\n"
    new = "class A:\n    x = 1\n    def f(self):\n        return 2\n    def h(self):\n        pass\n"
    assert _changes(old, new) == {
        "A.f": ("changed", ["body changed"]),
        "A.h": ("renamed", ["renamed from `A.g`"]),
    }


def test_a_diff_of_a_git_range_is_walked_from_the_head_and_the_hunks(tmp_path: Path) -> None:
    from reviewbot.sources.git import GitSource

    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    body = "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(30))
    (tmp_path / "m.py").write_text(body)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    (tmp_path / "m.py").write_text(
        body.replace("return 15", "return -15").replace("def f20():", "def f20(x=1):")
    )
    subprocess.run([*git, "commit", "-qam", "b"], check=True)
    w = walk(GitSource(tmp_path, "HEAD~1..HEAD").load())
    [fw] = w.files
    assert fw.basis == "the old and new file (ast)"
    assert {s.name: [plain(d) for d in s.details] for s in fw.symbols} == {
        "f15": ["body changed"],
        "f20": ["parameter `x` added"],
    }


# ------------------------------------------------------------------------- the diff-only walk


def test_the_diff_only_walk_says_what_it_cannot_see() -> None:
    cs = _diff("""\
        diff --git a/m.py b/m.py
        --- a/m.py
        +++ b/m.py
        @@ -40,7 +40,8 @@ class Session:
                 x = 1
                 y = 2
                 z = 3
        -        return x
        +        return y
             @property
        +    @cached
             def g(self, a=1):
                 pass
        @@ -90,3 +91,3 @@ class Session:
             def h(self,
        -          a):
        +          a, b):
                 pass
        """)
    [fw] = walk(cs).files
    assert fw.basis == "the diff's lines (the whole files are not in the change)"
    got = {s.name: [plain(d) for d in s.details] for s in fw.symbols}
    assert got == {
        "Session": ["lines changed inside it (the diff does not show in which method)"],
        "Session.g": ["decorator `@cached` added"],
        "Session.h": ["parameter `b` added"],
    }


def test_code_nested_too_deeply_for_ast_gets_counts_not_a_traceback() -> None:
    deep = "+".join(["a"] * 200_000)
    cs = _diff(
        f"diff --git a/d.py b/d.py\nnew file mode 100644\n--- /dev/null\n+++ b/d.py\n@@ -0,0 +1,2 @@\n"
        f"+def f():\n+    return {deep}\n"
    )
    [fw] = walk(cs).files
    assert fw.added == 2 and fw.symbols == () and "nested too deeply" in fw.basis


def test_roles_of_files() -> None:
    assert [
        role(p)
        for p in (
            "src/a.py",
            "tests/test_a.py",
            "requirements-dev.txt",
            "pyproject.toml",
            ".github/workflows/ci.yml",
            "Dockerfile",
            "setup.cfg",
            "docs/x.md",
            "a.png",
        )
    ] == [
        "code",
        "test",
        "dependencies",
        "dependencies",
        "ci",
        "build",
        "dependencies",
        "docs",
        "other",
    ]


def test_requirements_added_removed_and_moved_are_named() -> None:
    cs = _diff("""\
        diff --git a/requirements.txt b/requirements.txt
        --- a/requirements.txt
        +++ b/requirements.txt
        @@ -1,3 +1,3 @@
        -flask==2.0
        +flask==3.1
        -six
        +httpx>=0.27
         click
        """)
    [fw] = walk(cs).files
    assert [plain(d) for d in fw.details] == [
        "requirements added: `httpx>=0.27`",
        "requirements removed: `six`",
        "version of `flask` changed from `==2.0` to `==3.1`",
    ]


# ------------------------------------------------------------------------------- rendering


def _long_change(n: int) -> ChangeSet:
    body = "".join(f"+def f{i}():\n+    pass\n" for i in range(n))
    return _diff(
        "diff --git a/m.py b/m.py\nnew file mode 100644\n--- /dev/null\n+++ b/m.py\n"
        f"@@ -0,0 +1,{2 * n} @@\n{body}"
    )


def test_a_long_change_is_capped_and_says_how_many_more() -> None:
    w = walk(_long_change(30))
    text = render_text(w, clean=terminal.clean)
    assert text.count("function `f") == MAX_SYMBOLS
    assert f"and {30 - MAX_SYMBOLS} more ({30 - MAX_SYMBOLS} added)" in text
    assert len(to_json(w)["files"][0]["symbols"]) == 30  # JSON keeps everything


def test_many_files_are_capped_and_the_markdown_stays_under_its_limit() -> None:
    files = "".join(
        f"diff --git a/p{i}.py b/p{i}.py\n--- a/p{i}.py\n+++ b/p{i}.py\n"
        f"@@ -1,1 +1,1 @@\n-x = {i}\n+x = {i + 1}\n"
        for i in range(200)
    )
    w = walk(_diff(files))
    text = render_markdown(w, code=markdown.code_span, escape=markdown.escape, limit=3000)
    assert len(text) <= 3000 and "more files (+" in text


def test_names_and_paths_from_the_change_are_escaped_in_markdown() -> None:
    cs = _diff("""\
        diff --git a/@team <b>[x](http://e.vil).py b/@team <b>[x](http://e.vil).py
        --- a/@team <b>[x](http://e.vil).py
        +++ b/@team <b>[x](http://e.vil).py
        @@ -1,1 +1,2 @@
        -def f(a="<!-- reviewbot:summary -->"): pass
        +def f(a="<!-- reviewbot:summary --> `` @everyone"): pass
        +x = 1
        """)
    markdown_it = pytest.importorskip("markdown_it")
    text = render_markdown(walk(cs), code=markdown.code_span, escape=markdown.escape)
    assert "<!--" not in text  # a code span cannot escape it: broken with a zero-width space
    for t in markdown_it.MarkdownIt("commonmark").parse(text):
        for c in [t, *(t.children or ())]:
            assert c.type not in ("image", "link_open", "html_block") and (
                c.type != "html_inline" or c.content in ("<sub>", "</sub>")
            ), c
            if c.type == "text":
                assert "@everyone" not in c.content and "@team" not in c.content


# ------------------------------------------------------------------------ describe and summaries

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample.diff"


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_describe_prints_the_walkthrough_in_each_format(fmt: str) -> None:
    code, out, err = _main("describe", "--diff", str(SAMPLE), "--format", fmt, "--no-progress")
    assert code == 0, err
    if fmt == "json":
        doc = json.loads(out)
        assert doc["files"] and {"path", "symbols", "basis", "role"} <= set(doc["files"][0])
    else:
        assert "Walkthrough" in out and "file" in out


def test_describe_on_bad_input_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    code, out, err = _main("describe", "--diff", str(tmp_path / "missing.diff"), "--no-progress")
    assert code != 0 and out == "" and len(err.splitlines()) == 1 and err.startswith("reviewbot: ")
    code, _, err = _main("describe", "--format", "sarif")
    assert code == 2 and len(err.splitlines()) == 1


def test_the_github_and_gitlab_summaries_open_with_the_walkthrough() -> None:
    from reviewbot.hosts.github.plan import ReviewPlan
    from reviewbot.hosts.github.summary import summary_body as github_summary
    from reviewbot.hosts.gitlab.summary import summary_body as gitlab_summary

    cs = _long_change(3)
    result = Result(cs, (), (), (Skipped("vendor/x.py", "vendored tree (vendor/)"),), Stats(files=1))
    plan = ReviewPlan((), (), 0, 0, ())
    gh = github_summary(result, head="a" * 40, plan=plan, review=None, errors=(), since=None)
    gl = gitlab_summary(
        result,
        head="a" * 40,
        threads=0,
        listed=(),
        repeated=0,
        invalid=0,
        since=None,
        resolved=0,
        notes=(),
        errors=(),
    )
    for body in (gh, gl):
        lines = body.splitlines()
        assert lines[2:4] == ["## reviewbot", ""] and lines[4] == "### Walkthrough"
        assert body.count("### Walkthrough") == 1  # not again in the findings below
        assert "adds function `f0`, function `f1`, function `f2`" in body
        assert "vendored tree (vendor/): 1 item" in body
