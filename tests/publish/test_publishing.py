"""Drop folder → store → feeds, through the ingest and build stages."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeder import publish
from feeder.config import Config
from feeder.errors import BuildError
from feeder.ingest import Ingestor
from feeder.store import Store
from tests.support import (
    ARRIVAL,
    DECEMBER,
    JAKARTA,
    JULY,
    SAMPLES,
    Drop,
    check_atom,
    check_rss,
    local_file,
    read_feed,
    read_json_feed,
    set_mtime,
)
from tests.support import build as publish_now


@pytest.fixture
def samples(drop: Drop) -> None:
    drop("kpu-semarang-dec.txt", sample="kpu-semarang-dec.txt")
    drop("kpu-semarang-jul.txt", sample="kpu-semarang-jul.txt")


@pytest.mark.usefixtures("samples")
def test_sample_pages_become_twelve_valid_entries(store: Store, config: Config) -> None:
    publish_now(store, config)
    out, base = config.output_dir, config.site_base_url
    titles = {t for t, *_ in DECEMBER + JULY}
    for name in ("rss.xml", "atom.xml"):
        feed = read_feed(out / name)
        assert {e.title for e in feed.entries} == titles
        assert all(local_file(out, base, e.link).is_file() for e in feed.entries)
    assert len(check_rss(out / "rss.xml", base)) == 12
    assert len(check_atom(out / "atom.xml", base)) == 12
    assert {i["title"] for i in read_json_feed(out / "feed.json")["items"]} == titles


@pytest.mark.usefixtures("samples")
def test_feeds_are_newest_first_with_authors_and_dates(store: Store, config: Config) -> None:
    publish_now(store, config)
    entries = read_feed(config.output_dir / "atom.xml").entries
    published = [e.published_parsed for e in entries]
    assert published == sorted(published, reverse=True)
    first = next(e for e in entries if e.title == DECEMBER[0][0])
    # A date-only article: its day, in its first hour (page order, spread apart from other
    # files' articles of the day).
    assert first.published.startswith("2025-12-05T00:")
    assert first.author == "ana"
    rss_first = next(e for e in read_feed(config.output_dir / "rss.xml").entries
                     if e.title == DECEMBER[0][0])
    assert rss_first.author == "ana"


def test_author_initials_map_to_configured_names(
        drop: Drop, config: Config, store: Store) -> None:
    from dataclasses import replace

    drop("dec.txt", sample="kpu-semarang-dec.txt")
    named = replace(config, authors={"ana": "Ana Lestari"})
    publish_now(store, named)
    feed = read_feed(config.output_dir / "atom.xml")
    authors = {e.get("author") for e in feed.entries}
    assert "Ana Lestari" in authors and "ana" not in authors


def test_limit_on_entries_per_feed(drop: Drop, config: Config, store: Store) -> None:
    from dataclasses import replace

    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    publish_now(store, replace(config, feed_max_entries=5))
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 5
    assert len(read_json_feed(config.output_dir / "feed.json")["items"]) == 5


@pytest.mark.usefixtures("samples")
def test_unchanged_archive_gives_identical_files_and_writes_nothing(
        store: Store, config: Config, tmp_path: Path) -> None:
    publish_now(store, config)
    before = {p: p.read_bytes() for p in config.output_dir.rglob("*") if p.is_file()}
    assert publish.build(store, config).skipped
    forced = publish.build(store, config, force=True)
    assert forced.written == []
    assert {p: p.read_bytes() for p in config.output_dir.rglob("*") if p.is_file()} == before


@pytest.mark.usefixtures("samples")
def test_output_files_are_world_readable(store: Store, config: Config) -> None:
    publish_now(store, config)
    for path in config.output_dir.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & stat.S_IROTH, path
    assert not list(config.output_dir.rglob("*.tmp"))


def test_same_page_twice_makes_no_duplicates(drop: Drop, config: Config, store: Store) -> None:
    drop("a.txt", sample="kpu-semarang-dec.txt")
    drop("sub/copy.txt", sample="kpu-semarang-dec.txt", at=ARRIVAL + timedelta(days=1))
    publish_now(store, config)
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 6
    (config.drop_dir / "a.txt").unlink()
    publish_now(store, config)
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 6
    (config.drop_dir / "sub/copy.txt").unlink()
    publish_now(store, config)
    assert read_feed(config.output_dir / "rss.xml").entries == []


def test_edited_article_updates_entry_in_place(drop: Drop, config: Config, store: Store) -> None:
    path = drop("dec.txt", sample="kpu-semarang-dec.txt")
    publish_now(store, config)
    before = {e.id: e for e in read_feed(config.output_dir / "atom.xml").entries}
    edited_at = ARRIVAL + timedelta(days=2)
    path.write_text(path.read_text(encoding="utf-8").replace("prmilih", "pemilih"),
                    encoding="utf-8")
    set_mtime(path, edited_at)
    publish_now(store, config)
    after = {e.id: e for e in read_feed(config.output_dir / "atom.xml").entries}
    assert after.keys() == before.keys()
    changed = [i for i in after if after[i].updated != before[i].updated]
    assert len(changed) == 1
    entry = after[changed[0]]
    assert entry.published == before[changed[0]].published
    assert entry.updated == edited_at.isoformat()
    assert "pemilih" in entry.content[0].value and "prmilih" not in entry.content[0].value
    page = local_file(config.output_dir, config.site_base_url, entry.link).read_text()
    assert "prmilih" not in page


def test_deleted_file_retracts_its_entries_and_pages(
        drop: Drop, config: Config, store: Store) -> None:
    path = drop("jul.txt", sample="kpu-semarang-jul.txt")
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    publish_now(store, config)
    july_pages = [local_file(config.output_dir, config.site_base_url, e.link)
                  for e in read_feed(config.output_dir / "rss.xml").entries
                  if e.published_parsed.tm_mon == 7]
    path.unlink()
    publish_now(store, config)
    assert {e.title for e in read_feed(config.output_dir / "rss.xml").entries} == {
        t for t, *_ in DECEMBER}
    assert july_pages and not any(p.exists() for p in july_pages)


def test_article_removed_from_a_page_is_retracted(
        drop: Drop, config: Config, store: Store) -> None:
    text = (SAMPLES / "kpu-semarang-jul.txt").read_text(encoding="utf-8")
    path = drop("jul.txt", text)
    publish_now(store, config)
    drop("jul.txt", text[: text.rindex("\n\nKPU Kota Semarang Ikuti Ngopi Asli")],
         at=ARRIVAL + timedelta(hours=1))
    publish_now(store, config)
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 5
    assert path.exists()


def test_plain_text_and_markdown_are_published(drop: Drop, config: Config, store: Store) -> None:
    drop("catatan.txt", "Catatan Rapat\n\nRapat dimulai pukul 09.00.")
    drop("jadwal.md", "---\ntitle: Jadwal\ndate: 2025-08-01\ntags: [Pemilu]\n---\n*Penting*")
    publish_now(store, config)
    feed = read_feed(config.output_dir / "atom.xml")
    by_title = {e.title: e for e in feed.entries}
    assert set(by_title) == {"Catatan Rapat", "Jadwal"}
    assert [t.term for t in by_title["Jadwal"].tags] == ["Pemilu"]
    assert "<em>Penting</em>" in by_title["Jadwal"].content[0].value


def test_unparseable_file_is_rejected_with_a_note(
        drop: Drop, config: Config, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    drop("news/rusak.md", "---\ntitle: [oops\n---\nIsi")
    drop("ok.txt", "Judul\n\nIsi.")
    with caplog.at_level(logging.ERROR):
        publish_now(store, config)
    assert not (config.drop_dir / "news/rusak.md").exists()
    moved = config.rejected_dir / "news/rusak.md"
    assert moved.read_text() == "---\ntitle: [oops\n---\nIsi"
    note = (config.rejected_dir / "news/rusak.md.why.txt").read_text()
    assert "news/rusak.md:2: front matter is not valid YAML" in note
    assert "rejected news/rusak.md:2" in caplog.text
    assert [r[0] for r in store.rejections()] == ["news/rusak.md"]
    assert [e.title for e in read_feed(config.output_dir / "rss.xml").entries] == ["Judul"]


def test_second_rejection_of_same_name_keeps_both(drop: Drop, config: Config,
                                                  store: Store) -> None:
    for _ in range(2):
        drop("x.pdf", b"%PDF")
        Ingestor(store, config).scan()
    assert sorted(p.name for p in config.rejected_dir.iterdir()) == [
        "x.2.pdf", "x.2.pdf.why.txt", "x.pdf", "x.pdf.why.txt"]


def test_oversized_file_is_rejected_unread(drop: Drop, config: Config, store: Store) -> None:
    from dataclasses import replace

    drop("besar.txt", "Judul\n\n" + "x" * 2000)
    Ingestor(store, replace(config, parse_max_file_bytes=1000)).scan()
    assert "more than parse.max_file_bytes" in (
        config.rejected_dir / "besar.txt.why.txt").read_text()


def test_temporary_and_hidden_files_are_ignored(drop: Drop, config: Config,
                                                store: Store) -> None:
    for name in (".x.txt.swp", "x.txt~", ".#x.txt", "x.tmp", ".hidden/y.txt"):
        drop(name, "Judul\n\nIsi.")
    assert not Ingestor(store, config).scan()
    assert not config.rejected_dir.exists()


@pytest.mark.usefixtures("samples")
def test_archives_staged_on_disk_are_cleared_when_the_build_fails(
        drop: Drop, config: Config, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build stages the months' archives on disk as it renders them, and puts them in place
    with the feeds; if that fails, nothing half-done stays behind."""
    publish_now(store, config)
    drop("baru.txt", "Berita Baru\n\nIsi.", at=ARRIVAL + timedelta(days=400))
    drop("lain.txt", "Berita Lain\n\nIsi.", at=ARRIVAL + timedelta(days=440))
    replace = os.replace

    def full_disk_for_archives(source: str, target: str) -> None:
        if "/archive/" in str(target):
            raise OSError(28, "No space left on device")
        replace(source, target)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", full_disk_for_archives)
        with pytest.raises(BuildError, match="No space left"):
            publish_now(store, config)
    assert not list(config.output_dir.rglob("*.tmp"))
    publish.build(store, config)
    assert any("Berita Baru" in path.read_text(encoding="utf-8")
               for path in (config.output_dir / "archive").glob("*.xml"))


