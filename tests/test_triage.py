"""Repeats grouped, findings ranked, the inline budget spent in rank order: in the pipeline's
Result, in the terminal report, and in what GitHub and GitLab would post."""

from __future__ import annotations

from dataclasses import replace

from reviewbot.diff import DiffIndex
from reviewbot.diff.parse import parse_diff
from reviewbot.hosts.github.review import Bodies as GitHubBodies
from reviewbot.hosts.gitlab.post import Bodies as GitLabBodies
from reviewbot.hosts.gitlab.values import VersionInfo
from reviewbot.hosts.placement import place
from reviewbot.model import Anchored, ChangeSet, Finding, Location, Result, Severity, Side, Stats
from reviewbot.reporters import terminal
from reviewbot.triage import GROUP_MIN, group, inline, rank_key, split, tier, triage

LINES = [f"x{i} = {i}" for i in range(1, 41)]
DIFF = (
    "diff --git a/pkg/mod.py b/pkg/mod.py\nnew file mode 100644\n--- /dev/null\n+++ b/pkg/mod.py\n"
    f"@@ -0,0 +1,{len(LINES)} @@\n" + "".join(f"+{ln}\n" for ln in LINES)
)
FILES = tuple(parse_diff(DIFF))


def f(line: int, rule: str, sev: Severity = Severity.WARNING, source: str | None = None) -> Anchored:
    src = source or rule.split("/")[0]
    finding = Finding(
        Location("pkg/mod.py", Side.RIGHT, line), sev, f"{rule} at {line}", rule, "lint", source=src
    )
    return Anchored(finding, 0, True)


def test_a_check_repeated_in_one_file_is_one_finding_with_the_count_and_lines() -> None:
    items = [f(n, "ruff/F401", Severity.WARNING) for n in (3, 9, 27, 30)] + [
        f(5, "ruff/F821", Severity.ERROR)
    ]
    out, merged = group(items)
    assert merged == 4 and len(out) == 2
    (g,) = [a for a in out if a.finding.rule == "ruff/F401"]
    assert g.finding.location.line == 3
    assert g.finding.message == "ruff/F401 on 4 lines of this file (3, 9, 27, 30); line 3: ruff/F401 at 3"


def test_fewer_than_the_minimum_model_findings_and_tests_on_different_lines_are_not_grouped() -> None:
    few = [f(n, "ruff/F401") for n in range(1, GROUP_MIN)]
    model = [f(n, "model/bug", source="model") for n in (1, 2, 3, 4)]
    tests = [f(n, "pytest/failed", Severity.ERROR, source="pytest") for n in (1, 2, 3)]
    out, merged = group(few + model + tests)
    assert merged == 0 and len(out) == len(few) + 4 + 3


def _failing(test: str, line: int) -> Anchored:
    a = f(line, "pytest/failed", Severity.ERROR, source="pytest")
    return replace(
        a, finding=replace(a.finding, message=f"test {test} fails: assert 1 == 2 (passes at base)")
    )


def test_failing_tests_through_the_same_line_are_one_finding() -> None:
    tests = [_failing(f"tests/test_a.py::test_{i}", 7) for i in range(4)] + [
        _failing("tests/test_b.py::test_x", 9)
    ]
    out, merged = group(tests)
    assert merged == 4 and [a.finding.location.line for a in out] == [7, 9]
    assert out[0].finding.message == (
        "test tests/test_a.py::test_0 fails: assert 1 == 2 (passes at base); 3 more failing test(s) through "
        "this line: tests/test_a.py::test_1, tests/test_a.py::test_2, tests/test_a.py::test_3"
    )


def test_rank_errors_and_tests_first_then_bugs_then_style() -> None:
    items = [
        f(1, "ruff/F401"),  # style
        f(2, "bandit/B602", Severity.INFO),  # info: last tier
        f(3, "ruff/B006"),  # a bug-finding rule
        f(4, "pytest/failed", Severity.ERROR, source="pytest"),
        f(5, "ruff/F821", Severity.ERROR),
        f(6, "model/bug", source="model"),
    ]
    ranked = sorted(items, key=rank_key)
    assert [a.finding.location.line for a in ranked] == [4, 5, 3, 6, 1, 2]
    assert [tier(a.finding) for a in ranked] == [0, 0, 1, 1, 2, 2]


def _result(anchored: tuple[Anchored, ...]) -> Result:
    return Result(ChangeSet(files=FILES, description="t"), anchored, (), (), Stats())


def test_the_budget_is_spent_in_rank_order_and_the_rest_is_listed_everywhere() -> None:
    many = [f(n, "ruff/F401") for n in range(1, 36)]  # one group
    singles = [f(n, f"ruff/B01{n}") for n in range(1, 8)] + [f(40, "ruff/F821", Severity.ERROR)]
    ranked, notes = triage(many + singles)
    assert len(ranked) == 9 and notes == [
        "35 findings are shown as 1 grouped finding(s): a check repeated on 3 or more lines of one file "
        "(with the count and the lines), failing tests on the same line"
    ]
    assert ranked[0].finding.rule == "ruff/F821" and ranked[-1].finding.rule == "ruff/F401"
    shown, rest = split(ranked, 4)
    assert [a.finding for a in shown] == [a.finding for a in ranked[:4]] and len(rest) == 5

    result = _result(ranked)
    text = terminal.render(result, shown=4)
    assert "5 more, one line each (past the 4 shown in full, or style)" in text
    assert "ruff/F401 on 35 lines of this file (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and 23 more)" in text
    assert text.count("    > ") == 4  # diff context only for the 4 shown in full

    index = DiffIndex(FILES)
    gh = place(reversed(ranked), index, GitHubBodies(), max_inline=4)  # any order in: the host ranks again
    assert len(gh.inline) == 4 and len(gh.listed) == 5
    assert "ruff/F821" in gh.inline[0][0] and "ruff/F401" in gh.listed[-1]
    version = VersionInfo(1, "a" * 40, "b" * 40, "c" * 40)
    gl = place(list(reversed(ranked)), index, GitLabBodies(version), max_inline=4)
    assert len(gl.inline) == 4 and len(gl.listed) == 5
    assert "ruff/F821" in gl.inline[0][0] and "ruff/F401" in gl.listed[-1]


def test_style_findings_are_listed_never_inline() -> None:
    style = [f(n, "ruff/F401") for n in (1, 2)] + [f(3, "bandit/B404", Severity.INFO)]
    bug = [f(4, "ruff/B006")]
    ranked, _ = triage(style + bug)
    shown, rest = split(ranked, 30)
    assert [a.finding.rule for a in shown] == ["ruff/B006"] and len(rest) == 3
    assert not any(inline(a.finding) for a in rest)
    index = DiffIndex(FILES)
    gh = place(ranked, index, GitHubBodies(), max_inline=30)
    assert len(gh.inline) == 1 and len(gh.listed) == 3
    version = VersionInfo(1, "a" * 40, "b" * 40, "c" * 40)
    gl = place(ranked, index, GitLabBodies(version), max_inline=30)
    assert len(gl.inline) == 1 and len(gl.listed) == 3
    assert "3 more, one line each" in terminal.render(_result(ranked), shown=30)
