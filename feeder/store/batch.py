"""The write-behind batch: the changes of many files gathered and written with one statement
per table, far cheaper than one statement a row, and the store's one hot path on import and
in a burst. It alone knows that what it holds must be written before anything reads it:
``before_read``.
"""

from __future__ import annotations

import enum
import sqlite3
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from feeder.article import Article, images_of
from feeder.channel import Channel
from feeder.store import identity
from feeder.store.entries import Entry, channels, decode, encode

# A new generation of the store: the next build has something to do.
BUMP = ("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(name) DO UPDATE "
        "SET value = CAST(value AS INTEGER) + 1")
ENTRY = "(SELECT id FROM entries WHERE key = ?)"  # an entry's id, by its key


class Change(enum.Enum):
    """What storing an entry did."""

    ADDED = "added"
    UPDATED = "updated"
    SAME = "same"


@dataclass(frozen=True)
class FileRow:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    received: str  # ISO 8601


@dataclass
class Batch:
    """Changes of files and their entries (within one flush each entry and each file
    changes once)."""

    files: list[FileRow] = field(default_factory=list)
    carriers: list[tuple[str, str]] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    bump: bool = False
    entries: list[tuple[str, float, float, int, bytes, bytes]] = field(default_factory=list)
    pages: list[tuple[str, str | None]] = field(default_factory=list)
    joined: list[tuple[Channel, str, float]] = field(default_factory=list)
    left: list[tuple[Channel, str]] = field(default_factory=list)
    counts: Counter[Channel] = field(default_factory=Counter)
    dirty: set[Channel] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    corrected: list[tuple[str, float]] = field(default_factory=list)
    # The dated entries changed here by their keys' source and day (``day_prefix``), for
    # ``pending``: the new versions, None for one retracted.
    days: dict[str, list[Article | None]] = field(default_factory=dict)
    # Images an entry began or stopped showing: (image name, entry key).
    shown: list[tuple[str, str]] = field(default_factory=list)
    unshown: list[tuple[str, str]] = field(default_factory=list)

    def before_read(self, db: sqlite3.Connection, path: str | None = None,
                    keys: Collection[str] = ()) -> None:
        """Write what is gathered if reading *path*'s or *keys*' rows (or, with neither,
        anything) would need it."""
        if (path is None and not keys) or path in self.paths or not self.keys.isdisjoint(keys):
            self.flush(db)

    def pending(self, prefix: str) -> list[Article | None]:
        """What is gathered, not yet written, for the dated entries of *prefix*
        (``day_prefix``): new versions, and None for each one retracted."""
        return self.days.get(prefix, [])

    def upsert(self, stored: dict[str, tuple[bytes, bytes]], entry: Entry, edited_at: datetime,
               *, correct: bool = False) -> Change:
        """Store *entry* unless *stored* (fingerprint and row by key) has it already: an
        entry keeps its first ``published`` and its corrections. *correct*: the file that
        carries it was edited, so a changed title or text is a correction (``identity``'s
        rule) if readers had seen the entry."""
        article = entry.article
        fingerprint, data = stored.get(article.key, (None, None))
        if fingerprint == entry.fingerprint:  # dates aside: the same after the replace
            return Change.SAME
        old = decode(data) if data is not None else None
        if old:
            if old.corrections and edited_at < old.corrections[-1].at:
                # A version older than the last correction (an older copy of the page, read
                # again) never brings back what was corrected.
                return Change.SAME
            fixes = identity.corrections(old, article, edited_at) if (
                correct and _public(old, edited_at) and not article.draft) else ()
            entry = encode(replace(article, published=old.published,
                                   updated=max(edited_at, old.updated, old.published),
                                   corrections=old.corrections + fixes))
            if entry.fingerprint == fingerprint:  # the same once its corrections are carried
                return Change.SAME
            article = entry.article
            if old.slug != article.slug:
                self.pages.append((old.slug, None))
            if article.corrections:
                self.corrected.append((article.key, article.corrections[-1].at.timestamp()))
        published = article.published.timestamp()
        self.entries.append((article.key, published, published if article.scheduled else 0.0,
                             int(article.draft), entry.fingerprint, entry.data))
        self.pages.append((article.slug, article.key))
        self.join(old, entry)
        stored[article.key] = (entry.fingerprint, entry.data)
        return Change.UPDATED if old else Change.ADDED

    def put_file(self, row: FileRow, keys: list[str]) -> None:
        """The file *row* now carries the entries *keys*."""
        self.paths.add(row.path)
        self.files.append(row)
        self.carriers += [(key, row.path) for key in keys]

    def join(self, old: Article | None, new: Entry | None) -> None:
        """Move an entry from *old*'s channels to *new*'s; all of them need re-rendering."""
        before = set(channels(old)) if old else set()
        after = set(new.channels) if new else set()
        key = new.article.key if new else old.key  # type: ignore[union-attr]
        self.keys.add(key)
        self.left += [(channel, key) for channel in before - after]
        self.counts.subtract(before - after)
        self.counts.update(after - before)
        if new:
            self.joined += [(c, key, new.article.published.timestamp()) for c in after]
        self.dirty |= before | after
        pictured = set(images_of(old)) if old else set()
        shown = set(images_of(new.article)) if new else set()
        self.unshown += [(image, key) for image in sorted(pictured - shown)]
        self.shown += [(image, key) for image in sorted(shown - pictured)]
        if new is not None and new.article.key.startswith(prefix := day_prefix(new.article)):
            self.days.setdefault(prefix, []).append(new.article)
        elif new is None and old is not None and old.key.startswith(prefix := day_prefix(old)):
            self.days.setdefault(prefix, []).append(None)

    def flush(self, db: sqlite3.Connection) -> None:
        """Write the changes and start empty (entries first: the other tables point at
        them by id, looked up by key)."""
        counts = [(c.text(), n) for c, n in self.counts.items() if n]
        for sql, rows in (
                ("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                 [(f.path, f.size, f.mtime_ns, f.sha256, f.received) for f in self.files]),
                # An upsert, not a replace: a stored entry keeps its id.
                ("INSERT INTO entries (key, published_ts, visible_ts, draft, fingerprint, data) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                 "published_ts = excluded.published_ts, visible_ts = excluded.visible_ts, "
                 "draft = excluded.draft, fingerprint = excluded.fingerprint, "
                 "data = excluded.data", self.entries),
                (f"INSERT OR REPLACE INTO pending_pages VALUES (?, {ENTRY})", self.pages),
                (f"DELETE FROM memberships WHERE channel = ? AND entry = {ENTRY}",
                 [(c.text(), key) for c, key in self.left]),
                ("INSERT OR REPLACE INTO memberships SELECT ?, ?, id FROM entries WHERE key = ?",
                 [(c.text(), when, key) for c, key, when in self.joined]),
                # Per-channel counts, so listing sources or tags never scans the archive.
                ("INSERT INTO channel_counts VALUES (?, ?) ON CONFLICT(channel) DO UPDATE "
                 "SET entries = entries + excluded.entries", counts),
                ("DELETE FROM channel_counts WHERE channel = ? AND entries <= 0",
                 [(c,) for c, n in counts if n < 0]),
                ("INSERT OR IGNORE INTO dirty_channels VALUES (?)",
                 [(c.text(),) for c in sorted(self.dirty)]),
                ("INSERT OR IGNORE INTO carriers SELECT ?, id FROM entries WHERE key = ?",
                 [(path, key) for key, path in self.carriers]),
                ("INSERT OR REPLACE INTO corrections VALUES (?, ?)", self.corrected),
                (f"DELETE FROM image_uses WHERE image = ? AND entry = {ENTRY}", self.unshown),
                ("INSERT OR IGNORE INTO unused_images VALUES (?)",
                 [(image,) for image, _ in self.unshown]),
                ("INSERT OR IGNORE INTO image_uses SELECT ?, id FROM entries WHERE key = ?",
                 self.shown)):
            if rows:
                db.executemany(sql, rows)
        if self.bump:
            db.execute(BUMP)
        vars(self).update(vars(Batch()))  # in place: a store's batch holds this collector


def stored_rows(db: sqlite3.Connection, keys: list[str]) -> dict[str, tuple[bytes, bytes]]:
    """Fingerprint and data of those of *keys* already stored."""
    found: dict[str, tuple[bytes, bytes]] = {}
    for start in range(0, len(keys), 500):  # well under SQLite's limit on parameters
        chunk = keys[start:start + 500]
        found.update((k, (fp, data)) for k, fp, data in db.execute(
            f"SELECT key, fingerprint, data FROM entries WHERE key IN "
            f"({', '.join('?' * len(chunk))})", chunk))
    return found


def day_prefix(article: Article) -> str:
    """``source/YYYY-MM-DD/``: how the key of an article with a date of its own begins."""
    return f"{article.source}/{article.published.date().isoformat()}/"


def _public(article: Article, at: datetime) -> bool:
    """Whether readers could see *article* at *at*: not a draft, not embargoed."""
    return not article.draft and (not article.scheduled or article.published <= at)
