"""Concurrent generate() calls decoded together, and what the local backend's prefix cache saved.

The local backend's `generate` hands each call to a `Batcher`: calls made at the same time from
several threads (the pipeline's `model.concurrency`) with the same schema and token limit wait up
to `window` seconds for companions, then one of them runs the batch and hands every caller its
own result. Nothing here imports torch.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..ports import Generation, Message

RunOne = Callable[[Sequence[Message], Mapping | None, int], Generation]
RunBatch = Callable[..., list[Generation]]  # (chats, *, schema, max_tokens), as LocalBackend.generate_batch


class CacheStats:
    """What the prefix cache saved: prompt tokens asked for, and how many came from the cache;
    and how many batches concurrent generate() calls were decoded in."""

    __slots__ = ("calls", "prompt_tokens", "cached_tokens", "batches")

    def __init__(self) -> None:
        self.batches = 0
        self.calls = 0
        self.prompt_tokens = 0
        self.cached_tokens = 0

    @property
    def prefill_tokens(self) -> int:
        """Tokens the model actually ran over."""
        return self.prompt_tokens - self.cached_tokens

    def count(self, prompt: int, cached: int) -> None:
        """One call over `prompt` tokens, `cached` of them from the cache."""
        self.calls += 1
        self.prompt_tokens += prompt
        self.cached_tokens += cached

    def __repr__(self) -> str:
        return (
            f"CacheStats(calls={self.calls}, prompt_tokens={self.prompt_tokens}, "
            f"cached_tokens={self.cached_tokens})"
        )


class _Pending:
    """A generate() call waiting to be decoded in a batch."""

    __slots__ = ("messages", "schema", "max_tokens", "key", "done", "result")

    def __init__(
        self, messages: Sequence[Message], schema: Mapping | None, max_tokens: int, key: str
    ) -> None:
        self.messages, self.schema, self.max_tokens, self.key = messages, schema, max_tokens, key
        self.done = threading.Event()
        self.result: Generation | BaseException | None = None


class Batcher:
    """Groups concurrent calls of the same schema and token limit, at most `max_batch` a group.
    `lock` is the model's: the caller that runs a group holds it."""

    def __init__(self, lock: threading.RLock, stats: CacheStats) -> None:
        self._lock = lock
        self._stats = stats
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()

    def run(
        self,
        messages: Sequence[Message],
        schema: Mapping | None,
        max_tokens: int,
        *,
        max_batch: int,
        window: float,
        one: RunOne,
        batch: RunBatch,
    ) -> Generation:
        """`one` runs a group of one, `batch` a larger group; each caller gets its own result."""
        me = _Pending(messages, schema, max_tokens, json.dumps(schema, sort_keys=True) if schema else "")
        with self._pending_lock:
            self._pending.append(me)
        end = time.monotonic() + window
        while time.monotonic() < end and not me.done.is_set():
            with self._pending_lock:
                if len(self._pending) >= max_batch:
                    break
            time.sleep(0.001)
        with self._lock:
            if not me.done.is_set():
                with self._pending_lock:
                    group = [r for r in self._pending if (r.key, r.max_tokens) == (me.key, me.max_tokens)]
                    group = [me, *[r for r in group if r is not me]][:max_batch]
                    for r in group:
                        self._pending.remove(r)
                try:
                    if len(group) == 1:
                        results: list[Any] = [one(messages, schema, max_tokens)]
                    else:
                        results = batch([r.messages for r in group], schema=schema, max_tokens=max_tokens)
                        self._stats.batches += 1
                except Exception as exc:
                    results = [exc] * len(group)
                for r, res in zip(group, results):
                    r.result = res
                    r.done.set()
        if isinstance(me.result, BaseException):
            raise me.result
        assert me.result is not None
        return me.result
