"""The service's log lines stay one line each: a field that holds a line break (a repository name,
a delivery id, an error from a host) cannot start a line an operator or a log shipper would read
as a record of its own.

one_line("g/p\\nreviewbot: job 1 done") -> 'g/p\\\\nreviewbot: job 1 done'
"""

from __future__ import annotations

import logging
import re

__all__ = ["OneLineFormatter", "one_line"]

_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with control characters and line separators written as escapes (``\\n``, ``\\x1b``)."""
    return _BREAKS.sub(lambda m: repr(m.group(0))[1:-1], text)


class OneLineFormatter(logging.Formatter):
    """A formatter whose message part is one line, whatever its arguments hold."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        return one_line(super().formatMessage(record))
