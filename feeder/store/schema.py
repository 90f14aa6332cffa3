"""Opening feeder's SQLite file: schema, WAL, and recovery from a broken or old file.

The drop folder is the source of truth, so a store that cannot be used (corrupt, not a
database, or from a schema version with no migration) is moved aside and started afresh;
the next scan refills it. A store of the version before is migrated in place instead: the
files' arrival times and the entries' first ``published`` are in the store alone. A store
that is only busy, locked, on a full disk or failing I/O is left alone: the caller is told
(``StoreUnavailable``) and tries again.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path

from feeder.article import images_of
from feeder.errors import StoreUnavailable
from feeder.store.entries import FINGERPRINT, compress, decode

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5
# Lean (issue 18): an entry's text key is stored once with its index; the tables that point
# at entries (memberships, carriers, pending pages) hold its integer id instead, and are
# WITHOUT ROWID where their primary key is all they hold. Rows (``entries.encode``) are
# compressed JSON; fingerprints are bytes.
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, received TEXT NOT NULL
);
-- AUTOINCREMENT: an id is never given again, so nothing that outlived its entry can point
-- at another one.
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
    published_ts REAL NOT NULL, visible_ts REAL NOT NULL, draft INTEGER NOT NULL,
    fingerprint BLOB NOT NULL, data BLOB NOT NULL
);
-- Ties of time are ordered by key when read (a sort of the few tied rows, not an index).
CREATE INDEX IF NOT EXISTS entries_by_time ON entries (published_ts DESC);
CREATE INDEX IF NOT EXISTS entries_by_visibility ON entries (visible_ts);
-- The feeds besides the aggregate an entry appears in: "source:…", "tag:…", "month:…".
CREATE TABLE IF NOT EXISTS memberships (
    channel TEXT NOT NULL, published_ts REAL NOT NULL, entry INTEGER NOT NULL,
    PRIMARY KEY (channel, published_ts DESC, entry)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_entry ON memberships (entry);
CREATE TABLE IF NOT EXISTS channel_counts (channel TEXT PRIMARY KEY, entries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dirty_channels (channel TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS carriers (
    path TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (path, entry)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS carriers_by_entry ON carriers (entry);
-- entry NULL: the page is to be deleted.
CREATE TABLE IF NOT EXISTS pending_pages (slug TEXT PRIMARY KEY, entry INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Names in the drop folder that cannot be read (a FIFO, no permission), and why.
CREATE TABLE IF NOT EXISTS unreadable (
    path TEXT PRIMARY KEY, reason TEXT NOT NULL, since TEXT NOT NULL
);
-- Stored entries feeder could not decode: taken out of the feeds, read again from files.
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL,
    paths TEXT NOT NULL, data BLOB
);
-- Entries corrected after they were published, by their latest correction: what the
-- corrections feed and `feeder status` list (the corrections themselves are in the entry).
CREATE TABLE IF NOT EXISTS corrections (key TEXT PRIMARY KEY, at_ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS corrections_by_time ON corrections (at_ts DESC, key);
"""
# Which entries show which image (``article.images_of``), and the images an entry stopped
# showing, to delete at the next build if no entry shows them any more: a retracted
# article's photo must not stay published.
IMAGES = """
CREATE TABLE IF NOT EXISTS image_uses (
    image TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (image, entry)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS image_uses_by_entry ON image_uses (entry);
CREATE TABLE IF NOT EXISTS unused_images (image TEXT PRIMARY KEY) WITHOUT ROWID;
"""
# Tables added since a schema version was fixed: created where missing, nothing else
# changes, so an older store keeps its history instead of being rebuilt. (The image tables
# are filled from the stored entries as they are created: ``_track_images``.)
ADDED_TABLES = frozenset({"unreadable", "quarantine", "corrections"})
# Version 4's tables that version 5 reshaped: migrated in place (``_migrate``), never moved
# aside, which would lose every file's arrival time and every entry's first ``published``.
RESHAPED = ("entries", "memberships", "carriers", "pending_pages")
MIGRATE_FROM_4 = """
INSERT INTO entries (key, published_ts, visible_ts, draft, fingerprint, data)
    SELECT key, published_ts, visible_ts, draft, v4_fingerprint(fingerprint), v4_row(data)
    FROM old_entries ORDER BY published_ts, key;
INSERT INTO memberships SELECT m.channel, m.published_ts, e.id
    FROM old_memberships m JOIN entries e ON e.key = m.key;
-- A carrier of a key with no entry (one taken out of the feeds) has no id to point at: its
-- file is read again instead, as ``retract.take_out`` does now.
UPDATE files SET size = -1, sha256 = '' WHERE path IN (
    SELECT c.path FROM old_carriers c WHERE c.key NOT IN (SELECT key FROM entries));
INSERT INTO carriers SELECT c.path, e.id FROM old_carriers c JOIN entries e ON e.key = c.key;
INSERT INTO pending_pages SELECT p.slug, e.id
    FROM old_pending_pages p LEFT JOIN entries e ON e.key = p.key;
"""


