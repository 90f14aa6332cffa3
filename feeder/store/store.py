"""SQLite store of entries and of the files that carry them.

An entry lives as long as at least one file in the drop folder carries it. The store also
remembers each file's size, mtime and hash (so a rescan reads only what changed) and the
pages the next build must write or delete (so a build costs the feed's size, not the
archive's).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feeder.article import Article
from feeder.channel import Channel, Kind
from feeder.clock import Clock, system_clock
from feeder.store.batch import BUMP, Batch, Change, FileRow, stored_rows
from feeder.store.entries import Entry, Row, decode, encode, fault, slug_of, undecodable
from feeder.store.lineage import adopt, predecessors
from feeder.store.retract import drop_carriers, take_out
from feeder.store.schema import connect

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

    def __init__(self, path: Path, *, cache_mib: int | None = None,
                 clock: Clock | None = None) -> None:
        """*cache_mib*: SQLite's page cache, larger for one-off bulk work (a large import
        touches pages all over a store of hundreds of MB); SQLite's 2 MiB by default, so
        the long-running service stays small. *clock* dates what the store notes itself
        (a quarantine)."""
        self.path = path
        self.clock = clock or system_clock(UTC)
        self._lock = threading.RLock()
        self._cache_mib = cache_mib
        self._db = self._connect()
        self._writes: Batch | None = None  # gathered in a batch, not yet written
        # Files that carried a quarantined entry: to be read again (``take_rereads``).
        self._rereads: set[str] = set()

    def _connect(self) -> sqlite3.Connection:
        db = connect(self.path)
        db.create_function("slug_of", 1, slug_of, deterministic=True)
        if self._cache_mib:
            db.execute(f"PRAGMA cache_size = {-1024 * int(self._cache_mib)}")
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reopen(self) -> None:
        """Close and open the store again: after SQLite called the file corrupt, this
        moves it aside and starts afresh (the next scan refills it)."""
        with self._lock:
            self._db.close()
            self._writes = None
            self._db = self._connect()

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
            self._writes = Batch()
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
                    self._writes.before_read(self._db)
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk, say) may have rolled back already; either
                # way the connection must leave the transaction, or every later change
                # would think itself inside this one.
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise

    # Files ---------------------------------------------------------------------------

    def files(self) -> dict[str, FileRecord]:
        with self._lock:
            rows = self._db.execute("SELECT path, size, mtime_ns, sha256, received FROM files")
            return {r[0]: _file_record(r) for r in rows}

    def file(self, path: str) -> FileRecord | None:
        with self._lock:
            if self._writes is not None:
                self._writes.before_read(self._db, path=path)
            row = self._db.execute(
                "SELECT path, size, mtime_ns, sha256, received FROM files WHERE path = ?",
                (path,)).fetchone()
        return _file_record(row) if row else None

    def touch_file(self, record: FileRecord) -> None:
        """Remember a file's new size and mtime when its content did not change."""
        with self._transaction() as db:
            db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                       (record.size, record.mtime_ns, record.path))

    def put_file(self, record: FileRecord, entries: Sequence[Entry | Article],
                 edited_at: datetime, *, keep: bool = False) -> Changes:
        """Make *entries* exactly what *record*'s file carries; return what changed.

        An entry already stored keeps its ``published``; if what readers see changed, its
        ``updated`` becomes *edited_at* (the file's mtime). An article whose key was never
        stored may be a corrected version of a stored entry (``lineage``): it then takes
        that entry's key, and when the file's content changed (not when it is only read
        again) the entry notes what was corrected. Entries the file no longer carries are
        retracted unless another file carries them or *keep* is set. Articles given bare
        are encoded here (``entries.encode``, which the scan runs elsewhere).
        """
        encoded = [e if isinstance(e, Entry) else encode(e) for e in entries]
        keys = [e.article.key for e in encoded]
        with self._transaction(flush=False) as db:
            writes = self._writes or Batch()  # the batch's, or this call's own
            writes.before_read(db, path=record.path, keys=keys)
            old_keys = self._carried(db, record.path)
            seen = db.execute("SELECT sha256 FROM files WHERE path = ?",
                              (record.path,)).fetchone()
            edited = seen is None or seen[0] != record.sha256
            stored = stored_rows(db, keys)
            for key, (_, data) in list(stored.items()):
                if (problem := fault(data)) is not None:
                    writes.flush(db)
                    take_out(db, key, problem, self.clock(), self._rereads, storing=record.path)
                    del stored[key]  # stored afresh from this file, as a new entry
            new = {k for k in keys if k not in stored}
            if new and (found := predecessors(db, writes, encoded, new,
                                              old_keys - set(keys))):
                encoded = [adopt(e, found[e.article.key]) if e.article.key in found else e
                           for e in encoded]
                keys = [e.article.key for e in encoded]
                taken = [a.key for a in found.values()]
                writes.before_read(db, keys=taken)  # (with no keys, it writes everything)
                stored.update(stored_rows(db, taken))
            outcomes: list[Change] = []
            for entry in encoded:
                writes.before_read(db, keys=[entry.article.key])  # the same entry twice
                if entry.article.key in stored and self._newer_elsewhere(
                        db, entry.article.key, record):
                    # An older copy of the page (saved before the one the entry was read
                    # from) carries the entry too, but never takes back what the newer
                    # copy corrected.
                    outcomes.append(Change.SAME)
                    continue
                outcomes.append(writes.upsert(stored, entry, edited_at, correct=edited))
            # After any flush above, which starts the collector empty.
            writes.put_file(FileRow(record.path, record.size, record.mtime_ns, record.sha256,
                                    record.received.isoformat()), keys)
            removed = 0
            if gone := old_keys - set(keys):
                writes.flush(db)  # retracting asks which files carry an entry: all of them
                removed = drop_carriers(db, record.path, gone, keep, self.clock(), self._rereads)
            changes = Changes(outcomes.count(Change.ADDED), outcomes.count(Change.UPDATED),
                              removed)
            writes.bump |= bool(changes)
            if writes is not self._writes:
                writes.flush(db)
            return changes

    def remove_file(self, path: str, *, keep: bool = False) -> Changes:
        """Forget a deleted file; retract the entries no other file carries, unless *keep*."""
        with self._transaction() as db:
            keys = self._carried(db, path)
            removed = drop_carriers(db, path, keys, keep, self.clock(), self._rereads)
            db.execute("DELETE FROM files WHERE path = ?", (path,))
            if removed:
                db.execute(BUMP)
            return Changes(removed=removed)

    def add_rejection(self, path: str, reason: str, at: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO rejections (path, reason, at) VALUES (?, ?, ?)",
                       (path, reason, at.isoformat()))

    def set_unreadable(self, path: str, reason: str, since: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO unreadable VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE "
                       "SET reason = excluded.reason WHERE reason != excluded.reason",
                       (path, reason, since.isoformat()))

    def clear_unreadable(self, paths: Sequence[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM unreadable WHERE path = ?", [(p,) for p in paths])

    def unreadable(self) -> dict[str, tuple[str, str]]:
        """Names in the drop folder that cannot be read: path → (reason, since)."""
        with self._lock:
            return {p: (r, s) for p, r, s in self._db.execute(
                "SELECT path, reason, since FROM unreadable ORDER BY path")}

    def quarantine(self, key: str, reason: str) -> None:
        """Take an entry whose stored row cannot be decoded out of every feed, keeping the
        row for a post-mortem; the files that carried it are read again (``take_rereads``)
        and make it afresh. Every other entry keeps publishing."""
        with self._transaction() as db:
            take_out(db, key, reason, self.clock(), self._rereads)

    def quarantined(self, limit: int = 20) -> list[tuple[str, str, str, str]]:
        """Recent quarantined entries: (key, reason, when, the files read again)."""
        with self._lock:
            return list(self._db.execute(
                "SELECT key, reason, at, paths FROM quarantine ORDER BY id DESC LIMIT ?",
                (limit,)))

    def take_rereads(self) -> list[str]:
        """Files that carried quarantined entries since the last call, to read again."""
        with self._lock:
            paths, self._rereads = sorted(self._rereads), set()
        return paths

    def rejections(self, limit: int = 20) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._db.execute(
                "SELECT path, reason, at FROM rejections ORDER BY id DESC LIMIT ?", (limit,)))

    # Entries -------------------------------------------------------------------------

    def latest(self, limit: int, now: datetime, channel: Channel | None = None) -> list[Row]:
        """The newest *limit* entries visible at *now* (of *channel*, if given), newest first:
        their rows, decoded by whoever renders them (``articles`` here, or the publish
        stage where it renders them).

        Drafts and embargoed entries are left out. The cost does not grow with the archive:
        the walk down a time index stops after *limit* rows (plus the few embargoed).
        """
        visible = "e.draft = 0 AND e.visible_ts <= ?"
        if channel is None:
            sql = (f"SELECT e.key, e.data FROM entries e WHERE {visible} "
                   "ORDER BY e.published_ts DESC, e.key LIMIT ?")
            args: tuple[object, ...] = (now.timestamp(), limit)
        else:
            sql = ("SELECT e.key, e.data FROM memberships m JOIN entries e ON e.id = m.entry "
                   f"WHERE m.channel = ? AND {visible} ORDER BY m.published_ts DESC, e.key "
                   "LIMIT ?")
            args = (channel.text(), now.timestamp(), limit)
        with self._lock:
            return [Row(key, data) for key, data in self._db.execute(sql, args)]

    def newest(self, limit: int, now: datetime, channel: Channel | None = None
               ) -> list[Article]:
        """``latest``, decoded here."""
        return self.articles(self.latest(limit, now, channel))

    def corrected(self, limit: int, now: datetime) -> list[Row]:
        """The *limit* entries visible at *now* whose title or text was corrected after
        they were published, the latest correction first: their rows, as ``latest`` gives
        them (what the corrections feed lists). The walk down the corrections' time index
        stops after *limit* rows."""
        with self._lock:
            return [Row(key, data) for key, data in self._db.execute(
                "SELECT e.key, e.data FROM corrections c JOIN entries e ON e.key = c.key "
                "WHERE e.draft = 0 AND e.visible_ts <= ? ORDER BY c.at_ts DESC, c.key "
                "LIMIT ?", (now.timestamp(), limit))]

    def newest_corrected(self, limit: int, now: datetime) -> list[Article]:
        """``corrected``, decoded here."""
        return self.articles(self.corrected(limit, now))

    def articles(self, rows: Sequence[Row]) -> list[Article]:
        """The articles of stored rows; a row that cannot be decoded is quarantined
        (``quarantine``) and left out, so one bad row never stops the rest."""
        articles = []
        for row in rows:
            try:
                articles.append(decode(row.data))
            except Exception as exc:  # any fault of the row's content, whatever it is
                self.quarantine(row.key, undecodable(exc))
        return articles

    def released(self, since: datetime | None, until: datetime) -> list[Article]:
        """Embargoed entries whose time came in (*since*, *until*].

        Without a *since* (nothing built yet) nothing was held back, so nothing is released.
        """
        if since is None:
            return []
        with self._lock:
            rows = list(self._db.execute(
                "SELECT key, data FROM entries WHERE draft = 0 AND visible_ts > ? AND "
                "visible_ts <= ? ORDER BY visible_ts", (since.timestamp(), until.timestamp())))
        return self.articles([Row(key, data) for key, data in rows])

    def scheduled(self, now: datetime, limit: int = -1) -> list[Article]:
        """Entries waiting for their publication time, soonest first."""
        with self._lock:
            rows = list(self._db.execute(
                "SELECT key, data FROM entries WHERE draft = 0 AND visible_ts > ? "
                "ORDER BY visible_ts LIMIT ?", (now.timestamp(), limit)))
        return self.articles([Row(key, data) for key, data in rows])

    def channels(self, kind: Kind) -> dict[str, int]:
        """The names of the channels of *kind* with their entry counts."""
        with self._lock:
            rows = self._db.execute(
                "SELECT channel, entries FROM channel_counts WHERE channel >= ? AND channel < ? "
                "ORDER BY channel", (f"{kind}:", f"{kind};"))
            return {channel.split(":", 1)[1]: n for channel, n in rows}

    def sources(self) -> dict[str, int]:
        return self.channels("source")

    def dirty_channels(self) -> list[Channel]:
        """Channels whose feeds changed since the last build."""
        with self._lock:
            return [Channel.of_text(c) for (c,) in self._db.execute(
                "SELECT channel FROM dirty_channels")]

    def get(self, key: str) -> Article | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM entries WHERE key = ?", (key,)).fetchone()
        found = self.articles([Row(key, row[0])]) if row else []
        return found[0] if found else None

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

    def pending(self, now: datetime, batch: int = 500) -> Iterator[tuple[str, Row | None]]:
        """Article pages to write (their slug and their entry's row) or delete (the row
        None). Pages of embargoed entries stay pending until their time. Read in batches,
        so a full rebuild of a large archive never holds it all in memory.
        """
        after = ""
        while True:
            with self._lock:
                rows = list(self._db.execute(
                    "SELECT p.slug, e.key, e.data FROM pending_pages p LEFT JOIN entries e "
                    "ON e.id = p.entry AND e.draft = 0 WHERE p.slug > ? AND "
                    "(e.visible_ts IS NULL OR e.visible_ts <= ?) ORDER BY p.slug LIMIT ?",
                    (after, now.timestamp(), batch)))
            yield from ((slug, Row(key, data) if data is not None else None)
                        for slug, key, data in rows)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def look_at_images(self, images: Sequence[str]) -> None:
        """Have ``unused_images`` look at *images* too (those no entry shows are unused)."""
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO unused_images VALUES (?)",
                           [(image,) for image in images])

    def unused_images(self) -> list[str]:
        """The images entries stopped showing (retracted, or given another picture) that
        no entry shows now: to delete from the outputs, then to pass to ``mark_built``."""
        with self._lock:
            if not self._db.execute("SELECT 1 FROM unused_images LIMIT 1").fetchone():
                return []  # the usual build: nothing written for it
        with self._transaction() as db:
            db.execute("DELETE FROM unused_images WHERE image IN (SELECT image FROM image_uses)")
            return [image for (image,) in db.execute(
                "SELECT image FROM unused_images ORDER BY image")]

    def mark_built(self, generation: int, slugs: Sequence[str], channels: Sequence[Channel],
                   built_at: datetime, images: Sequence[str] = ()) -> None:
        """Note a build of *generation* done: the pages of *slugs* written or deleted, the
        *channels* rendered, the unused *images* deleted."""
        with self._transaction() as db:
            db.executemany("DELETE FROM unused_images WHERE image = ?", [(i,) for i in images])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built_at', ?)",
                       (built_at.isoformat(),))
            db.executemany("DELETE FROM pending_pages WHERE slug = ?", [(s,) for s in slugs])
            db.executemany("DELETE FROM dirty_channels WHERE channel = ?",
                           [(c.text(),) for c in channels])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built_generation', ?)",
                       (str(generation),))

    def mark_all_pages_pending(self) -> None:
        with self._transaction() as db:
            # A row whose slug cannot be read is still made pending, under a name no slug
            # has (none starts with "."), so rendering it finds it undecodable and
            # quarantines it.
            db.execute("INSERT OR REPLACE INTO pending_pages SELECT "
                       "COALESCE(slug_of(data), '.' || key), id FROM entries")
            db.execute("INSERT OR IGNORE INTO dirty_channels SELECT channel FROM channel_counts")
            db.execute(BUMP)

    # Internals -----------------------------------------------------------------------

    @staticmethod
    def _newer_elsewhere(db: sqlite3.Connection, key: str, record: FileRecord) -> bool:
        """Whether another file carrying entry *key* was saved after *record*'s file."""
        return db.execute(
            "SELECT 1 FROM entries e JOIN carriers c ON c.entry = e.id JOIN files f "
            "ON f.path = c.path WHERE e.key = ? AND c.path != ? AND f.mtime_ns > ? LIMIT 1",
            (key, record.path, record.mtime_ns)).fetchone() is not None

    @staticmethod
    def _carried(db: sqlite3.Connection, path: str) -> set[str]:
        """The keys of the entries *path*'s file carries."""
        return {k for (k,) in db.execute("SELECT e.key FROM carriers c JOIN entries e "
                                         "ON e.id = c.entry WHERE c.path = ?", (path,))}

def _file_record(row: tuple[str, int, int, str, str]) -> FileRecord:
    path, size, mtime_ns, sha256, received = row
    return FileRecord(path, size, mtime_ns, sha256, datetime.fromisoformat(received))
