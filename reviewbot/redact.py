"""Cut token-like text out of strings that leave us (error messages, posted bodies). Imports nothing of ours.

    redact("server said: bad key ghp_0123456789abcdefghijABCDEFGHIJ") -> "server said: bad key [redacted]"

It knows the shapes of common credentials (GitHub, GitLab, Slack, OpenAI-style keys, AWS key ids, JWTs,
``Authorization:``/``Bearer`` values, private key blocks) and any long unbroken run of base64 or hex (32
characters or more, letters and digits mixed). It is a last line of defence, not a secret scanner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["REDACTED", "clean_environ", "is_secret_name", "redact", "server_text"]

REDACTED = "[redacted]"

_PATTERNS = re.compile(
    "|".join(
        (
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            r"(?i:authorization)\s*[:=]\s*(?:(?i:basic|bearer|token)\s+)?[^\s,;\"']+",
            r"(?i:bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}",
            r"\b(?:gh[pousr]_|github_pat_|glpat-|gl[a-z]{1,3}-|xox[abposr]-|sk-|AKIA|ASIA)[A-Za-z0-9_\-]{8,}",
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
            r"(?P<run>(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-]))",
        )
    )
)


def _sub(m: re.Match[str]) -> str:
    run = m.group("run")
    if run is not None and not (any(c.isdigit() for c in run) and any(c.isalpha() for c in run)):
        return run  # a long word or a row of one character, not a key
    return REDACTED


_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|_KEY$|^AWS_|^AZURE_|^GOOGLE_APPLICATION|_JWT|^ACTIONS_(ID_TOKEN|RUNTIME|CACHE)",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential (GITHUB_TOKEN, CI_JOB_JWT,
    REVIEWBOT_API_KEY, AWS_SECRET_ACCESS_KEY, ACTIONS_RUNTIME_TOKEN, ...)."""
    return bool(_SECRET_NAME.search(name))


def clean_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the variables that hold credentials: what a child process may inherit."""
    return {k: v for k, v in environ.items() if not is_secret_name(k)}


def redact(text: str) -> str:
    """``text`` with every token-like run replaced by ``[redacted]``."""
    return _PATTERNS.sub(_sub, text)


def server_text(text: str, limit: int = 200) -> str:
    """A server's message as we may repeat it: one line, token-like runs redacted, cut to ``limit``."""
    line = " ".join(redact(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
