"""The ``about`` marker on each posted comment: read back as written, and always one HTML comment."""

from __future__ import annotations

from reviewbot.learning.marker import about_marker, read_about


def test_the_marker_reads_back_as_written():
    marker = about_marker("review/bug", "comparison-operator", 0.8)
    assert marker == "<!-- reviewbot:about rule=review/bug fact=comparison-operator confidence=0.8000 -->"
    assert read_about(f"body\n{marker}") == ("review/bug", "comparison-operator", 0.8)
    assert read_about(about_marker("secrets/github-token", "", None)) == ("secrets/github-token", "", None)


def test_a_rule_that_could_end_the_comment_stays_inside_it():
    marker = about_marker("x --> <b>@team</b>", "k-->", 0.5)
    assert marker.count("-->") == 1 and marker.endswith(" -->")
    assert "<b>" not in marker and "@" not in marker
    assert read_about(marker) == ("x_--___b__team_/b_", "k--_", 0.5)
