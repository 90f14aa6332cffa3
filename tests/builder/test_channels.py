"""Topic feeds (tags and keyword categories) and RFC 5005 archive pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from lxml import etree, html

from feeder.config import Config
from feeder.store import Store
from tests.support import ARRIVAL, ATOM, Drop, build, check_atom, read_feed

FH = "{http://purl.org/syndication/history/1.0}"


def links(path: Path) -> dict[str, str]:
    feed = etree.parse(str(path)).getroot()
    return {e.get("rel"): e.get("href") for e in feed.findall(f"{ATOM}link")}


def test_markdown_tags_get_their_own_feeds(drop: Drop, store: Store, config: Config) -> None:
    drop("a.md", "---\ntitle: Satu\ntags: [Pemilu, Jadwal Kampanye]\n---\nIsi.")
    drop("b.md", "---\ntitle: Dua\ntags: [pemilu]\n---\nIsi.")
    drop("c.md", "---\ntitle: Tiga\n---\nIsi.")
    build(store, config)
    tags = config.output_dir / "tags"
    assert sorted(p.name for p in tags.iterdir()) == ["jadwal-kampanye", "pemilu"]
    assert {e.title for e in read_feed(tags / "pemilu/rss.xml").entries} == {"Satu", "Dua"}
    assert {e.title for e in read_feed(tags / "jadwal-kampanye/atom.xml").entries} == {"Satu"}
    check_atom(tags / "pemilu/atom.xml", config.url("tags/pemilu/"))
    page = html.fromstring((config.output_dir / "index.html").read_bytes())
    assert config.url("tags/pemilu/rss.xml") in page.xpath("//p[@class='tags']/a/@href")


def test_keyword_categories_tag_sample_articles(drop: Drop, store: Store,
                                                config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    categorised = replace(config, categories={"Informasi Publik": ("informasi publik", "PPID")})
    build(store, categorised)
    feed = read_feed(config.output_dir / "tags/informasi-publik/rss.xml")
    titles = {e.title for e in feed.entries}
    assert "KPU se-Jawa Tengah Diminta Perkuat Pengelolaan Informasi Publik" in titles
    assert 0 < len(titles) < 6
    for entry in read_feed(config.output_dir / "rss.xml").entries:
        terms = [t.term for t in entry.get("tags", [])]
        assert ("Informasi Publik" in terms) == (entry.title in titles)


def test_months_are_linked_archive_pages(drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    build(store, config)
    out = config.output_dir
    assert links(out / "atom.xml")["prev-archive"] == config.url("archive/2025-12.xml")
    december = etree.parse(str(out / "archive/2025-12.xml")).getroot()
    assert december.find(f"{FH}archive") is not None
    assert links(out / "archive/2025-12.xml") == {
        "self": config.url("archive/2025-12.xml"), "current": config.url("atom.xml"),
        "prev-archive": config.url("archive/2025-07.xml"), "alternate": config.url("")}
    assert "next-archive" not in links(out / "archive/2025-12.xml")
    assert links(out / "archive/2025-07.xml")["next-archive"] == config.url(
        "archive/2025-12.xml")
    assert len(read_feed(out / "archive/2025-07.xml").entries) == 6


def test_a_reader_catches_up_through_the_archive(drop: Drop, store: Store,
                                                 config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    build(store, replace(config, feed_max_entries=3))
    seen: set[str] = set()
    url: str | None = config.url("atom.xml")
    while url:
        path = config.output_dir / url.removeprefix(config.site_base_url)
        seen |= {e.id for e in read_feed(path).entries}
        url = links(path).get("prev-archive")
    assert len(seen) == 12


def test_a_new_month_relinks_the_previous_archive_page(
        drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    build(store, config)
    assert "next-archive" not in links(config.output_dir / "archive/2025-12.xml")
    drop("jan.md", "---\ntitle: Tahun Baru\ndate: 2026-01-05\n---\nIsi.",
         at=ARRIVAL + timedelta(days=1))
    report = build(store, config)
    assert sorted(c for c in report.channels if c.startswith("month:")) == [
        "month:2025-12", "month:2026-01"]
    assert links(config.output_dir / "archive/2025-12.xml")["next-archive"] == config.url(
        "archive/2026-01.xml")


def test_relative_links_in_content_become_absolute(drop: Drop, store: Store,
                                                   config: Config) -> None:
    drop("a.md", "---\ntitle: Tautan\n---\nLihat [jadwal](jadwal.html) dan "
         "[KPU](https://kpu.go.id/).")
    build(store, config)
    (entry,) = read_feed(config.output_dir / "atom.xml").entries
    anchors = html.fromstring(entry.content[0].value).xpath("//a/@href")
    assert anchors == [config.url("articles/jadwal.html"), "https://kpu.go.id/"]


def test_feeds_read_as_lxml_would_write_them_whole(drop: Drop, store: Store,
                                                   config: Config) -> None:
    """Entries are serialised once and spliced into each feed: every feed must still be
    the very bytes lxml writes for the whole document (no namespace declared twice)."""
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    drop("a.md", "---\ntitle: Satu\ntags: [Pemilu]\nauthor: Rina\n---\nIsi <b>tebal</b>.")
    build(store, config)
    feeds = sorted(config.output_dir.rglob("*.xml"))
    assert len(feeds) >= 10
    for path in feeds:
        tree = etree.parse(str(path))
        etree.indent(tree.getroot(), space="  ")
        whole = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
        data = path.read_bytes()
        assert data == whole, path
        archived = data.count(b"<fh:archive")  # declares its own namespace
        assert data.count(b" xmlns") == len(tree.getroot().nsmap) + archived, path
