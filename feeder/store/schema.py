"""Opening feeder's SQLite file: schema, WAL, and recovery from a broken or old file.

The drop folder is the source of truth, so a store that cannot be used (corrupt, not a
database, or from another schema version) is moved aside and started afresh; the next
scan refills it. A store that is only busy, locked, on a full disk or failing I/O is left
alone: the caller is told (``StoreUnavailable``) and tries again.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from feeder.errors import StoreUnavailable

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, received TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY, published_ts REAL NOT NULL, visible_ts REAL NOT NULL,
    draft INTEGER NOT NULL, fingerprint TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_time ON entries (published_ts DESC, key);
CREATE INDEX IF NOT EXISTS entries_by_visibility ON entries (visible_ts);
-- The feeds besides the aggregate an entry appears in: "source:…", "tag:…", "month:…".
CREATE TABLE IF NOT EXISTS memberships (
    channel TEXT NOT NULL, key TEXT NOT NULL, published_ts REAL NOT NULL,
    PRIMARY KEY (channel, key)
);
CREATE INDEX IF NOT EXISTS memberships_by_time ON memberships (channel, published_ts DESC);
CREATE INDEX IF NOT EXISTS memberships_by_key ON memberships (key);
CREATE TABLE IF NOT EXISTS channel_counts (channel TEXT PRIMARY KEY, entries INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dirty_channels (channel TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS carriers (
    key TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (path, key)
);
CREATE INDEX IF NOT EXISTS carriers_by_key ON carriers (key);
CREATE TABLE IF NOT EXISTS pending_pages (slug TEXT PRIMARY KEY, key TEXT);
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
    paths TEXT NOT NULL, data TEXT
);
-- Entries corrected after they were published, by their latest correction: what the
-- corrections feed and `feeder status` list (the corrections themselves are in the entry).
CREATE TABLE IF NOT EXISTS corrections (key TEXT PRIMARY KEY, at_ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS corrections_by_time ON corrections (at_ts DESC, key);
"""
# Tables added since a schema version was fixed: created where missing, nothing else
# changes, so an older store keeps its history instead of being rebuilt.
ADDED_TABLES = frozenset({"unreadable", "quarantine", "corrections"})


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
        if tables and version != SCHEMA_VERSION:
            raise Unusable(f"schema version {version}, expected {SCHEMA_VERSION}")
        # Only a new store is written to here, so opening one another process is busy
        # writing (`feeder status` beside the service) waits for no lock.
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process; only power loss can undo a commit.
        db.execute("PRAGMA synchronous=NORMAL")
        if not tables or not tables >= ADDED_TABLES:
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise Unusable(check)
    except BaseException:
        db.close()
        raise
    return db
