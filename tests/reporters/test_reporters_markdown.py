from __future__ import annotations

import io
import re

import pytest
from support.samples import empty, finding, sample, with_findings

from reviewbot.merge import fingerprint
from reviewbot.model import Side, Skipped
from reviewbot.reporters.markdown import LIMIT, MarkdownReporter, code_span, escape, fence, render

markdown_it = pytest.importorskip("markdown_it")

OUR_HTML = re.compile(r"^(<!-- reviewbot:(summary|[0-9a-f]{16}) -->|</?sub>)$")


def tokens(text: str):
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    out = []
    for t in md.parse(text):
        out.append(t)
        out.extend(t.children or ())
    return out


def assert_inert(text: str) -> None:
    """Only our own HTML (markers, <sub>) and no images in the parsed document."""
    for t in tokens(text):
        assert t.type != "image", t
        if t.type in ("html_block", "html_inline"):
            assert OUR_HTML.match(t.content.strip()), t.content


ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "![pixel](https://evil.example/p.png)",
    "[click](javascript:alert(1))",
    "<!-- reviewbot:0123456789abcdef -->",
    "<!-- reviewbot:summary -->",
    "a & b < c > d",
    "```\nswallow the rest\n",
    "~~~\nswallow\n",
    "# Not reviewed\nnothing",
    "text\n---\nsetext heading",
    "cc @octocat and @org/team",
    "<details><summary>x</summary>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_untrusted_text_is_inert_everywhere(attack) -> None:
    r = with_findings(
        [finding(path="a.py", message=attack, rule="model/bug", suggestion=attack)],
        skipped=(Skipped(f"p/{attack}", attack, "plan"),),
        notes=(attack,),
    )
    text = render(r)
    assert_inert(text)
    markers = re.findall(r"<!-- reviewbot:([^ ]*) -->", text)
    assert markers == ["summary", fingerprint(r.findings[0])]
    outside_code = re.sub(r"(`+).*?\1", "", text, flags=re.DOTALL)
    assert "@octocat" not in outside_code and "@org/team" not in outside_code
    assert headings(text) == [
        "reviewbot review",
        "Walkthrough",
        "a.py",
        "Not placed on the diff",
        "Not reviewed",
        "Notes",
    ]


def headings(text: str) -> list[str]:
    toks = tokens(text)
    return [toks[i + 1].content.strip("`") for i, t in enumerate(toks) if t.type == "heading_open"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<b>&</b>", "&lt;b&gt;&amp;&lt;/b&gt;"),
        ("![x](y)", "!\\[x\\](y)"),
        ("```py", "\\`\\`\\`py"),
        ("  ~~~", "  \\~\\~\\~"),
        ("[docs][1]", "\\[docs\\]\\[1\\]"),
        ("a | b", "a \\| b"),
        ("x\\y", "x\\\\y"),
        ("- ```", "- \\`\\`\\`"),
        ("1. # h", "1. \\# h"),
        ("see https://e.x", "see https:\u200b//e.x"),
        ("## h", "\\## h"),
        ("---", "\\---"),
        ("@bob", "@\u200bbob"),
        ("email a@b.c", "email a@\u200bb.c"),
        ("plain `code` stays", "plain `code` stays"),
    ],
)
def test_escape(raw, expected) -> None:
    assert escape(raw) == expected


def test_forged_heading_does_not_start_a_section() -> None:
    text = render(with_findings([finding(message="ok\n### Not reviewed\n- nothing")]))
    assert headings(text).count("Not reviewed") == 1


@pytest.mark.parametrize(
    ("code", "fence_line"),
    [
        ("x = 1", "```suggestion"),
        ('doc = """\n```python\nx\n```\n"""', "````suggestion"),
        ("s = '`````'", "``````suggestion"),
    ],
)
def test_suggestion_fence_is_longer_than_any_backtick_run(code, fence_line) -> None:
    text = render(with_findings([finding(suggestion=code)]))
    assert f"\n{fence_line}\n{code}\n{fence_line[: fence_line.index('s')]}\n" in text
    fences = [t for t in tokens(text) if t.type == "fence"]
    assert [(t.info, t.content) for t in fences] == [("suggestion", code + "\n")]


