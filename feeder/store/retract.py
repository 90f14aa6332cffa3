"""Taking entries out of the store: retracted when no file carries them any more, or taken
out and quarantined when their stored row cannot be decoded (the files that carried them
are then read again)."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime

from feeder import metrics
from feeder.store.batch import BUMP, Batch
from feeder.store.entries import decode, slug_of, undecodable

log = logging.getLogger(__name__)


def drop_carriers(db: sqlite3.Connection, path: str, keys: set[str], keep: bool,
                  at: datetime, rereads: set[str]) -> int:
    """*path*'s file carries the entries *keys* no more: retract those no other file
    carries (unless *keep*); the number retracted. An undecodable one is taken out
    (``take_out``, noting its files to read again in *rereads*)."""
    removed = 0
    writes = Batch()
    for key in keys:
        row = db.execute("SELECT id, data FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None:
            continue
        entry, data = row
        db.execute("DELETE FROM carriers WHERE path = ? AND entry = ?", (path, entry))
        if keep or db.execute("SELECT 1 FROM carriers WHERE entry = ? LIMIT 1",
                              (entry,)).fetchone():
            continue
        try:
            old = decode(data)
        except Exception as exc:
            take_out(db, key, undecodable(exc), at, rereads)  # no other file carries it
        else:
            _delete(db, entry, key)
            writes.pages.append((old.slug, None))
            writes.join(old, None)  # its memberships are gone: the counts follow
        removed += 1
    writes.flush(db)
    return removed


def take_out(db: sqlite3.Connection, key: str, reason: str, at: datetime,
             rereads: set[str], *, storing: str | None = None) -> None:
    """Remove an entry by its key alone (its row cannot be decoded): from the entries, its
    channels and its page; note it in the quarantine at *at*. The files that carried it are
    added to *rereads*, to be read again (but *storing*, the one being stored now: it
    brings the entry back itself), and make it afresh."""
    row = db.execute("SELECT id, data FROM entries WHERE key = ?", (key,)).fetchone()
    if row is None:
        return
    entry, data = row
    paths = sorted(p for (p,) in db.execute("SELECT path FROM carriers WHERE entry = ?",
                                            (entry,)))
    db.execute("INSERT INTO quarantine (key, reason, at, paths, data) VALUES "
               "(?, ?, ?, ?, ?)", (key, reason, at.isoformat(), "\n".join(paths), data))
    channels = _delete(db, entry, key)
    db.executemany("UPDATE channel_counts SET entries = entries - 1 WHERE channel = ?",
                   [(c,) for c in channels])
    db.execute("DELETE FROM channel_counts WHERE entries <= 0")
    db.executemany("INSERT OR IGNORE INTO dirty_channels VALUES (?)",
                   [(c,) for c in channels])
    if slug := slug_of(data):
        db.execute("INSERT OR REPLACE INTO pending_pages VALUES (?, NULL)", (slug,))
    # Its carriers went with its id: forget what was seen of those files, so reading
    # them again is not skipped.
    again = [p for p in paths if p != storing]
    db.executemany("UPDATE files SET size = -1, sha256 = '' WHERE path = ?",
                   [(p,) for p in again])
    rereads.update(again)
    db.execute(BUMP)
    metrics.QUARANTINED.inc()
    log.error("entry %s cannot be decoded (%s): taken out of the feeds%s", key, reason,
              f"; reading {', '.join(again)} again" if again else "")


def _delete(db: sqlite3.Connection, entry: int, key: str) -> list[str]:
    """Delete the entry *entry* (whose key is *key*) and everything that points at it but
    its page; the channels it was in. The images it showed are looked at by the next
    build, which deletes those no entry shows any more."""
    db.execute("DELETE FROM entries WHERE id = ?", (entry,))
    db.execute("DELETE FROM corrections WHERE key = ?", (key,))
    db.execute("DELETE FROM carriers WHERE entry = ?", (entry,))
    db.execute("INSERT OR IGNORE INTO unused_images SELECT image FROM image_uses "
               "WHERE entry = ?", (entry,))
    db.execute("DELETE FROM image_uses WHERE entry = ?", (entry,))
    # A pending page that still points at it finds no entry (ids are never given again):
    # the page is deleted, as the caller asks anyway.
    return [c for (c,) in db.execute(
        "DELETE FROM memberships WHERE entry = ? RETURNING channel", (entry,))]
