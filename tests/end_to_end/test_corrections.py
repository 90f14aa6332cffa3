"""Corrections keep their entry (issue 15): one article, one id, through every edit; what
was corrected is shown to readers and listed in a feed of its own; a month's archive says it
is complete only once it is."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from feeder import publish
from feeder.cli import main
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.store import Store, lineage
from tests.support import (
    ARRIVAL,
    ATOM,
    JAKARTA,
    SAMPLES,
    VALIDATOR,
    Drop,
    RunningService,
    local_file,
    read_feed,
    read_json_feed,
    set_mtime,
    validate,
    wait_for,
)

FH = "{http://purl.org/syndication/history/1.0}"
# The sample's third article, with the typo a press office would then fix.
TITLE = "KPU Kota Semarang Dalami Pemanfaatan Big Data untuk Transparansi dan Akurasi Data"
TYPO = TITLE.replace("Pemanfaatan", "Pemanfaatn")
LATER = ARRIVAL + timedelta(days=1, hours=2)  # when the correction is saved


def build(store: Store, config: Config, now: datetime = LATER) -> publish.BuildReport:
    Ingestor(store, config).scan()
    return publish.build(store, config, now=now)


def save(path: Path, text: str, at: datetime) -> None:
    path.write_text(text, encoding="utf-8")
    set_mtime(path, at)


def entries(config: Config, feed: str = "atom.xml") -> dict[str, object]:
    return {e.id: e for e in read_feed(config.output_dir / feed).entries}


def december(title: str = TYPO) -> str:
    return (SAMPLES / "kpu-semarang-dec.txt").read_text(encoding="utf-8").replace(TITLE, title)


def test_a_title_fixed_in_a_saved_news_page_keeps_its_entry(
        drop: Drop, store: Store, config: Config) -> None:
    path = drop("dec.txt", december())
    build(store, config, now=ARRIVAL)
    before = entries(config)
    (typo,) = [e for e in before.values() if e.title == TYPO]  # type: ignore[attr-defined]
    save(path, december(TITLE), LATER)
    build(store, config)
    after = entries(config)
    assert after.keys() == before.keys()
    fixed = after[typo.id]
    assert fixed.title == TITLE
    assert fixed.published == typo.published
    assert fixed.updated == LATER.isoformat()
    note = ('Ralat: judul diperbaiki pada 11 Januari 2026 11.00 WIB; sebelumnya "'
            + TYPO + '"')
    assert note in fixed.content[0].value
    # The other five are untouched: same dates, no note.
    for key, entry in after.items():
        if key != typo.id:
            assert entry.updated == before[key].updated  # type: ignore[attr-defined]
            assert "Ralat" not in entry.content[0].value
    page = local_file(config.output_dir, config.site_base_url, fixed.link).read_text()
    assert note in page.replace("&#34;", '"').replace("&quot;", '"')
    (item,) = [i for i in read_json_feed(config.output_dir / "feed.json")["items"]
               if i["title"] == TITLE]
    assert item["date_modified"] == LATER.isoformat()
    assert item["date_published"] == typo.published


def test_a_later_snapshot_with_the_fixed_title_is_the_same_entry(
        drop: Drop, store: Store, config: Config) -> None:
    """Another file (a page copied again the next day) whose headline was corrected: the
    source, the day and the text say it is the stored article."""
    drop("dec.txt", december())
    build(store, config, now=ARRIVAL)
    before = entries(config)
    drop("dec-lagi.txt", december(TITLE), at=LATER)
    build(store, config)
    after = entries(config)
    assert after.keys() == before.keys()
    assert sorted(e.title for e in after.values()).count(TITLE) == 1  # type: ignore[attr-defined]
    assert TYPO not in {e.title for e in after.values()}  # type: ignore[attr-defined]
    # The older copy read again (a rescan, a reparse) never brings the typo back.
    main(["build", "--reparse", "--config", str(_config_file(config))])
    assert TYPO not in {e.title for e in entries(config).values()}  # type: ignore[attr-defined]


def test_two_copies_read_in_one_scan_are_one_entry(
        drop: Drop, store: Store, config: Config) -> None:
    """An article and its corrected copy in another file arrive together: the copy continues
    the entry still waiting in the write-behind batch, not yet in the store."""
    page = "{title}\n\nSemarang, kota-semarang.kpu.go.id – {text} Senin (1/12/2025). (ana)"
    drop("pleno.txt", page.format(title="Rapat Plenno DPB Triwulan IV", text=PLENO))
    drop("pleno2.txt", page.format(title="Rapat Pleno DPB Triwulan IV", text=PLENO),
         at=LATER)  # read second: names are read in order
    build(store, config)
    assert [e.title for e in entries(config).values()] == [  # type: ignore[attr-defined]
        "Rapat Pleno DPB Triwulan IV"]


def test_a_burst_of_one_day_compares_each_article_with_a_few(
        drop: Drop, store: Store, config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """A thousand files of one source and day must not compare every article with every
    other (a burst took seconds a file that way): each is compared with at most
    ``CANDIDATES`` of its day, stored or waiting in the batch."""
    compared: list[object] = []
    same_article = lineage.same_article

    def counting(*args: Any, **kwargs: Any) -> bool:
        compared.append(args)
        return same_article(*args, **kwargs)

    monkeypatch.setattr(lineage, "same_article", counting)
    files = 3 * lineage.CANDIDATES
    for n in range(files):
        drop(f"rilis-{n:03d}.txt", f"Rilis Nomor {n}\n\nSemarang, kota-semarang.kpu.go.id – "
             f"Pengumuman nomor {n} tentang jadwal kegiatan, Senin (1/12/2025). (ana)")
    build(store, config)
    assert len(entries(config)) == min(files, config.feed_max_entries)
    assert len(compared) <= files * lineage.CANDIDATES
    assert len(compared) < files * (files - 1) // 2


@pytest.mark.parametrize(("name", "text"), [
    ("catatan.txt", "Sosialisasi {title} Pemula di SMA 1\n\nKPU Kota Semarang menggelar "
     "sosialisasi bagi pemilih pemula di SMA 1 Semarang. Sebanyak 300 siswa hadir dan "
     "mengikuti simulasi pemungutan suara di aula sekolah."),
    ("jadwal.md", "---\ntitle: Sosialisasi {title} Pemula di SMA 1\ndate: 2025-08-01\n---\n"
     "KPU Kota Semarang menggelar sosialisasi bagi pemilih pemula di SMA 1 Semarang. "
     "Sebanyak 300 siswa hadir dan mengikuti simulasi pemungutan suara di aula sekolah."),
])
def test_a_title_fixed_in_a_plain_article_or_markdown_without_id_keeps_its_entry(
        drop: Drop, store: Store, config: Config, name: str, text: str) -> None:
    path = drop(name, text.format(title="Prmilih"))
    build(store, config, now=ARRIVAL)
    ((guid, entry),) = entries(config).items()
    save(path, text.format(title="Pemilih"), LATER)
    build(store, config)
    ((again, fixed),) = entries(config).items()
    assert (again, fixed.title) == (guid, "Sosialisasi Pemilih Pemula di SMA 1")
    assert fixed.link == entry.link  # type: ignore[attr-defined]
    assert fixed.published == entry.published  # type: ignore[attr-defined]
    assert fixed.updated == LATER.isoformat()
    assert "sebelumnya &quot;Sosialisasi Prmilih" in fixed.content[0].value or (
        'sebelumnya "Sosialisasi Prmilih' in fixed.content[0].value)


PLENO = ("KPU Kota Semarang menggelar rapat pleno rekapitulasi daftar pemilih berkelanjutan di "
         "aula kantor, dihadiri Bawaslu, partai politik dan Disdukcapil. Jumlah pemilih yang "
         "ditetapkan sebanyak 1.235.410 orang, terdiri atas 604.112 laki-laki dan 631.298 "
         "perempuan. Ketua KPU mengajak warga melapor bila ada anggota keluarga yang pindah.")


@pytest.mark.parametrize(("one", "other", "text"), [
    ("Rapat Pleno DPB Triwulan III", "Rapat Pleno DPB Triwulan IV", PLENO),
    ("KPU Kota Semarang Gelar Rapat Pleno DPB", "KPU Kabupaten Semarang Gelar Rapat Pleno DPB",
     PLENO),
    ("Rekapitulasi DPB Tahap 1", "Rekapitulasi DPB Tahap 2", PLENO),
    # A follow-up on the same event, the same day.
    ("KPU Kota Semarang Gelar Rapat Pleno DPB", "Hasil Pleno DPB Diserahkan ke Partai Politik",
     "Hasil rapat pleno rekapitulasi daftar pemilih diserahkan kepada partai politik dan "
     "Bawaslu. Salinan berita acara dapat diminta di kantor KPU selama jam kerja."),
])
def test_near_misses_of_the_same_day_stay_separate_entries(
        drop: Drop, store: Store, config: Config, one: str, other: str, text: str) -> None:
    page = "{title}\n\nSemarang, kota-semarang.kpu.go.id – {text} Senin (1/12/2025). (ana)"
    drop("satu.txt", page.format(title=one, text=PLENO))
    build(store, config, now=ARRIVAL)
    drop("dua.txt", page.format(title=other, text=text), at=LATER)
    build(store, config)
    found = entries(config)
    assert sorted(e.title for e in found.values()) == sorted([one, other])  # type: ignore[attr-defined]
    assert not any("Ralat" in e.content[0].value for e in found.values())  # type: ignore[attr-defined]


def test_the_corrections_feed_lists_corrected_entries_and_validates(
        drop: Drop, store: Store, config: Config) -> None:
    path = drop("dec.txt", december())
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    build(store, config, now=ARRIVAL)
    out = config.output_dir
    assert entries(config, "corrections/atom.xml") == {}  # there from the start
    save(path, december(TITLE).replace("Big Data Analytics", "Analitik Big Data"), LATER)
    build(store, config)
    (entry,) = entries(config, "corrections/atom.xml").values()
    assert entry.title == TITLE  # type: ignore[attr-defined]
    assert "judul diperbaiki" in entry.content[0].value  # type: ignore[attr-defined]
    assert "isi diperbaiki" in entry.content[0].value  # type: ignore[attr-defined]
    assert [i["title"] for i in read_json_feed(out / "corrections/feed.json")["items"]] == [
        TITLE]
    assert [e.title for e in read_feed(out / "corrections/rss.xml").entries] == [TITLE]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{config.url("corrections/")}"' in index
    if VALIDATOR.is_file():
        findings = {name: found for name in ("rss.xml", "atom.xml", "feed.json")
                    if name != "feed.json" and (found := validate(
                        out / "corrections" / name, config.url("corrections/" + name)))}
        assert findings == {}


def test_feeder_status_lists_recent_corrections(
        drop: Drop, store: Store, config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    path = drop("dec.txt", december())
    build(store, config, now=ARRIVAL)
    save(path, december(TITLE), LATER)
    build(store, config)
    store.close()
    assert main(["status", "--config", str(_config_file(config))]) == 0
    out = capsys.readouterr().out
    assert (f"corrected {LATER.isoformat()}: {TITLE}: title (before: \"{TYPO}\")") in out


def _config_file(config: Config) -> Path:
    path = config.drop_dir.parent / "feeder.toml"
    path.write_text(
        f'drop_dir = "{config.drop_dir}"\noutput_dir = "{config.output_dir}"\n'
        f'state_dir = "{config.state_dir}"\nrejected_dir = "{config.rejected_dir}"\n',
        encoding="utf-8")
    return path


# Archives: complete only when the month has ended, plus the grace for late files.

def _month(config: Config, month: str) -> etree._Element:
    return etree.parse(str(config.output_dir / f"archive/{month}.xml")).getroot()


def _links(root: etree._Element) -> dict[str, str]:
    return {e.get("rel"): e.get("href") for e in root.findall(f"{ATOM}link")}


def test_the_current_month_is_reachable_but_not_a_complete_archive(
        drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")  # December 2025
    drop("jul.txt", sample="kpu-semarang-jul.txt")  # July 2025
    build(store, config, now=datetime(2025, 12, 28, 9, tzinfo=JAKARTA))
    current, ended = _month(config, "2025-12"), _month(config, "2025-07")
    assert current.find(f"{FH}archive") is None
    assert ended.find(f"{FH}archive") is not None
    feed = _links(etree.parse(str(config.output_dir / "atom.xml")).getroot())
    # The subscription leads to December's page as its next page, and from there the
    # complete archive goes on; it claims December is no archive.
    assert feed["next"] == config.url("archive/2025-12.xml")
    assert "prev-archive" not in feed
    assert _links(current)["prev-archive"] == config.url("archive/2025-07.xml")
    assert "next-archive" not in _links(ended)  # December is no archive document yet
    if VALIDATOR.is_file():
        assert validate(config.output_dir / "archive/2025-12.xml",
                        config.url("archive/2025-12.xml")) == []
        assert validate(config.output_dir / "atom.xml", config.url("atom.xml")) == []
        assert validate(config.output_dir / "rss.xml", config.url("rss.xml")) == []


def test_a_month_becomes_a_complete_archive_after_the_grace_for_late_files(
        drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    build(store, config, now=datetime(2026, 1, 7, 23, 59, tzinfo=JAKARTA))  # 7 days late
    assert _month(config, "2025-12").find(f"{FH}archive") is None
    report = build(store, config, now=datetime(2026, 1, 8, 0, 0, tzinfo=JAKARTA))
    assert not report.skipped and "month:2025-12" in report.channels
    assert _month(config, "2025-12").find(f"{FH}archive") is not None
    assert _links(_month(config, "2025-07"))["next-archive"] == config.url(
        "archive/2025-12.xml")
    feed = _links(etree.parse(str(config.output_dir / "atom.xml")).getroot())
    assert feed["prev-archive"] == config.url("archive/2025-12.xml") and "next" not in feed
    assert build(store, config, now=datetime(2026, 1, 8, 0, 5, tzinfo=JAKARTA)).skipped


def test_a_late_correction_rewrites_its_archived_month(
        drop: Drop, store: Store, config: Config) -> None:
    path = drop("dec.txt", december())
    build(store, config, now=ARRIVAL)  # 10 January 2026: December is complete
    assert _month(config, "2025-12").find(f"{FH}archive") is not None
    corrected = datetime(2026, 3, 2, 10, 15, tzinfo=JAKARTA)
    save(path, december(TITLE), corrected)
    report = build(store, config, now=corrected + timedelta(minutes=1))
    assert "month:2025-12" in report.channels
    archived = {e.title: e for e in read_feed(config.output_dir / "archive/2025-12.xml").entries}
    assert TYPO not in archived
    assert archived[TITLE].updated == corrected.isoformat()
    assert "Ralat: judul diperbaiki pada 2 Maret 2026 10.15 WIB" in archived[
        TITLE].content[0].value


NEWSBOAT = shutil.which("newsboat")


@pytest.mark.slow
@pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed")
def test_newsboat_shows_one_item_updated_after_a_correction(tmp_path: Path) -> None:
    """One cache, a poll before the correction and one after: one item, with the new
    title, not a second one."""
    service = RunningService(tmp_path)
    path = service.drop / "dec.txt"
    path.write_text(december(), encoding="utf-8")
    service.start()
    urls = tmp_path / "urls"
    cache = tmp_path / "cache.db"

    def poll(*commands: str) -> str:
        assert NEWSBOAT is not None
        done = subprocess.run(
            [NEWSBOAT, "-u", str(urls), "-c", str(cache), "-x", "reload", *commands],
            capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        service.wait_built()
        urls.write_text(service.url + "atom.xml\n", encoding="utf-8")
        assert poll("print-unread").strip() == "6 unread articles"
        titles = service.titles()
        path.write_text(december(TITLE), encoding="utf-8")
        wait_for(lambda: service.titles() != titles)
        assert poll("print-unread").strip() == "6 unread articles"
    finally:
        service.kill()
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT guid, title FROM rss_item").fetchall()
    assert len(rows) == 6
    assert TITLE in {t for _, t in rows} and TYPO not in {t for _, t in rows}



@pytest.mark.parametrize("together", [True, False])
def test_an_older_copy_never_takes_back_a_correction(
        drop: Drop, store: Store, config: Config, together: bool) -> None:
    """The corrected copy is read first (in the same scan, or in an earlier one), then a copy
    saved before it: the entry keeps the corrected title and tells of no correction; the
    older copy carries it too, so it stays when the newer copy is deleted."""
    page = "{title}\n\nSemarang, kota-semarang.kpu.go.id – {text} Senin (1/12/2025). (ana)"
    newer = drop("a-ralat.txt", page.format(title="Rapat Pleno DPB Triwulan IV", text=PLENO),
                 at=LATER)  # read first: names are read in order
    if not together:
        build(store, config)
    drop("b-lama.txt", page.format(title="Rapat Plenno DPB Triwulan IV", text=PLENO))
    build(store, config)
    (entry,) = entries(config).values()
    assert entry.title == "Rapat Pleno DPB Triwulan IV"  # type: ignore[attr-defined]
    assert "Ralat" not in entry.content[0].value  # type: ignore[attr-defined]
    assert not read_feed(config.output_dir / "corrections" / "atom.xml").entries
    newer.unlink()
    build(store, config)
    assert [e.title for e in entries(config).values()] == [  # type: ignore[attr-defined]
        "Rapat Pleno DPB Triwulan IV"]
