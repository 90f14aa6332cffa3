"""The store's rows: decoded, and the changes gathered while files are stored, written with
one statement per table: far cheaper than a statement per row, and the store's one hot path
on import and in a burst. Inside ``Store.batch`` they gather over many files."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from feeder.article import Article

ARTICLE_CACHE = 2048  # decoded rows: every build reads the newest entries once per channel
# A new generation of the store: the next build has something to do.
BUMP = ("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(name) DO UPDATE "
        "SET value = CAST(value AS INTEGER) + 1")


@lru_cache(maxsize=ARTICLE_CACHE)
def stored_article(data: str) -> Article:
    """The Article a stored row holds. Decoding costs tens of µs and a build reads the same
    rows for the aggregate and each channel; one object per row also lets the builder's
    entry cache match by identity. Workers handed rows decode them with this too."""
    return Article.from_dict(json.loads(data))


@dataclass
class Writes:
    """Changes of files and their entries (within one flush each entry and each file
    changes once)."""

    files: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    carriers: list[tuple[str, str]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    bump: bool = False
    entries: list[tuple[str, float, float, int, str, str]] = field(default_factory=list)
    pages: list[tuple[str, str | None]] = field(default_factory=list)
    joined: list[tuple[str, str, float]] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    dirty: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)

    def upsert(self, stored: dict[str, tuple[str, str]], article: Article,
               edited_at: datetime) -> str:
        """Store *article* unless *stored* (fingerprint and row by key) has it already: an
        entry keeps its first ``published``; "added", "updated" or "same"."""
        row = stored.get(article.key)
        fingerprint = article.fingerprint  # leaves out the dates, so the same after replace
        if row and row[0] == fingerprint:
            return "same"
        old = stored_article(row[1]) if row else None
        if old:
            article = replace(article, published=old.published,
                              updated=max(edited_at, old.updated, old.published))
            if old.slug != article.slug:
                self.pages.append((old.slug, None))
        published = article.published.timestamp()
        self.entries.append((article.key, published, published if article.scheduled else 0.0,
                             int(article.draft), fingerprint, article.stored))
        self.pages.append((article.slug, article.key))
        self.join(old, article)
        stored[article.key] = (fingerprint, article.stored)
        return "updated" if old else "added"

    def join(self, old: Article | None, new: Article | None) -> None:
        """Move an entry from *old*'s channels to *new*'s; all of them need re-rendering."""
        before = set(old.channels) if old else set()
        after = set(new.channels) if new else set()
        key = (new or old).key  # type: ignore[union-attr]
        self.keys.add(key)
        self.left += [(channel, key) for channel in before - after]
        self.counts.subtract(before - after)
        self.counts.update(after - before)
        if new:
            self.joined += [(c, key, new.published.timestamp()) for c in after]
        self.dirty |= before | after

    def touches(self, path: str, keys: list[str]) -> bool:
        """Would reading *path*'s or *keys*' rows need these changes written first?"""
        return path in self.paths or not self.keys.isdisjoint(keys)

    def flush(self, db: sqlite3.Connection) -> None:
        """Write the changes and start empty."""
        counts = [(c, n) for c, n in self.counts.items() if n]
        for sql, rows in (
                ("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", self.files),
                ("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)", self.entries),
                ("INSERT OR REPLACE INTO pending_pages VALUES (?, ?)", self.pages),
                ("DELETE FROM memberships WHERE channel = ? AND key = ?", self.left),
                ("INSERT OR REPLACE INTO memberships VALUES (?, ?, ?)", self.joined),
                # Per-channel counts, so listing sources or tags never scans the archive.
                ("INSERT INTO channel_counts VALUES (?, ?) ON CONFLICT(channel) DO UPDATE "
                 "SET entries = entries + excluded.entries", counts),
                ("DELETE FROM channel_counts WHERE channel = ? AND entries <= 0",
                 [(c,) for c, n in counts if n < 0]),
                ("INSERT OR IGNORE INTO dirty_channels VALUES (?)",
                 [(c,) for c in sorted(self.dirty)]),
                ("INSERT OR IGNORE INTO carriers VALUES (?, ?)", self.carriers)):
            if rows:
                db.executemany(sql, rows)
        if self.bump:
            db.execute(BUMP)
        vars(self).update(vars(Writes()))  # in place: a store's batch holds this collector


def stored_rows(db: sqlite3.Connection, keys: list[str]) -> dict[str, tuple[str, str]]:
    """Fingerprint and data of those of *keys* already stored."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), 500):  # well under SQLite's limit on parameters
        chunk = keys[start:start + 500]
        found.update((k, (fp, data)) for k, fp, data in db.execute(
            f"SELECT key, fingerprint, data FROM entries WHERE key IN "
            f"({', '.join('?' * len(chunk))})", chunk))
    return found
