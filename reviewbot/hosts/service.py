"""What both hosts' ``ports.ServiceHost`` do alike, over their ``Host`` (``github.service``,
``gitlab.service`` hold what differs: who may write, where a reply goes, how open changes are listed).

- ``open_changes``: the open changes with their head, reviewed when the bot's summary names that
  head (the reconciler's question);
- ``posted``: a reply's ``recover``, the bot's note with this very text, when a failed try made it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from ..ports import OpenChange

__all__ = ["ServiceHostBase", "posted"]


class _Written(Protocol):
    @property
    def body(self) -> str: ...


T = TypeVar("T", bound=_Written)


class ServiceHostBase:
    """A host's ``Host`` (its ``client``, its ``reviewer(number)``) as a ``ports.ServiceHost``."""

    name: str

    def __init__(self, host: Any) -> None:
        self.host = host
        self.client = host.client

    def _heads(self) -> list[tuple[int, str]]:
        """(number, head SHA) of each open change."""
        raise NotImplementedError

    def open_changes(self) -> list[OpenChange]:
        out = []
        for number, head in self._heads():
            _, last, _ = self.host.reviewer(number).previous()
            out.append(OpenChange(number, head, last == head))
        return out


def posted(
    read: Callable[[], Iterable[T]], author: Callable[[T], str | None], bot: str | None, text: str
) -> Callable[[], T | None]:
    """A retried write's check: what ``read`` lists that ``bot`` wrote with this very text."""
    return lambda: next((c for c in read() if author(c) == bot and c.body == text), None)
