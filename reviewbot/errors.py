"""One exception tree for reviewbot; each error carries the process exit code.

    ReviewbotError (exit 2 unless said otherwise)
    ├── UsageError          bad flags or arguments            (2)
    ├── ConfigError         invalid configuration, names key and file (2)
    ├── InputError          unreadable or malformed input      (3)
    │   └── DiffError       a diff that cannot be parsed       (3)
    ├── SourceError         git or host could not give the change (4)
    ├── ModelError          the model could not be loaded or run   (5)
    │   └── ModelUnavailable  the model server is down, overloaded or answers garbage (5);
    │                         the pipeline degrades instead of exiting (pipeline/)
    ├── ToolError           a linter or subprocess failed to run    (6)
    └── PublishError        a reporter could not publish            (7)

Errors from libraries below are translated at the boundary with ``raise ... from exc``;
the CLI prints ``reviewbot: <message>`` on one line and exits with ``exit_code``.
"""

from __future__ import annotations


class ReviewbotError(Exception):
    exit_code = 2


class UsageError(ReviewbotError):
    exit_code = 2


class ConfigError(ReviewbotError):
    exit_code = 2


class InputError(ReviewbotError):
    exit_code = 3


class DiffError(InputError):
    exit_code = 3


class SourceError(ReviewbotError):
    exit_code = 4


class ModelError(ReviewbotError):
    exit_code = 5


class ModelUnavailable(ModelError):
    """The model server could not answer within the retry bound: refused or dropped connections,
    timeouts, 5xx, a 429 storm, an open circuit breaker (`down`), or malformed answers (not `down`).

    The pipeline catches it per work item: the item is listed as not reviewed with this message,
    and when `down` the remaining items are not sent (the review degrades to the linters' result)."""

    exit_code = 5

    def __init__(self, message: str, *, down: bool = True, seconds: float | None = None) -> None:
        super().__init__(message)
        self.down = down
        self.seconds = seconds  # how long the failing call tried before giving up


class ToolError(ReviewbotError):
    exit_code = 6


class PublishError(ReviewbotError):
    exit_code = 7
