"""An article as the store keeps it, and back.

``encode`` is pure and works anywhere (the scan runs it on every core while this process
stores the batch before); ``decode`` remembers the rows it decoded, since a build reads the
same newest rows for the aggregate and each channel.

A row is the article's JSON compressed with zlib: the text of an article is most of the
store, and compressed it takes less than half the room (issue 18: the store at most twice
the drop folder). Its fastest level is enough; the higher ones save little on rows this
short and cost the scan time. zlib's checksum also makes a damaged row fail to decode, and
a row that does not decode is quarantined like any other.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from functools import lru_cache

from feeder.article import Article
from feeder.channel import Channel
from feeder.text import slugify

DECODED = 2048  # rows remembered decoded: a few full channels
LEVEL = 1  # zlib's: see the module's docstring
FINGERPRINT = 16  # bytes of the hash kept: plenty to tell two versions of one entry apart


@dataclass(frozen=True)
class Entry:
    """An article encoded for the store: its row, and what the store works out of it."""

    article: Article
    data: bytes  # the row: JSON, compressed
    fingerprint: bytes  # a hash of what readers see, dates aside: equal means no rewrite
    channels: tuple[Channel, ...]  # the feeds besides the aggregate it is in


@dataclass(frozen=True)
class Row:
    """A stored entry as read: its key and row, decoded by whoever renders it."""

    key: str
    data: bytes

    def article(self) -> Article:
        """The article (raises for a row that cannot be decoded: see ``fault``)."""
        return decode(self.data)


def encode(article: Article) -> Entry:
    data = article.to_dict()
    row = compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    for volatile in ("published", "updated", "line"):
        data.pop(volatile)
    fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    return Entry(article, row, fingerprint[:FINGERPRINT], channels(article))


def compress(text: str) -> bytes:
    """A row of the JSON *text*."""
    return zlib.compress(text.encode(), LEVEL)


def channels(article: Article) -> tuple[Channel, ...]:
    """The feeds besides the aggregate *article* is in: its source, its month, its tags
    (none for a draft, so a draft never makes a source, topic or month appear)."""
    if article.draft:
        return ()
    tags = dict.fromkeys(slug for t in article.tags if (slug := slugify(t)))
    return (Channel("source", article.source), Channel("month", f"{article.published:%Y-%m}"),
            *(Channel("tag", t) for t in tags))


@lru_cache(maxsize=DECODED)
def decode(data: bytes) -> Article:
    """The Article a stored row holds (one object per row also lets a build's cache of
    rendered feed entries find them quickly)."""
    return Article.from_dict(json.loads(zlib.decompress(data)))


def slug_of(data: object) -> str | None:
    """The slug a stored row names, if it can be read even though the article cannot be
    decoded (a page to delete, or to write again), else None."""
    try:
        found = json.loads(zlib.decompress(data)) if isinstance(data, bytes) else None
    except Exception:  # whatever is wrong with the row: it names no slug
        return None
    slug = found.get("slug") if isinstance(found, dict) else None
    return slug if isinstance(slug, str) and slug else None


def fault(data: bytes) -> str | None:
    """Why a stored row cannot be decoded, or None if it can."""
    try:
        decode(data)
    except Exception as exc:  # any fault of the row's content, whatever it is
        return undecodable(exc)
    return None


def undecodable(exc: Exception) -> str:
    return f"undecodable: {type(exc).__name__}: {exc}"
