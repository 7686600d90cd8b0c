from __future__ import annotations

import io

import pytest
from support.samples import empty, finding, sample, with_findings

from reviewbot.model import Side
from reviewbot.reporters.terminal import TerminalReporter, context_lines, render


def test_every_finding_is_shown_with_rule_route_and_message() -> None:
    r = sample()
    text = render(r)
    for f in r.findings:
        assert f.message in text and f.rule in text and f.route in text
    assert "ERROR   src/app.py:11-12  model/bug  [review]" in text  # no confidence: the route alone
    assert "src/app.py:11 (old side)" in text


def test_the_findings_confidence_not_the_routers_probability() -> None:
    from dataclasses import replace

    f = replace(finding(probability=0.47), confidence=0.8)
    text = render(with_findings([f]))
    assert "[review, confidence 0.80]" in text and "0.47" not in text


def test_grouped_by_file_in_changeset_order() -> None:
    text = render(sample())
    assert text.index("\nsrc/app.py\n") < text.index("\ndocs/my file.py\n")


def test_context_has_numbers_markers_and_pointer() -> None:
    text = render(with_findings([finding(line=12, start=11)]))
    assert "      11    -     return x+1" in text
    assert "    >    11 +     y = x + 1" in text
    assert "    >    12 +     return y" in text
    assert "      13 14   def g():" in text


@pytest.mark.parametrize(
    ("f", "first_text", "hits"),
    [
        (finding(line=11, side=Side.LEFT), "def f(x):", ["    return x+1"]),
        (finding(line=12, start=11), "def f(x):", ["    y = x + 1", "    return y"]),
        (finding(line=14), "    return y", ["def g():"]),
        (finding(line=99), None, []),
        (finding(path="not/in/diff.py"), None, []),
    ],
)
def test_context_lines(f, first_text, hits) -> None:
    ctx = context_lines(sample(), f)
    if first_text is None:
        assert ctx == []
        return
    assert ctx[0][0].text == first_text
    assert [ln.text for ln, hit in ctx if hit] == hits


def test_missing_context_is_said() -> None:
    assert "(no diff context for this line)" in render(with_findings([finding(line=99)]))


def test_suggestion_shown() -> None:
    text = render(sample())
    assert "    suggestion:\n    |     return x + 1\n" in text


def test_not_reviewed_unanchored_notes_and_stats() -> None:
    text = render(sample())
    not_reviewed = text[text.index("Not reviewed\n") :]
    assert "  assets/logo.png: binary file (plan)" in not_reviewed
    assert "  big.py: over the token budget (12000 > 8000 tokens) (plan)" in not_reviewed
    assert (
        "Not placed on the diff\n  warning src/app.py:40 model/bug: outside any hunk\n    Missing timeout"
        in text
    )
    assert "  - model ran on the CPU; context limited to 4096 tokens" in text
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("4 findings (1 error, 2 warnings, 1 info); 3 files, 2/3 work items reviewed")
    assert "1200 prompt + 300 generated tokens" in last and "backend local (Qwen2.5-Coder-0.5B)" in last


def test_empty_result_still_names_the_skip_list() -> None:
    text = render(empty())
    assert "No findings." in text
    assert "Not reviewed\n  nothing: every planned file was reviewed" in text
    assert "0 findings (0 errors, 0 warnings, 0 info)" in text


def test_plain_without_color_colored_with() -> None:
    assert "\x1b" not in render(sample(), color=False)
    colored = render(sample(), color=True)
    assert "\x1b[31m" in colored and "\x1b[0m" in colored


@pytest.mark.parametrize("color", [False, True])
def test_change_text_cannot_send_escape_sequences(color) -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J"
    text = render(with_findings([finding(message=evil, suggestion=evil, rule="model/\x1b[5m")]), color=color)
    for seq in ("\x1b]", "\x07", "\x1b[2J", "\x1b[5m"):
        assert seq not in text
    assert "\\x1b]0;pwned\\x07" in text


def test_reporter_writes_render_output() -> None:
    out = io.StringIO()
    TerminalReporter(out, color=False).report(sample())
    assert out.getvalue() == render(sample())


def test_sample_is_consistent(sample_result) -> None:
    assert len(sample_result.findings) == 4
    assert all(sample_result.changeset.file(f.location.path) is not None for f in sample_result.findings)
