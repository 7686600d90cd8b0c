"""The OpenVINO backend's prefix cache: keys and values held across calls, so that a call runs the
model only over the tokens that no earlier call left behind.

The last call's keys and values are kept whole with the tokens they hold. Beside them, the first
`STASH_TOKENS` of the last `STASH` calls that the next call left are stashed: a review asks in
turns (route an item, score its hunks, route the next; where asked, an answer), and each kind of
prompt opens with its own system prompt, which the next item's turn of that kind then reuses.
"""

from __future__ import annotations

from typing import Any

STASH = 4  # earlier calls' prefixes kept beside the last call's keys and values
STASH_TOKENS = 512  # tokens kept of each: system prompts and the prompts' fixed openings


class PrefixCache:
    """Keys and values per layer (numpy arrays shaped (1, heads, tokens, head_dim)), by tokens."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.ids: list[int] = []  # the tokens of the last call
        self.kv: list[Any] = []  # its keys and values
        self.stash: list[tuple[list[int], list[Any]]] = []  # (tokens, keys and values), newest first

    def find(self, seq: list[int], limit: int) -> tuple[int, list[Any]]:
        """The most leading tokens of `seq` (at most `limit`) held here, from the last call or a
        stashed prefix, and the keys and values that hold them (and perhaps more: slice them)."""
        if not self.enabled:
            return 0, []
        best, held = 0, []
        for ids, kv in ((self.ids, self.kv), *self.stash):
            p = _shared(seq, ids, limit)
            if p > best:
                best, held = p, kv
        return best, held

    def keep(self, seq: list[int], kv: list[Any]) -> None:
        """`seq` and its keys and values become the last call's; the call before, where `seq`
        does not hold its first `STASH_TOKENS`, has those stashed (newest first, `STASH` at most);
        stashed prefixes that `seq` holds whole are dropped (stashed again when left)."""
        if not self.enabled:
            self.clear()
            return
        old_ids, old_kv = self.ids, self.kv
        self.ids, self.kv = seq, kv
        stash = [(ids, held) for ids, held in self.stash if _shared(seq, ids, len(ids)) < len(ids)]
        n = min(len(old_ids), STASH_TOKENS)
        if n and _shared(seq, old_ids, n) < n:
            stash.insert(0, (old_ids[:n], [a[:, :, :n].copy() for a in old_kv]))
        self.stash = stash[:STASH]

    def clear(self) -> None:
        """Nothing held (after a failed call: keys and values half updated are not reused)."""
        self.ids, self.kv, self.stash = [], [], []


def _shared(a: list[int], b: list[int], limit: int) -> int:
    """How many leading tokens `a` and `b` share, at most `limit`."""
    n = min(limit, len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    return p
