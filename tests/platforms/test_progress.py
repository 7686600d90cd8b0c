"""Progress on stderr: one line per step with an ETA off a terminal; never a carriage return there."""

from __future__ import annotations

import io

from reviewbot.platforms.shared import StderrProgress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_one_line_per_step_with_an_eta_in_a_log() -> None:
    out = io.StringIO()
    p = StderrProgress(out, True)
    for i in range(3):
        p(i, 3, f"case-{i}")
    p(3, 3, "done")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    assert lines[0].startswith("reviewbot: [1/3] case-0 (") and "left" not in lines[0]
    assert "s left)" in lines[1] and "s left)" in lines[2]


def test_a_bar_with_an_eta_on_a_terminal() -> None:
    out = _Tty()
    p = StderrProgress(out, True)
    p(1, 4, "item")
    p(4, 4, "done")
    text = out.getvalue()
    assert text.startswith("\r[######") and "s left" in text and text.endswith("\n")