def test_left_side_suggestion_is_not_a_suggestion_block() -> None:
    text = render(with_findings([finding(side=Side.LEFT, suggestion="x")]))
    assert "suggestion\n" not in text and "```\nx\n```" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a.py", "`a.py`"), ("we`ird.py", "``we`ird.py``"), ("`x", "`` `x ``"), ("a\nb", "`a b`")],
)
def test_code_span(text, expected) -> None:
    assert code_span(text) == expected


def test_fence_minimum_three() -> None:
    assert fence("x\n") == "```\nx\n```"


def test_sections_and_counts() -> None:
    text = render(sample())
    assert text.startswith("<!-- reviewbot:summary -->\n## reviewbot review\n")
    assert "**4 findings (1 error, 2 warnings, 1 info)** in git main..HEAD" in text
    assert "| `src/app.py` | 1 | 1 | 1 |" in text
    assert "`src/app.py:11-12`" in text and "**error**" in text
    assert "### Not reviewed\n\n- `assets/logo.png`: binary file (plan)" in text
    assert "over the token budget (12000 &gt; 8000 tokens)" in text
    assert "### Not placed on the diff" in text and "outside any hunk" in text
    assert "### Notes" in text
    assert text.rstrip().endswith("backend local (Qwen2.5-Coder-0.5B)</sub>")
    assert_inert(text)


def test_empty_result_still_has_not_reviewed() -> None:
    text = render(empty())
    assert "### Not reviewed\n\nNothing: every planned file was reviewed." in text
    assert "**0 findings" in text


def test_pipe_in_path_does_not_break_table() -> None:
    text = render(with_findings([finding(path="a|b.py")]))
    rows = [t for t in tokens(text) if t.type == "tr_open"]
    assert len(rows) == 2  # header and one file row
    assert "| `a\\|b.py` | 0 | 1 | 0 |" in text


def test_markers_can_be_switched_off() -> None:
    assert "<!--" not in render(sample(), markers=False)


def many(n: int, size: int) -> list:
    return [finding(line=i + 1, message=f"finding {i} " + "x" * size, suggestion="y = 1") for i in range(n)]


@pytest.mark.parametrize(
    ("n", "size", "limit"),
    [(3000, 200, LIMIT), (200, 5000, LIMIT), (50, 100, 3000), (5, 10, 1200)],
)
def test_stays_under_limit_and_says_what_is_missing(n, size, limit) -> None:
    skipped = tuple(Skipped(f"gen/file{i}.py", "generated file", "plan") for i in range(5000))
    text = render(with_findings(many(n, size), skipped=skipped), limit=limit)
    assert len(text) <= limit
    shown = text.count("🟡 **warning**")
    assert 0 < shown < n
    assert f"_... {n - shown} more findings not shown_" in text
    assert "### Not reviewed" in text and "more not shown" in text
    assert "</sub>" in text
    assert_inert(text)


@pytest.mark.parametrize("where", ["path", "suggestion"])
def test_marker_in_code_is_not_raw(where) -> None:
    forged = "<!-- reviewbot:0123456789abcdef -->"
    f = finding(path=forged) if where == "path" else finding(suggestion=f"x = 1\n{forged}\n")
    text = render(with_findings([f]))
    assert forged not in text
    assert re.findall(r"<!-- reviewbot:[^ ]* -->", text) == ["<!-- reviewbot:summary -->", marker_of(f)]


def marker_of(f) -> str:
    return f"<!-- reviewbot:{fingerprint(f)} -->"


def test_huge_message_and_suggestion_are_cut() -> None:
    text = render(with_findings([finding(message="m" * 100_000, suggestion="s" * 100_000)]))
    assert len(text) < 20_000
    assert "more characters not shown" in text and "is not shown (too long)" in text


def test_reporter_writes_render_output() -> None:
    out = io.StringIO()
    MarkdownReporter(out, limit=5000).report(sample())
    assert out.getvalue() == render(sample(), limit=5000)