@pytest.mark.usefixtures("samples")
def test_failed_write_keeps_previous_feeds_and_next_build_recovers(
        drop: Drop, config: Config, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_now(store, config)
    before = (config.output_dir / "rss.xml").read_bytes()
    drop("baru.txt", "Berita Baru\n\nIsi.", at=ARRIVAL + timedelta(days=400))

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", full_disk)
        with pytest.raises(BuildError, match="No space left"):
            publish_now(store, config)
    assert (config.output_dir / "rss.xml").read_bytes() == before
    assert not list(config.output_dir.rglob("*.tmp"))
    publish.build(store, config)
    assert "Berita Baru" in {e.title for e in read_feed(config.output_dir / "rss.xml").entries}


@pytest.mark.usefixtures("samples")
def test_index_lists_articles_and_advertises_feeds(store: Store, config: Config) -> None:
    from lxml import html

    publish_now(store, config)
    page = html.fromstring((config.output_dir / "index.html").read_bytes())
    alternates = {e.get("type"): e.get("href") for e in page.xpath("//link[@rel='alternate']")}
    assert alternates == {
        "application/rss+xml": config.site_base_url + "rss.xml",
        "application/atom+xml": config.site_base_url + "atom.xml",
        "application/feed+json": config.site_base_url + "feed.json",
    }
    links = page.xpath("//ul[@class='articles']/li/a/@href")
    assert len(links) == 12
    assert all(local_file(config.output_dir, config.site_base_url, u).is_file() for u in links)


@pytest.mark.usefixtures("samples")
def test_pages_share_one_stylesheet_that_is_published(store: Store, config: Config) -> None:
    from lxml import html

    publish_now(store, config)
    out, base = config.output_dir, config.site_base_url
    pages = [out / "index.html", *sorted((out / "articles").glob("*.html"))]
    sheets = {tuple(html.fromstring(p.read_bytes()).xpath("//link[@rel='stylesheet']/@href"))
              for p in pages}
    assert sheets == {(base + "site.css",)}
    assert b"font:" in local_file(out, base, base + "site.css").read_bytes()
    assert not any(b"<style" in p.read_bytes() for p in pages)


def test_lost_output_folder_is_rebuilt(drop: Drop, config: Config, store: Store) -> None:
    import shutil

    drop("a.txt", "Judul\n\nIsi.")
    publish_now(store, config)
    shutil.rmtree(config.output_dir)
    publish.build(store, config)
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 1
    assert len(list((config.output_dir / "articles").iterdir())) == 1


@pytest.mark.parametrize("damage", ["garbage", "missing", "old-schema"])
def test_unusable_store_is_rebuilt_from_the_drop_folder(
        drop: Drop, config: Config, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    import sqlite3

    drop("dec.txt", sample="kpu-semarang-dec.txt")
    store = Store(config.store_path)
    publish_now(store, config)
    store.close()
    if damage == "garbage":
        config.store_path.write_bytes(b"this is not a database" * 100)
    elif damage == "missing":
        config.store_path.unlink()
    else:
        with sqlite3.connect(config.store_path) as db:
            db.execute("PRAGMA user_version = 1")
        db.close()
    with caplog.at_level(logging.WARNING):
        store = Store(config.store_path)
        try:
            publish_now(store, config)
            assert store.count() == 6
        finally:
            store.close()
    if damage != "missing":
        assert "rebuilding from the drop folder" in caplog.text
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 6


def test_first_build_removes_what_a_killed_feeder_left_half_written(
        store: Store, config: Config) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(gone.stdout)  # a process that has exited: its temporary files are stale
    stale = [config.output_dir / f".rss.xml.{dead}.7.tmp",
             config.output_dir / "articles" / f".a.html.{dead}.2.tmp",
             config.media_dir / f".abc.jpg.{dead}.1.tmp"]
    kept = [config.output_dir / f".atom.xml.{os.getpid()}.3.tmp",  # a writer still running
            config.output_dir / ".catatan.tmp"]  # not a name feeder writes
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"<rss")
    publish_now(store, config)
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept)


