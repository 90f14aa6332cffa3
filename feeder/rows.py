"""Row changes the store gathers while it stores a file, written with one statement per
table: far cheaper than a statement per row, and the store's one hot path on import."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from feeder.article import Article


@dataclass
class Writes:
    """The changes of one file's entries (within one flush each entry changes once)."""

    entries: list[tuple[str, float, float, int, str, str]] = field(default_factory=list)
    pages: list[tuple[str, str | None]] = field(default_factory=list)
    joined: list[tuple[str, str, float]] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    dirty: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)

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

    def flush(self, db: sqlite3.Connection) -> Writes:
        """Write the changes; return an empty collector for what follows."""
        counts = [(c, n) for c, n in self.counts.items() if n]
        for sql, rows in (
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
                 [(c,) for c in sorted(self.dirty)])):
            if rows:
                db.executemany(sql, rows)
        return Writes()


def stored_rows(db: sqlite3.Connection, keys: list[str]) -> dict[str, tuple[str, str]]:
    """Fingerprint and data of those of *keys* already stored."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), 500):  # well under SQLite's limit on parameters
        chunk = keys[start:start + 500]
        found.update((k, (fp, data)) for k, fp, data in db.execute(
            f"SELECT key, fingerprint, data FROM entries WHERE key IN "
            f"({', '.join('?' * len(chunk))})", chunk))
    return found
