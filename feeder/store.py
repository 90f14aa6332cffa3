"""SQLite store of entries and of the files that carry them.

An entry lives as long as at least one file in the drop folder carries it. The store also
remembers each file's size, mtime and hash (so a rescan reads only what changed) and the
pages the next build must write or delete (so a build costs the feed's size, not the
archive's).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feeder.article import Article
from feeder.database import connect
from feeder.rows import BUMP, Writes, stored_article, stored_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileRecord:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    received: datetime


@dataclass(frozen=True)
class Changes:
    added: int = 0
    updated: int = 0
    removed: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def __add__(self, other: Changes) -> Changes:
        return Changes(self.added + other.added, self.updated + other.updated,
                       self.removed + other.removed)


class Store:
    """All reads and writes of feeder's state; safe to share between threads."""

    def __init__(self, path: Path, *, cache_mib: int | None = None) -> None:
        """*cache_mib*: SQLite's page cache, larger for one-off bulk work (a large import
        touches pages all over a store of hundreds of MB); SQLite's 2 MiB by default, so
        the long-running service stays small."""
        self.path = path
        self._lock = threading.RLock()
        self._db = connect(path)
        self._writes: Writes | None = None  # gathered in a batch, not yet written
        if cache_mib:
            self._db.execute(f"PRAGMA cache_size = {-1024 * int(cache_mib)}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many changes into one commit, which is much faster than one each; the
        files' rows are gathered and written a statement per table.

        Within it, ``file``, ``put_file`` and every other change first write what they
        would read; the other reads see the gathered rows only once the batch ends. A
        crash loses the whole batch, files and entries together, so the next scan simply
        reads those files again.
        """
        with self._transaction() as db:
            if self._writes is not None:  # already in one
                yield
                return
            self._writes = Writes()
            try:
                yield
                self._writes.flush(db)
            finally:
                self._writes = None

    @contextmanager
    def _transaction(self, *, flush: bool = True) -> Iterator[sqlite3.Connection]:
        """One commit; inside ``batch`` the batch's, after writing what it gathered unless
        the caller (``put_file``) sees to that itself."""
        with self._lock:
            if self._db.in_transaction:  # inside batch(): its commit covers this change
                if flush and self._writes is not None:
                    self._writes.flush(self._db)
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Files ---------------------------------------------------------------------------

    def files(self) -> dict[str, FileRecord]:
        with self._lock:
            rows = self._db.execute("SELECT path, size, mtime_ns, sha256, received FROM files")
            return {r[0]: _file_record(r) for r in rows}

    def file(self, path: str) -> FileRecord | None:
        with self._lock:
            if self._writes is not None and path in self._writes.paths:
                self._writes.flush(self._db)
            row = self._db.execute(
                "SELECT path, size, mtime_ns, sha256, received FROM files WHERE path = ?",
                (path,)).fetchone()
        return _file_record(row) if row else None

    def touch_file(self, record: FileRecord) -> None:
        """Remember a file's new size and mtime when its content did not change."""
        with self._transaction() as db:
            db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                       (record.size, record.mtime_ns, record.path))

    def put_file(self, record: FileRecord, articles: Sequence[Article],
                 edited_at: datetime, *, keep: bool = False) -> Changes:
        """Make *articles* exactly what *record*'s file carries; return what changed.

        An article already stored keeps its ``published``; if what readers see changed, its
        ``updated`` becomes *edited_at* (the file's mtime). Articles the file no longer
        carries are retracted unless another file carries them or *keep* is set.
        """
        keys = [a.key for a in articles]
        with self._transaction(flush=False) as db:
            writes = self._writes or Writes()  # the batch's, or this call's own
            if writes.touches(record.path, keys):
                writes.flush(db)  # what follows reads this file's rows: write them first
            old_keys = {k for (k,) in db.execute(
                "SELECT key FROM carriers WHERE path = ?", (record.path,))}
            stored = stored_rows(db, keys)
            added = updated = 0
            for article in articles:
                if article.key in writes.keys:  # the same entry twice: in order, then
                    writes.flush(db)
                outcome = writes.upsert(stored, article, edited_at)
                added += outcome == "added"
                updated += outcome == "updated"
            # After any flush above, which starts the collector empty.
            writes.paths.add(record.path)
            writes.files.append((record.path, record.size, record.mtime_ns, record.sha256,
                                 record.received.isoformat()))
            writes.carriers += [(key, record.path) for key in keys]
            removed = 0
            if gone := old_keys - set(keys):
                writes.flush(db)  # retracting asks which files carry an entry: all of them
                removed = self._drop_carriers(db, record.path, gone, keep)
            changes = Changes(added, updated, removed)
            writes.bump |= bool(changes)
            if writes is not self._writes:
                writes.flush(db)
            return changes

    def remove_file(self, path: str, *, keep: bool = False) -> Changes:
        """Forget a deleted file; retract the entries no other file carries, unless *keep*."""
        with self._transaction() as db:
            keys = {k for (k,) in db.execute("SELECT key FROM carriers WHERE path = ?", (path,))}
            removed = self._drop_carriers(db, path, keys, keep)
            db.execute("DELETE FROM files WHERE path = ?", (path,))
            if removed:
                db.execute(BUMP)
            return Changes(removed=removed)

    def add_rejection(self, path: str, reason: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO rejections (path, reason, at) VALUES (?, ?, ?)",
                       (path, reason, at.isoformat()))

    def rejections(self, limit: int = 20) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._db.execute(
                "SELECT path, reason, at FROM rejections ORDER BY id DESC LIMIT ?", (limit,)))

    # Entries -------------------------------------------------------------------------

    def latest(self, limit: int, now: datetime, channel: str | None = None) -> list[Article]:
        """The newest *limit* entries visible at *now* (of *channel*, if given), newest first.

        Drafts and embargoed entries are left out. The cost does not grow with the archive:
        the walk down a time index stops after *limit* rows (plus the few embargoed).
        """
        return [stored_article(data) for data in self.latest_rows(limit, now, channel)]

    def latest_rows(self, limit: int, now: datetime, channel: str | None = None) -> list[str]:
        """``latest`` as stored rows, undecoded (for workers, which decode them)."""
        visible = "e.draft = 0 AND e.visible_ts <= ?"
        if channel is None:
            sql = (f"SELECT e.data FROM entries e WHERE {visible} "
                   "ORDER BY e.published_ts DESC, e.key LIMIT ?")
            args: tuple[object, ...] = (now.timestamp(), limit)
        else:
            sql = ("SELECT e.data FROM memberships m JOIN entries e ON e.key = m.key WHERE "
                   f"m.channel = ? AND {visible} ORDER BY m.published_ts DESC, m.key LIMIT ?")
            args = (channel, now.timestamp(), limit)
        with self._lock:
            return [data for (data,) in self._db.execute(sql, args)]

    def released(self, since: datetime | None, until: datetime) -> list[Article]:
        """Embargoed entries whose time came in (*since*, *until*].

        Without a *since* (nothing built yet) nothing was held back, so nothing is released.
        """
        if since is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM entries WHERE draft = 0 AND visible_ts > ? AND "
                "visible_ts <= ? ORDER BY visible_ts", (since.timestamp(), until.timestamp()))
            return [stored_article(data) for (data,) in rows]

    def scheduled(self, now: datetime, limit: int = -1) -> list[Article]:
        """Entries waiting for their publication time, soonest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM entries WHERE draft = 0 AND visible_ts > ? "
                "ORDER BY visible_ts LIMIT ?", (now.timestamp(), limit))
            return [stored_article(data) for (data,) in rows]

    def channels(self, kind: str) -> dict[str, int]:
        """The channels of *kind* ("source", "tag", "month") with their entry counts."""
        with self._lock:
            rows = self._db.execute(
                "SELECT channel, entries FROM channel_counts WHERE channel >= ? AND channel < ? "
                "ORDER BY channel", (f"{kind}:", f"{kind};"))
            return {channel.split(":", 1)[1]: n for channel, n in rows}

    def sources(self) -> dict[str, int]:
        return self.channels("source")

    def dirty_channels(self) -> list[str]:
        """Channels whose feeds changed since the last build, as "kind:name"."""
        with self._lock:
            return [c for (c,) in self._db.execute("SELECT channel FROM dirty_channels")]

    def get(self, key: str) -> Article | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM entries WHERE key = ?", (key,)).fetchone()
        return stored_article(row[0]) if row else None

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    # Build bookkeeping ---------------------------------------------------------------

    def generation(self) -> int:
        """A number that grows with every change to the entries."""
        return int(self.meta("generation") or 0)

    def meta(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def pending_rows(self, now: datetime, batch: int = 500) -> Iterator[tuple[str, str | None]]:
        """Article pages to write (with their entry's stored row, undecoded: workers
        decode what they render) or delete (with None).

        Pages of embargoed entries stay pending until their time. Read in batches, so a
        full rebuild of a large archive never holds it all in memory.
        """
        after = ""
        while True:
            with self._lock:
                rows = list(self._db.execute(
                    "SELECT p.slug, e.data FROM pending_pages p LEFT JOIN entries e "
                    "ON e.key = p.key AND e.draft = 0 WHERE p.slug > ? AND "
                    "(e.visible_ts IS NULL OR e.visible_ts <= ?) ORDER BY p.slug LIMIT ?",
                    (after, now.timestamp(), batch)))
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def mark_built(self, generation: int, slugs: Sequence[str], channels: Sequence[str],
                   built_at: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built_at', ?)",
                       (built_at.isoformat(),))
            db.executemany("DELETE FROM pending_pages WHERE slug = ?", [(s,) for s in slugs])
            db.executemany("DELETE FROM dirty_channels WHERE channel = ?",
                           [(c,) for c in channels])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built_generation', ?)",
                       (str(generation),))

    def mark_all_pages_pending(self) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO pending_pages SELECT json_extract(data, "
                       "'$.slug'), key FROM entries")
            db.execute("INSERT OR IGNORE INTO dirty_channels SELECT channel FROM channel_counts")
            db.execute(BUMP)

    # Internals -----------------------------------------------------------------------

    def _drop_carriers(self, db: sqlite3.Connection, path: str, keys: set[str],
                       keep: bool) -> int:
        removed = 0
        writes = Writes()
        for key in keys:
            db.execute("DELETE FROM carriers WHERE path = ? AND key = ?", (path, key))
            if keep or db.execute("SELECT 1 FROM carriers WHERE key = ? LIMIT 1",
                                  (key,)).fetchone():
                continue
            row = db.execute("DELETE FROM entries WHERE key = ? RETURNING data",
                             (key,)).fetchone()
            if row:
                old = stored_article(row[0])
                writes.pages.append((old.slug, None))
                writes.join(old, None)
                removed += 1
        writes.flush(db)
        return removed


def _file_record(row: tuple[str, int, int, str, str]) -> FileRecord:
    path, size, mtime_ns, sha256, received = row
    return FileRecord(path, size, mtime_ns, sha256, datetime.fromisoformat(received))