def test_feed_timestamps_are_whole_seconds(drop: Drop, store: Store, config: Config) -> None:
    # Arrivals and edits are file times, which have fractions of a second.
    path = drop("rapat.txt", "Rapat Pleno\n\nIsi pertama.", at=ARRIVAL + timedelta(
        microseconds=893188))
    drop("catatan.md", "---\ntitle: Catatan\ndate: 2025-12-01T08:04:09.893188+07:00\n---\n"
         "Isi.\n")
    publish_now(store, config)
    path.write_text("Rapat Pleno\n\nIsi kedua.", encoding="utf-8")
    set_mtime(path, ARRIVAL + timedelta(days=1, microseconds=120000))
    publish_now(store, config)
    stamps = [e.updated for e in read_feed(config.output_dir / "atom.xml").entries]
    stamps += [e.published for e in read_feed(config.output_dir / "atom.xml").entries]
    for item in read_json_feed(config.output_dir / "feed.json")["items"]:
        stamps += [item["date_published"], item["date_modified"]]
    assert len(stamps) == 8
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", s) for s in stamps)
    assert "2025-12-01T08:04:09+07:00" in stamps


@pytest.mark.parametrize("arrival", ["2025-12-26", "2026-06-15", "2026-12-02", "2026-12-20"])
def test_samples_have_the_same_dates_in_every_feed_whenever_they_arrive(
        drop: Drop, store: Store, config: Config, arrival: str) -> None:
    when = datetime.fromisoformat(arrival).replace(hour=9, tzinfo=JAKARTA)
    drop("kpu-semarang-dec.txt", sample="kpu-semarang-dec.txt", at=when)
    drop("kpu-semarang-jul.txt", sample="kpu-semarang-jul.txt", at=when)
    Ingestor(store, config).scan()
    publish.build(store, config, now=when)
    expected = sorted(day for _, day, *_ in DECEMBER + JULY)
    out = config.output_dir
    for name in ("rss.xml", "atom.xml"):
        got = [datetime(*e.published_parsed[:6], tzinfo=UTC).astimezone(JAKARTA).date()
               for e in read_feed(out / name).entries]
        assert sorted(d.isoformat() for d in got) == expected, name
    got = [item["date_published"][:10] for item in read_json_feed(out / "feed.json")["items"]]
    assert sorted(got) == expected
