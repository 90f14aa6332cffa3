"""Opening feeder's SQLite file: schema, WAL, and recovery from a broken or old file.

The drop folder is the source of truth, so a store that cannot be used (corrupt, not a
database, or from another schema version) is moved aside and started afresh; the next
scan refills it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

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
"""


def connect(path: Path) -> sqlite3.Connection:
    """An open, checked connection to the store at *path*, recreated if unusable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path)
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.broken-{int(time.time())}")
        log.warning("store %s is unusable (%s); moved to %s, rebuilding from the drop "
                    "folder", path, exc, aside.name)
        for suffix in ("", "-wal", "-shm"):
            broken = Path(f"{path}{suffix}")
            if broken.exists():
                broken.replace(f"{aside}{suffix}")
        return _open(path)


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables and version != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"schema version {version}, expected {SCHEMA_VERSION}")
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
