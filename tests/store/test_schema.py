"""The store's file: a version 4 store is migrated in place, and the store stays lean."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks import corpus
from feeder.article import Article
from feeder.channel import Channel
from feeder.config import Config
from feeder.store import FileRecord, Store, schema
from tests.support import ARRIVAL, build

NOW = ARRIVAL + timedelta(days=400)
RATIO = 2.0  # the store's size on disk at most this many times the drop folder's (issue 18)

# Version 4's schema as its code wrote it (feeder/store/schema.py before version 5).
V4_SCHEMA = """
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


def _article(n: int, *, tags: tuple[str, ...] = (), month: int = 1) -> Article:
    when = datetime(2025, month, 5 + n, 9, 0, tzinfo=ARRIVAL.tzinfo)
    return Article(key=f"s/2025-0{month}-{5 + n:02}/judul {n}", source="s", title=f"Judul {n}",
                   published=when, updated=when, content_html=f"<p>Isi berita {n}.</p>",
                   summary=f"Isi berita {n}.", slug=f"judul-{n}", tags=tags, line=n)


def _v4_row(article: Article) -> tuple[str, float, float, int, str, str]:
    """An entries row as version 4's code encoded it."""
    data = article.to_dict()
    row = json.dumps(data, ensure_ascii=False)
    for volatile in ("published", "updated", "line"):
        data.pop(volatile)
    fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    published = article.published.timestamp()
    return (article.key, published, 0.0, 0, fingerprint, row)


def _v4_store(path: Path, files: dict[str, list[Article]]) -> None:
    """A version 4 store of *files* and their articles, written with version 4's SQL, with
    one more row that cannot be decoded (carried by ``bad.txt``) and a page pending."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(V4_SCHEMA)
    db.execute("PRAGMA user_version = 4")
    counts: dict[str, int] = {}
    with db:
        db.execute("BEGIN")
        for n, (name, articles) in enumerate(sorted(files.items())):
            db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                       (name, n, n, f"{n:064x}", (ARRIVAL + timedelta(hours=n)).isoformat()))
            for article in articles:
                db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)", _v4_row(article))
                db.execute("INSERT INTO carriers VALUES (?, ?)", (article.key, name))
                for channel in (f"source:{article.source}", f"month:{article.published:%Y-%m}",
                                *(f"tag:{t}" for t in article.tags)):
                    db.execute("INSERT INTO memberships VALUES (?, ?, ?)",
                               (channel, article.key, article.published.timestamp()))
                    counts[channel] = counts.get(channel, 0) + 1
        db.executemany("INSERT INTO channel_counts VALUES (?, ?)", counts.items())
        db.execute("INSERT INTO files VALUES ('bad.txt', 1, 1, 'ab', ?)", (ARRIVAL.isoformat(),))
        db.execute("INSERT INTO entries VALUES ('s/bad', 0, 0, 0, 'cd', 'not json')")
        db.execute("INSERT INTO carriers VALUES ('s/bad', 'bad.txt')")
        db.execute("INSERT INTO pending_pages VALUES ('judul-0', ?)", (files["a.txt"][0].key,))
        db.execute("INSERT INTO pending_pages VALUES ('gone', NULL)")
        db.execute("INSERT INTO meta VALUES ('generation', '7')")
    db.close()


def test_a_version_4_store_is_migrated_in_place(tmp_path: Path) -> None:
    files = {"a.txt": [_article(0, tags=("pemilu",)), _article(1)],
             "b.txt": [_article(2, tags=("pemilu",), month=2)]}
    path = tmp_path / "state" / "feeder.sqlite3"
    _v4_store(path, files)
    store = Store(path)
    try:
        assert [p.name for p in path.parent.iterdir() if "broken" in p.name] == []
        assert store.count() == 4
        assert store.generation() == 7
        received = {p: r.received for p, r in store.files().items()}
        assert received == {"a.txt": ARRIVAL, "b.txt": ARRIVAL + timedelta(hours=1),
                            "bad.txt": ARRIVAL}
        assert [a.key for a in store.newest(10, NOW, Channel("tag", "pemilu"))] == [
            files["b.txt"][0].key, files["a.txt"][0].key]
        assert store.channels("month") == {"2025-01": 2, "2025-02": 1}
        assert store.sources() == {"s": 3}
        pending = {slug: row and row.key for slug, row in store.pending(NOW)}
        assert pending == {"judul-0": files["a.txt"][0].key, "gone": None}
        # The stored fingerprints are this version's: the same articles again change
        # nothing, and a later copy keeps the first publication time.
        later = [Article(**{**vars(a), "published": a.published + timedelta(days=1)})
                 for a in files["a.txt"]]
        record = FileRecord("a.txt", 0, 0, f"{0:064x}", ARRIVAL)
        assert not store.put_file(record, later, NOW)
        assert store.get(files["a.txt"][1].key) == files["a.txt"][1]
        # The carriers came along: a file removed retracts what it alone carried.
        assert store.remove_file("b.txt").removed == 1
        assert store.channels("tag") == {"pemilu": 1}
        # The row that could not be decoded is kept, and quarantined once read.
        assert store.get("s/bad") is None
        assert [q[0] for q in store.quarantined()] == ["s/bad"]
        assert store.take_rereads() == ["bad.txt"]
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (5,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


def test_a_store_another_process_migrated_meanwhile_is_not_migrated_twice(
        tmp_path: Path) -> None:
    path = tmp_path / "state" / "feeder.sqlite3"
    _v4_store(path, {"a.txt": [_article(0)]})
    late = sqlite3.connect(path, isolation_level=None)  # saw version 4, then waited
    try:
        assert late.execute("PRAGMA user_version").fetchone() == (4,)
        Store(path).close()  # another process migrates first
        schema._migrate(late)
    finally:
        late.close()
    store = Store(path)
    try:
        assert [a.key for a in store.newest(10, NOW)] == [_article(0).key]
    finally:
        store.close()


def test_the_store_takes_at_most_twice_the_room_of_its_drop_folder(config: Config) -> None:
    """Issue 18: what cannot be derived, not every rendering of it. Measured after a first
    build of generated news pages, as ``make bench`` measures the cold import."""
    corpus.write_pages(config.drop_dir, 2_000, date(2025, 7, 18))
    store = Store(config.store_path)
    try:
        report = build(store, config)
        assert store.count() == 2_000, report
    finally:
        store.close()
    dropped = sum(p.stat().st_size for p in config.drop_dir.rglob("*") if p.is_file())
    stored = sum(p.stat().st_size for p in config.store_path.parent.iterdir()
                 if p.name.startswith(config.store_path.name))
    assert stored <= RATIO * dropped, f"store {stored} bytes for {dropped} bytes of input"