# SQLite's primary result codes that mean the file itself is damaged. Everything else
# (busy, locked, full, I/O errors, cannot open) is the machine's state, not the store's:
# moving a healthy store aside for one of those would throw away every file's arrival time.
CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
OPEN_TIMEOUT = 2.0  # seconds another process's lock is waited for before trying again later


class Unusable(sqlite3.DatabaseError):
    """The store is corrupt or from another schema version: moved aside and started afresh."""


def is_corruption(exc: sqlite3.Error) -> bool:
    """Does *exc* say the store's file is damaged (rather than busy, full or unreadable)?"""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, Unusable) or (code is not None and code & 0xFF in CORRUPT_CODES)


def connect(path: Path, *, timeout: float = OPEN_TIMEOUT) -> sqlite3.Connection:
    """An open, checked connection to the store at *path*, recreated if corrupt.

    A busy, locked, full or unreadable store raises ``StoreUnavailable``, untouched: the
    caller tries again later.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path, timeout)
    except sqlite3.Error as exc:
        if not is_corruption(exc):
            raise StoreUnavailable(path, _reason(exc)) from exc
        aside = path.with_name(f"{path.name}.broken-{int(time.time())}")
        log.warning("store %s is unusable (%s); moved to %s, rebuilding from the drop "
                    "folder", path, exc, aside.name)
        for suffix in ("", "-wal", "-shm"):
            broken = Path(f"{path}{suffix}")
            if broken.exists():
                broken.replace(f"{aside}{suffix}")
    try:
        return _open(path, timeout)
    except sqlite3.Error as exc:
        raise StoreUnavailable(path, _reason(exc)) from exc


def _reason(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", None)
    return f"{exc} ({name})" if name else str(exc)


def _open(path: Path, timeout: float) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and version == 4:
            _migrate(db)
            version = SCHEMA_VERSION
        if tables and version != SCHEMA_VERSION:
            raise Unusable(f"schema version {version}, expected {SCHEMA_VERSION}")
        # Only a new store is written to here, so opening one another process is busy
        # writing (`feeder status` beside the service) waits for no lock.
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process; only power loss can undo a commit.
        db.execute("PRAGMA synchronous=NORMAL")
        if not tables or not tables >= ADDED_TABLES:
            db.executescript(SCHEMA + ("" if tables else IMAGES))
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if tables and "image_uses" not in tables:
            _track_images(db)
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise Unusable(check)
    except BaseException:
        db.close()
        raise
    return db


def _migrate(db: sqlite3.Connection) -> None:
    """Reshape a version 4 store into this version in place, in one transaction (a crash
    leaves version 4 whole, migrated at the next open), then give the room it freed back
    to the file system. Every row is kept, undecodable ones too (compressed as they are:
    they still fail to decode, and are quarantined when read)."""
    db.create_function("v4_row", 1, _v4_row, deterministic=True)
    db.create_function("v4_fingerprint", 1, _v4_fingerprint, deterministic=True)
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated it while this one waited for the lock.
        if db.execute("PRAGMA user_version").fetchone()[0] == 4:
            log.info("store %s: migrating from schema version 4 to %d", _name(db),
                     SCHEMA_VERSION)
            for table in RESHAPED:
                db.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
            for index in ("entries_by_time", "entries_by_visibility", "memberships_by_time",
                          "memberships_by_key", "carriers_by_key"):
                db.execute(f"DROP INDEX IF EXISTS {index}")
            _run(db, SCHEMA + MIGRATE_FROM_4)
            for table in RESHAPED:
                db.execute(f"DROP TABLE old_{table}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    try:
        db.execute("VACUUM")  # the room of version 4's tables, back to the file system
    except sqlite3.OperationalError as exc:  # busy, or no room for the copy: reused later
        log.warning("store %s: migrated, but not compacted: %s", _name(db), exc)


def _track_images(db: sqlite3.Connection) -> None:
    """Create the image tables in a store made before them, filled from its entries in the
    same transaction: a table that exists is complete, so no image still shown is taken
    for unused. (An entry that cannot be decoded is quarantined when read, and its file
    read again brings its images back.)"""
    db.execute("BEGIN IMMEDIATE")
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'image_uses'").fetchone():
            _run(db, IMAGES)
            uses = []
            for entry, data in db.execute("SELECT id, data FROM entries"):
                with contextlib.suppress(Exception):
                    uses += [(name, entry) for name in images_of(decode(data))]
            db.executemany("INSERT OR IGNORE INTO image_uses VALUES (?, ?)", uses)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _run(db: sqlite3.Connection, script: str) -> None:
    """Each statement of *script* in the transaction already open (which ``executescript``
    would commit first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _name(db: sqlite3.Connection) -> str:
    return str(db.execute("PRAGMA database_list").fetchone()[2])


def _v4_row(data: str | bytes | int | float | None) -> bytes | int | float | None:
    """A version 4 row (JSON text) as this version stores it; anything else as it is."""
    return compress(data) if isinstance(data, str) else data


def _v4_fingerprint(fingerprint: object) -> bytes:
    """A version 4 fingerprint (hex text) as this version stores it."""
    if isinstance(fingerprint, str):
        with contextlib.suppress(ValueError):
            return bytes.fromhex(fingerprint)[:FINGERPRINT]
    return b""  # not what version 4 wrote: equal to no new fingerprint
