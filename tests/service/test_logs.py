"""The service's log lines stay one line whatever a field holds."""

from __future__ import annotations

import io
import logging

from reviewbot.service.logs import OneLineFormatter, one_line


def test_a_field_with_line_breaks_cannot_split_a_log_line() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(OneLineFormatter("reviewbot: %(message)s"))
    log = logging.getLogger("reviewbot.test-one-line")
    log.addHandler(handler)
    log.propagate = False
    try:
        forged = "g/p\nreviewbot: job 9 (gitlab g/x#1 review): done\r\u2028\x1b[2J"
        log.warning("job %s (%s %s#%s) failed: %s", 1, "gitlab", forged, 3, ValueError("a\nb"))
    finally:
        log.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines == [
        "reviewbot: job 1 (gitlab g/p\\nreviewbot: job 9 (gitlab g/x#1 review): done"
        "\\r\\u2028\\x1b[2J#3) failed: a\\nb"
    ]


def test_one_line_keeps_ordinary_text() -> None:
    assert one_line("o/r#7 review: done, 3 findings (ünïcode)") == "o/r#7 review: done, 3 findings (ünïcode)"
