"""Many offices in one service: per-source feeds, OPML, and snapshot folders."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree, html

from feeder.config import Config
from feeder.store import Store
from tests.support import (
    ARRIVAL,
    PAGES,
    SAMPLES,
    Drop,
    build,
    check_atom,
    check_rss,
    read_feed,
    read_json_feed,
    set_mtime,
)

OFFICES = {
    "kota-semarang.kpu.go.id": 12,
    "kab-kendal.kpu.go.id": 2,
    "kota-surakarta.kpu.go.id": 3,
}


@pytest.fixture
def offices(drop: Drop, config: Config) -> None:
    drop("semarang/dec.txt", sample="kpu-semarang-dec.txt")
    drop("semarang/jul.txt", sample="kpu-semarang-jul.txt")
    for name in ("kab-kendal.txt", "kota-surakarta.txt"):
        target = config.drop_dir / name
        shutil.copyfile(PAGES / name, target)
        set_mtime(target, ARRIVAL)


def source_titles(config: Config, slug: str) -> set[str]:
    return {e.title for e in read_feed(config.output_dir / "sources" / slug / "atom.xml").entries}


@pytest.mark.usefixtures("offices")
def test_each_source_feed_has_exactly_its_own_entries(store: Store, config: Config) -> None:
    build(store, config)
    out, base = config.output_dir, config.site_base_url
    all_titles = {e.title for e in read_feed(out / "rss.xml").entries}
    assert len(all_titles) == sum(OFFICES.values())
    seen: set[str] = set()
    for key, count in OFFICES.items():
        folder = out / "sources" / key.replace(".", "-")
        for name in ("rss.xml", "atom.xml"):
            feed = read_feed(folder / name)
            assert len(feed.entries) == count
            assert all(e.link.startswith(base + "articles/") for e in feed.entries)
        check_rss(folder / "rss.xml", base + f"sources/{folder.name}/")
        check_atom(folder / "atom.xml", base + f"sources/{folder.name}/")
        items = read_json_feed(folder / "feed.json")["items"]
        assert {i["_feeder"]["source"] for i in items} == {key}
        titles = {e.title for e in read_feed(folder / "rss.xml").entries}
        assert not titles & seen
        seen |= titles
    assert seen == all_titles


@pytest.mark.usefixtures("offices")
def test_source_titles_come_from_config_or_site_name(store: Store, config: Config) -> None:
    named = replace(config, sources={"kab-kendal.kpu.go.id": {"title": "KPU Kabupaten Kendal"}})
    build(store, named)
    feeds = {key: read_feed(config.output_dir / "sources" / key.replace(".", "-") / "rss.xml")
             for key in OFFICES}
    assert feeds["kab-kendal.kpu.go.id"].feed.title == "KPU Kabupaten Kendal"
    assert feeds["kota-surakarta.kpu.go.id"].feed.title == "KPU Kota Surakarta"


@pytest.mark.usefixtures("offices")
def test_opml_lists_every_feed(store: Store, config: Config) -> None:
    build(store, config)
    opml = etree.fromstring((config.output_dir / "feeds.opml").read_bytes())
    assert opml.get("version") == "2.0" and opml.findtext("head/title")
    urls = [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]
    per_source = sorted(config.url(f"sources/{k.replace('.', '-')}/rss.xml") for k in OFFICES)
    assert urls == [config.url("rss.xml"), config.url("corrections/rss.xml"), *per_source]
    # Grouped: all articles and the corrections first, then an outline holding the sources'
    # feeds (in the site's language: Indonesian by default).
    (group,) = opml.xpath("body/outline[not(@xmlUrl)]")
    assert group.get("text") == "Sumber" and len(group) == len(OFFICES)
    for url in urls:
        path = config.output_dir / url.removeprefix(config.site_base_url)
        assert read_feed(path).entries or "corrections" in url  # nothing corrected here


@pytest.mark.usefixtures("offices")
def test_index_lists_sources_with_feeds_and_latest_article(store: Store, config: Config) -> None:
    build(store, config)
    page = html.fromstring((config.output_dir / "index.html").read_bytes())
    rows = page.xpath("//ul[@class='sources']/li")
    assert len(rows) == 3
    kendal = next(r for r in rows if "Kendal" in r.text_content())
    assert "KPU Kendal Gelar Rapat Pleno" in kendal.text_content()
    assert config.url("sources/kab-kendal-kpu-go-id/rss.xml") in kendal.xpath(".//a/@href")


def test_markdown_source_and_folder_fallback(drop: Drop, store: Store, config: Config) -> None:
    drop("desa/a.md", "---\ntitle: Dari Front Matter\nsource: Desa-Maju.id\n---\nIsi.")
    drop("desa/b.txt", "Dari Folder\n\nIsi.")
    drop("c.txt", "Di Akar\n\nIsi.")
    build(store, config)
    assert store.sources() == {"desa-maju.id": 1, "desa": 1, "local": 1}
    assert source_titles(config, "desa") == {"Dari Folder"}


def test_folder_config_forces_a_source(drop: Drop, store: Store, config: Config) -> None:
    drop("arsip/dec.txt", sample="kpu-semarang-dec.txt")
    build(store, replace(config, folders={"arsip": {"source": "arsip-lama"}}))
    assert store.sources() == {"arsip-lama": 6}


def test_keep_mode_retains_entries_of_deleted_snapshots(
        drop: Drop, store: Store, config: Config) -> None:
    keeping = replace(config, folders={"snap": {"on_delete": "keep"}})
    first = drop("snap/2025-12-06.txt", sample="kpu-semarang-dec.txt")
    build(store, keeping)
    # The next snapshot overlaps: the same page with the oldest article scrolled off.
    text = (SAMPLES / "kpu-semarang-dec.txt").read_text(encoding="utf-8")
    drop("snap/2025-12-07.txt", text[: text.rindex("\n\nKPU Kota Semarang Gelar Forum")],
         at=ARRIVAL + timedelta(days=1))
    build(store, keeping)
    first.unlink()
    build(store, keeping)
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 6
    (config.drop_dir / "snap/2025-12-07.txt").unlink()
    build(store, keeping)
    assert len(read_feed(config.output_dir / "rss.xml").entries) == 6
    # The same cleanup in the default mode retracts.
    drop("other/a.txt", "Judul\n\nIsi.")
    build(store, keeping)
    (config.drop_dir / "other/a.txt").unlink()
    build(store, keeping)
    assert "Judul" not in {e.title for e in read_feed(config.output_dir / "rss.xml").entries}


@pytest.mark.usefixtures("offices")
def test_new_article_rebuilds_only_its_source_and_the_aggregate(
        drop: Drop, store: Store, config: Config) -> None:
    build(store, config)
    before = {p: p.stat().st_mtime_ns for p in (config.output_dir / "sources").rglob("*.*")}
    page = (PAGES / "kab-kendal.txt").read_text(encoding="utf-8")
    drop("kab-kendal-2.txt", page.replace("Sosialisasi Pemilih Pemula", "Sosialisasi Baru"),
         at=ARRIVAL + timedelta(hours=2))
    report = build(store, config)
    assert [c for c in report.channels if c.startswith("source:")] == [
        "source:kab-kendal.kpu.go.id"]
    assert {n for n in report.written if not n.startswith("articles/")} >= {
        "rss.xml", "atom.xml", "feed.json", "index.html", "sources/kab-kendal-kpu-go-id/rss.xml"}
    changed = {p.parent.name for p, t in before.items() if p.stat().st_mtime_ns != t}
    assert changed == {"kab-kendal-kpu-go-id"}


def test_source_without_entries_loses_its_feeds(drop: Drop, store: Store,
                                                config: Config) -> None:
    path = drop("desa/a.txt", "Judul\n\nIsi.")
    build(store, config)
    assert (config.output_dir / "sources/desa/rss.xml").exists()
    path.unlink()
    build(store, config)
    assert not (config.output_dir / "sources/desa/rss.xml").exists()
    assert store.sources() == {}
