"""A channel: the feeds besides the aggregate an entry appears in, a small frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["source", "tag", "month"]
KINDS: tuple[Kind, ...] = ("source", "tag", "month")


@dataclass(frozen=True, order=True)
class Channel:
    """One source's feeds, one topic's, or one month's archive.

    >>> Channel.of_text("source:kab-kendal.kpu.go.id")
    Channel(kind='source', name='kab-kendal.kpu.go.id')
    """

    kind: Kind
    name: str

    def text(self) -> str:
        """As the store keeps it: ``kind:name``."""
        return f"{self.kind}:{self.name}"

    @classmethod
    def of_text(cls, text: str) -> Channel:
        kind, _, name = text.partition(":")
        if kind not in KINDS or not name:
            raise ValueError(f"not a channel: {text!r}")
        return cls(kind, name)
