"""Signed hidden markers: what a later run reads back as the bot's own, for any host.

Renderers write plain markers (``<!-- reviewbot:fp=FP key=KEY -->``, ``<!-- reviewbot:head=SHA -->``);
``Signer.sign`` adds ``mac=``, an HMAC-SHA256 (32 hex digits) of the marker and the pull or merge
request it is posted on, just before a body leaves for the host. Reading keeps only markers whose
MAC is valid, so a marker typed into a PR, a comment or a body by anyone (a workflow of the PR
posting as github-actions[bot] included) neither hides a finding, resolves a thread nor names a
reviewed head. Unsigned markers of older versions are ignored: the first run after the upgrade
posts its findings once more.

The key (``installation_key``): ``REVIEWBOT_MARKER_KEY`` where the runner's owner set it; else
32 random bytes kept in ``<cache_dir>/marker.key`` (mode 0600), made on first use. On GitHub
Actions, without the variable, the key is made for the run and not stored: the action's cache is
readable by any workflow of the repository, a PR's included, so a stored key would be a known one.
Such a run does not recognise earlier runs' comments (it posts its findings again and resolves
nothing) and says so in a note.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

__all__ = ["Signer", "installation_key"]

_PLAIN = re.compile(r"<!-- reviewbot:(fp=[0-9a-f]{16} key=[0-9a-f]{16}|head=[0-9a-f]{7,64}) -->")
_SIGNED = re.compile(
    r"<!-- reviewbot:(fp=([0-9a-f]{16}) key=([0-9a-f]{16})|head=([0-9a-f]{7,64})) mac=([0-9a-f]{32}) -->"
)
_PROCESS_KEY = secrets.token_bytes(32)  # for hosts built without a key (tests, dry runs)
KEY_FILE = "marker.key"


class Signer:
    """Signs and checks the markers of one pull or merge request (``scope``: "owner/repo#7")."""

    def __init__(self, key: bytes | None = None, scope: str = "") -> None:
        self._key = key if key is not None else _PROCESS_KEY
        self.scope = scope

    def for_scope(self, scope: str) -> Signer:
        return Signer(self._key, scope)

    def _mac(self, payload: str) -> str:
        msg = f"{self.scope}\x1f{payload}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def sign(self, body: str) -> str:
        """``body`` with every plain marker signed."""
        return _PLAIN.sub(lambda m: f"<!-- reviewbot:{m[1]} mac={self._mac(m[1])} -->", body)

    def _valid(self, body: str) -> list[re.Match[str]]:
        return [m for m in _SIGNED.finditer(body) if hmac.compare_digest(m[5], self._mac(m[1]))]

    def findings(self, body: str) -> list[tuple[str, str]]:
        """(fingerprint, content key) of the validly signed finding markers in ``body``."""
        return [(m[2], m[3]) for m in self._valid(body) if m[2]]

    def head(self, body: str) -> str | None:
        """The head named by the last validly signed head marker in ``body``."""
        heads = [m[4] for m in self._valid(body) if m[4]]
        return heads[-1] if heads else None


def installation_key(
    configured: str | None, cache: Path, environ: Mapping[str, str]
) -> tuple[bytes, str | None]:
    """The marker key and a note for the report when earlier comments cannot be recognised."""
    if configured:
        return hashlib.sha256(configured.encode()).digest(), None
    if environ.get("GITHUB_ACTIONS") == "true":
        return secrets.token_bytes(32), (
            "markers signed with a key for this run only (REVIEWBOT_MARKER_KEY is unset): earlier "
            "comments are not recognised, so findings are posted again and no thread is resolved"
        )
    path = cache / KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key, None
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    cache.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key, f"a new marker key in {path}: comments of earlier runs are not recognised"
