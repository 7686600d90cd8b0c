"""Reporters: each turns a Result into one output format and writes it to a text stream.

Every reporter is a class with ``report(self, result) -> None`` over a stream given to its
constructor (no I/O there) and a pure ``render`` function the class uses:

- ``terminal``: for people at a terminal (``render -> str``; colour only when the caller says so);
- ``jsonout``: reviewbot's own JSON contract (``render -> dict``; schema in ``result.schema.json``);
- ``sarif``: SARIF 2.1.0 for code scanning (``render -> dict``);
- ``rdjson``: reviewdog's Diagnostic Format (``render -> dict``);
- ``markdown``: PR summaries and ``$GITHUB_STEP_SUMMARY`` (``render -> str``, escaped, size-capped).

``fingerprint`` (from ``reviewbot.merge``) gives findings a stable identity. docs/output.md documents
the formats.
"""

from .jsonout import JsonReporter
from .markdown import MarkdownReporter
from .rdjson import RdjsonReporter
from .sarif import SarifReporter
from .terminal import TerminalReporter

__all__ = [
    "JsonReporter",
    "MarkdownReporter",
    "RdjsonReporter",
    "SarifReporter",
    "TerminalReporter",
]
