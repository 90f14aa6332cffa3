"""SQLite store of entries and of the files that carry them.

An entry lives as long as at least one file in the drop folder carries it. The store also
remembers each file's size, mtime and hash (so a rescan reads only what changed) and the
pages the next build must write or delete (so a build costs the feed's size, not the
archive's).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from feeder.article import Article

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, received TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY, source TEXT NOT NULL, published_ts REAL NOT NULL,
    visible_ts REAL NOT NULL, draft INTEGER NOT NULL, fingerprint TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_visibility ON entries (visible_ts);
CREATE INDEX IF NOT EXISTS entries_by_time ON entries (published_ts DESC, key);
CREATE INDEX IF NOT EXISTS entries_by_source ON entries (source, published_ts DESC, key);
CREATE TABLE IF NOT EXISTS sources (source TEXT PRIMARY KEY, entries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dirty_sources (source TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS carriers (
    key TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (path, key)
);
CREATE INDEX IF NOT EXISTS carriers_by_key ON carriers (key);
CREATE TABLE IF NOT EXISTS pending_pages (slug TEXT PRIMARY KEY, key TEXT);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


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

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            # The drop folder is the source of truth: start afresh and let a scan refill.
            aside = path.with_name(f"{path.name}.broken-{int(time.time())}")
            log.warning("store %s is unusable (%s); moved to %s, rebuilding from the drop "
                        "folder", path, exc, aside.name)
            for suffix in ("", "-wal", "-shm"):
                broken = Path(f"{path}{suffix}")
                if broken.exists():
                    broken.replace(f"{aside}{suffix}")
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables and version != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {version}, expected "
                                            f"{SCHEMA_VERSION}")
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process; only power loss can undo a commit.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            (check,) = db.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(check)
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
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
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                       (record.path, record.size, record.mtime_ns, record.sha256,
                        record.received.isoformat()))
            old_keys = {k for (k,) in db.execute(
                "SELECT key FROM carriers WHERE path = ?", (record.path,))}
            added = updated = 0
            for article in articles:
                outcome = self._upsert(db, article, edited_at)
                added += outcome == "added"
                updated += outcome == "updated"
                db.execute("INSERT OR IGNORE INTO carriers VALUES (?, ?)",
                           (article.key, record.path))
            gone = old_keys - {a.key for a in articles}
            removed = self._drop_carriers(db, record.path, gone, keep)
            changes = Changes(added, updated, removed)
            if changes:
                self._bump(db)
            return changes

    def remove_file(self, path: str, *, keep: bool = False) -> Changes:
        """Forget a deleted file; retract the entries no other file carries, unless *keep*."""
        with self._transaction() as db:
            keys = {k for (k,) in db.execute("SELECT key FROM carriers WHERE path = ?", (path,))}
            removed = self._drop_carriers(db, path, keys, keep)
            db.execute("DELETE FROM files WHERE path = ?", (path,))
            if removed:
                self._bump(db)
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

    def latest(self, limit: int, now: datetime, source: str | None = None) -> list[Article]:
        """The newest *limit* entries visible at *now*, newest first.

        Drafts and embargoed entries are left out. The cost does not grow with the archive:
        the walk down the time index stops after *limit* rows (plus the few embargoed).
        """
        where = "draft = 0 AND visible_ts <= ?"
        args: list[object] = [now.timestamp()]
        if source is not None:
            where, args = where + " AND source = ?", [*args, source]
        with self._lock:
            rows = self._db.execute(
                f"SELECT data FROM entries WHERE {where} "
                "ORDER BY published_ts DESC, key LIMIT ?", (*args, limit))
            return [Article.from_dict(json.loads(data)) for (data,) in rows]

    def released(self, since: datetime | None, until: datetime) -> list[Article]:
        """Embargoed entries whose time came in (*since*, *until*]."""
        low = since.timestamp() if since else 0.0
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM entries WHERE draft = 0 AND visible_ts > ? AND "
                "visible_ts <= ? ORDER BY visible_ts", (low, until.timestamp()))
            return [Article.from_dict(json.loads(data)) for (data,) in rows]

    def scheduled(self, now: datetime, limit: int = -1) -> list[Article]:
        """Entries waiting for their publication time, soonest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM entries WHERE draft = 0 AND visible_ts > ? "
                "ORDER BY visible_ts LIMIT ?", (now.timestamp(), limit))
            return [Article.from_dict(json.loads(data)) for (data,) in rows]

    def sources(self) -> dict[str, int]:
        """Every source with its number of entries."""
        with self._lock:
            return dict(self._db.execute("SELECT source, entries FROM sources ORDER BY source"))

    def dirty_sources(self) -> list[str]:
        """Sources whose feeds changed since the last build."""
        with self._lock:
            return [s for (s,) in self._db.execute("SELECT source FROM dirty_sources")]

    def get(self, key: str) -> Article | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM entries WHERE key = ?", (key,)).fetchone()
        return Article.from_dict(json.loads(row[0])) if row else None

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

    def pending_pages(self, now: datetime) -> list[tuple[str, Article | None]]:
        """Article pages to write (with their article) or delete (with None).

        Pages of embargoed entries stay pending until their time.
        """
        with self._lock:
            rows = list(self._db.execute(
                "SELECT p.slug, e.data FROM pending_pages p LEFT JOIN entries e "
                "ON e.key = p.key AND e.draft = 0 WHERE e.visible_ts IS NULL OR "
                "e.visible_ts <= ?", (now.timestamp(),)))
        return [(slug, Article.from_dict(json.loads(d)) if d else None) for slug, d in rows]

    def mark_built(self, generation: int, slugs: Sequence[str], sources: Sequence[str],
                   built_at: datetime) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built_at', ?)",
                       (built_at.isoformat(),))
            db.executemany("DELETE FROM pending_pages WHERE slug = ?", [(s,) for s in slugs])
            db.executemany("DELETE FROM dirty_sources WHERE source = ?", [(s,) for s in sources])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built_generation', ?)",
                       (str(generation),))

    def mark_all_pages_pending(self) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO pending_pages SELECT json_extract(data, "
                       "'$.slug'), key FROM entries")
            db.execute("INSERT OR IGNORE INTO dirty_sources SELECT source FROM sources")
            self._bump(db)

    # Internals -----------------------------------------------------------------------

    def _upsert(self, db: sqlite3.Connection, article: Article, edited_at: datetime) -> str:
        row = db.execute("SELECT fingerprint, data FROM entries WHERE key = ?",
                         (article.key,)).fetchone()
        if row and row[0] == article.fingerprint:
            return "same"
        if row:
            old = Article.from_dict(json.loads(row[1]))
            article = replace(article, published=old.published,
                              updated=max(edited_at, old.updated, old.published))
            if old.slug != article.slug:
                db.execute("INSERT OR REPLACE INTO pending_pages VALUES (?, NULL)", (old.slug,))
            if old.source != article.source:
                self._count(db, old.source, -1)
                self._count(db, article.source, +1)
        else:
            self._count(db, article.source, +1)
        published = article.published.timestamp()
        db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", (
            article.key, article.source, published, published if article.scheduled else 0.0,
            int(article.draft), article.fingerprint,
            json.dumps(article.to_dict(), ensure_ascii=False)))
        db.execute("INSERT OR REPLACE INTO pending_pages VALUES (?, ?)",
                   (article.slug, article.key))
        db.execute("INSERT OR IGNORE INTO dirty_sources VALUES (?)", (article.source,))
        return "updated" if row else "added"

    def _drop_carriers(self, db: sqlite3.Connection, path: str, keys: set[str],
                       keep: bool) -> int:
        removed = 0
        for key in keys:
            db.execute("DELETE FROM carriers WHERE path = ? AND key = ?", (path, key))
            if keep or db.execute("SELECT 1 FROM carriers WHERE key = ? LIMIT 1",
                                  (key,)).fetchone():
                continue
            row = db.execute("DELETE FROM entries WHERE key = ? RETURNING json_extract(data, "
                             "'$.slug'), source", (key,)).fetchone()
            if row:
                db.execute("INSERT OR REPLACE INTO pending_pages VALUES (?, NULL)", (row[0],))
                self._count(db, row[1], -1)
                removed += 1
        return removed

    def _count(self, db: sqlite3.Connection, source: str, delta: int) -> None:
        """Keep per-source counts, so listing sources never scans the archive."""
        db.execute("INSERT INTO sources VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET "
                   "entries = entries + excluded.entries", (source, delta))
        db.execute("DELETE FROM sources WHERE source = ? AND entries <= 0", (source,))
        db.execute("INSERT OR IGNORE INTO dirty_sources VALUES (?)", (source,))

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(name) DO UPDATE "
                   "SET value = CAST(value AS INTEGER) + 1")


def _file_record(row: tuple[str, int, int, str, str]) -> FileRecord:
    path, size, mtime_ns, sha256, received = row
    return FileRecord(path, size, mtime_ns, sha256, datetime.fromisoformat(received))
