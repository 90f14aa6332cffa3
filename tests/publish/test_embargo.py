"""Embargoed and draft articles: stored at once, published at their time, never early."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feeder import publish
from feeder.cli import main
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.service.scheduler import RELEASE, Service, make_app
from feeder.store import Store
from tests.support import ARRIVAL, JAKARTA, Drop, call, read_feed

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=JAKARTA)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def scheduled_md(title: str, when: datetime, extra: str = "") -> str:
    return f"---\ntitle: {title}\ndate: {when.isoformat()}\n{extra}---\nIsi.\n"


def titles(config: Config) -> set[str]:
    return {e.title for e in read_feed(config.output_dir / "rss.xml").entries}


def pages(config: Config) -> list[Path]:
    return sorted((config.output_dir / "articles").glob("*.html"))


@pytest.fixture
def service(config: Config) -> Iterator[tuple[Service, Clock]]:
    clock = Clock(NOW)
    running = Service(config, clock=clock)
    yield running, clock
    running.stop()


def test_future_article_is_stored_but_published_only_at_its_time(
        drop: Drop, store: Store, config: Config) -> None:
    due = NOW + timedelta(hours=2)
    drop("nanti.md", scheduled_md("Pengumuman Nanti", due), at=NOW)
    drop("sekarang.txt", "Sekarang\n\nIsi.", at=NOW)
    Ingestor(store, config).scan()
    publish.build(store, config, now=NOW)
    assert store.get(next(a.key for a in store.scheduled(NOW))) is not None
    assert titles(config) == {"Sekarang"}
    assert len(pages(config)) == 1
    assert b"Nanti" not in (config.output_dir / "index.html").read_bytes()
    assert publish.build(store, config, now=due - timedelta(seconds=1)).skipped
    report = publish.build(store, config, now=due)
    assert not report.skipped
    assert titles(config) == {"Sekarang", "Pengumuman Nanti"}
    assert len(pages(config)) == 2
    assert "Pengumuman Nanti" in (config.output_dir / "sources/local/index.html").read_text()


def test_page_with_a_full_future_date_is_embargoed_but_inferred_years_never(
        drop: Drop, store: Store, config: Config) -> None:
    page = ("Berita Terkini\n\nRapat Esok\n\nSemarang, kota-semarang.kpu.go.id – Rapat "
            "digelar Selasa (3/3/2026). (ana/ed. Foto: x)\n\nRapat Lusa\n\nSemarang, "
            "kota-semarang.kpu.go.id – Rapat lain, Rabu (2/3). (ana/ed. Foto: x)")
    drop("page.txt", page, at=NOW)
    Ingestor(store, config).scan()
    publish.build(store, config, now=NOW)
    # 2 March is tomorrow, within the year rule's tolerance, but inferred: out at once.
    assert titles(config) == {"Rapat Lusa"}
    # Date-only articles go out in the first hour of their day (page order, then spread).
    publish.build(store, config, now=datetime(2026, 3, 3, 2, 0, tzinfo=JAKARTA))
    assert titles(config) == {"Rapat Esok", "Rapat Lusa"}


def test_drafts_are_never_published(drop: Drop, store: Store, config: Config) -> None:
    drop("draf.md", scheduled_md("Draf", NOW - timedelta(days=1), "draft: true\n"), at=NOW)
    Ingestor(store, config).scan()
    publish.build(store, config, now=NOW + timedelta(days=365))
    assert titles(config) == set()
    assert pages(config) == []
    assert store.count() == 1


def test_service_schedules_the_release_without_any_file_event(
        drop: Drop, config: Config, service: tuple[Service, Clock]) -> None:
    running, clock = service
    due = NOW + timedelta(minutes=30)
    drop("nanti.md", scheduled_md("Nanti", due), at=NOW)
    running.cycle()
    assert titles(config) == set()
    job = running.scheduler.get_job(RELEASE)
    assert job is not None and job.trigger.run_date == due
    assert running.next_release == due
    clock.now = due + timedelta(seconds=1)  # what the release job's wake-up then finds
    running.cycle()
    assert titles(config) == {"Nanti"}
    assert running.next_release is None and running.scheduler.get_job(RELEASE) is None


def test_release_is_rescheduled_after_a_restart(drop: Drop, config: Config) -> None:
    due = NOW + timedelta(days=1)
    drop("nanti.md", scheduled_md("Nanti", due), at=NOW)
    first = Service(config, clock=Clock(NOW))
    first.cycle()
    first.stop()
    again = Service(config, clock=Clock(NOW + timedelta(hours=1)))
    try:
        again.cycle()
        assert again.next_release == due
        assert titles(config) == set()
    finally:
        again.stop()


def test_status_lists_scheduled_articles(drop: Drop, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    due = ARRIVAL + timedelta(days=30)
    drop("nanti.md", scheduled_md("Pengumuman Nanti", due), at=ARRIVAL)
    folders = ["--drop-dir", str(tmp_path / "drop"), "--output-dir", str(tmp_path / "out"),
               "--state-dir", str(tmp_path / "state")]
    main(["build", *folders], clock=Clock(ARRIVAL))
    capsys.readouterr()
    main(["status", *folders], clock=Clock(ARRIVAL + timedelta(days=29)))
    assert f"scheduled {due.isoformat()}: Pengumuman Nanti" in capsys.readouterr().out


def test_drafts_and_embargoed_articles_show_nowhere_on_the_index(
        drop: Drop, store: Store, config: Config) -> None:
    drop("desa/draf.md", scheduled_md("Rahasia Draf", NOW, "draft: true\n"), at=NOW)
    drop("kota/nanti.md", scheduled_md("Rahasia Nanti", NOW + timedelta(days=1)), at=NOW)
    Ingestor(store, config).scan()
    publish.build(store, config, now=NOW)
    index = (config.output_dir / "index.html").read_text(encoding="utf-8")
    assert "Rahasia" not in index and "sources/" not in index
    assert not (config.output_dir / "sources" / "desa").exists()


def test_an_event_announced_in_the_body_never_embargoes_the_article(
        drop: Drop, store: Store, config: Config) -> None:
    page = ("Berita Terkini\n\nKPU Umumkan Jadwal Pemungutan Suara Ulang\n\n"
            "Semarang, kota-semarang.kpu.go.id – KPU Kota Semarang mengumumkan jadwal, "
            "Selasa (1/12). Pemungutan suara ulang digelar Kamis, 24 Desember 2026 di tiga "
            "TPS. (ana/ed. Foto: x)")
    arrival = datetime(2026, 12, 2, 9, tzinfo=JAKARTA)
    drop("page.txt", page, at=arrival)
    Ingestor(store, config).scan()
    publish.build(store, config, now=arrival)
    (entry,) = read_feed(config.output_dir / "rss.xml").entries
    assert entry.title == "KPU Umumkan Jadwal Pemungutan Suara Ulang"
    assert entry.published.startswith("Tue, 01 Dec 2026")
    assert store.scheduled(arrival) == []


def test_no_cache_keeps_a_response_past_the_next_release(
        drop: Drop, config: Config, service: tuple[Service, Clock]) -> None:
    """Cache-Control's max-age never reaches past an embargoed article's time, so proxies
    and readers that honour it do not hide the article once it is out."""
    running, clock = service
    config = replace(config, server_cache_control="public, max-age=3600, s-maxage=7200")
    app = make_app(config, running)
    drop("nanti.md", scheduled_md("Nanti", NOW + timedelta(minutes=20)), at=NOW)
    running.cycle()
    clock.now = NOW + timedelta(minutes=5)
    for path in ("/rss.xml", "/atom.xml", "/", "/feed.json"):
        assert call(app, path).headers["cache-control"] == (
            "public, max-age=900, s-maxage=900"), path
    etag = call(app, "/rss.xml").headers["etag"]
    revalidated = call(app, "/rss.xml", headers={"If-None-Match": etag})
    assert revalidated.status == 304
    assert revalidated.headers["cache-control"] == "public, max-age=900, s-maxage=900"
    clock.now = NOW + timedelta(minutes=20, seconds=1)  # due, not yet built: no caching
    assert call(app, "/rss.xml").headers["cache-control"] == "public, max-age=0, s-maxage=0"
    running.cycle()  # the release: published, nothing else scheduled
    assert "Nanti" in titles(config)
    assert call(app, "/rss.xml").headers["cache-control"] == (
        "public, max-age=3600, s-maxage=7200")  # as configured
