"""Images travel with their articles: checked, stripped of GPS, enclosed in every feed."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from lxml import etree, html
from PIL import ExifTags, Image

from feeder import publish
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.store import Store
from tests.support import (
    ARRIVAL,
    ATOM,
    Drop,
    build,
    check_atom,
    check_rss,
    photo,
    read_feed,
    read_json_feed,
)

ARTICLE = ("Rapat Pleno\n\nSemarang, kota-semarang.kpu.go.id – Rapat pleno digelar Kamis "
           "(4/12). (ana/ed. Foto: awh/KPU Kota Semarang)")


def published_images(config: Config) -> list[Path]:
    return sorted((config.output_dir / "images").glob("*")) if (
        config.output_dir / "images").exists() else []


def test_every_image_a_markdown_article_shows_is_published(
        drop: Drop, store: Store, config: Config) -> None:
    """A lead image beside the file and two more in the text: the page and the feeds
    link all three, and all three are there to be fetched."""
    drop("berita/rapat.jpg", photo("JPEG", "red"))
    drop("berita/foto/satu.png", photo("PNG", "green"))
    drop("berita/foto/dua.png", photo("PNG", "blue"))
    drop("berita/rapat.md", "---\ntitle: Rapat\n---\nTeks.\n\n![Satu](foto/satu.png)\n\n"
         "![Dua](foto/dua.png)\n")
    build(store, config)
    assert len(published_images(config)) == 3
    (item,) = read_json_feed(config.output_dir / "feed.json")["items"]
    shown = html.fromstring(item["content_html"]).xpath("//img/@src")
    assert len(shown) == 2
    for url in [*shown, item["image"]]:
        assert (config.output_dir / url.removeprefix(config.site_base_url)).is_file(), url
    page = config.output_dir / item["url"].removeprefix(config.site_base_url)
    on_page = [urljoin(item["url"], src)
               for src in html.fromstring(page.read_bytes()).xpath("//img/@src")]
    assert len(on_page) == 3
    for url in on_page:
        assert (config.output_dir / url.removeprefix(config.site_base_url)).is_file(), url


def test_image_beside_article_is_published_in_all_formats(
        drop: Drop, store: Store, config: Config) -> None:
    drop("rapat.txt", ARTICLE)
    drop("rapat.jpg", photo())
    build(store, config)
    (image,) = published_images(config)
    url = config.url(f"images/{image.name}")
    assert image.suffix == ".jpg"

    with Image.open(image) as published:
        assert published.format == "JPEG"
        assert published.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert published.getexif()[ExifTags.Base.Copyright] == "KPU Kota Semarang"

    (rss,) = read_feed(config.output_dir / "rss.xml").entries
    assert [(e.href, int(e.length), e.type) for e in rss.enclosures] == [
        (url, image.stat().st_size, "image/jpeg")]
    check_rss(config.output_dir / "rss.xml", config.site_base_url)

    check_atom(config.output_dir / "atom.xml", config.site_base_url)
    (entry,) = etree.parse(str(config.output_dir / "atom.xml")).iterfind(f"{ATOM}entry")
    links = [(link.get("rel"), link.get("href"), link.get("type"), link.get("length"))
             for link in entry.iterfind(f"{ATOM}link")]
    assert sorted(links, key=str) == sorted([
        ("alternate", rss.link, "text/html", None),
        ("enclosure", url, "image/jpeg", str(image.stat().st_size))], key=str)
    (atom_entry,) = read_feed(config.output_dir / "atom.xml").entries
    assert atom_entry.link == rss.link

    (item,) = read_json_feed(config.output_dir / "feed.json")["items"]
    assert item["image"] == url
    assert item["attachments"] == [
        {"url": url, "mime_type": "image/jpeg", "size_in_bytes": image.stat().st_size}]

    page = html.fromstring((config.output_dir / "articles").glob("*.html").__next__()
                           .read_bytes())
    assert page.xpath("//figure/img/@src") == [url]
    assert page.xpath("string(//figure/figcaption)") == "Foto: awh/KPU Kota Semarang"


def test_sibling_image_is_found_in_a_burst_of_files(drop: Drop, store: Store,
                                                     config: Config) -> None:
    # A burst is ingested as one batch, which finds images from a listing of the folder.
    paths = [drop(f"berita-{n:02}.txt", f"Berita Nomor {n}\n\nIsi berita nomor {n}.\n")
             for n in range(60)]
    drop("berita-07.jpg", photo())
    Ingestor(store, config).ingest_many(paths)
    publish.build(store, config)
    (image,) = published_images(config)
    with_image = [a for a in store.newest(-1, ARRIVAL + timedelta(days=1)) if a.image]
    assert [a.title for a in with_image] == ["Berita Nomor 7"]
    assert with_image[0].image and with_image[0].image.name == image.name


@pytest.mark.parametrize(("content", "reason"), [
    (b"\xff\xd8\xff\xe0 not really a jpeg", "not a readable image"),
    (photo("PNG"), "content is PNG, but the name says JPEG"),
    (photo()[:300], "not a readable image"),
])
def test_bad_image_is_rejected_alone(drop: Drop, store: Store, config: Config,
                                     content: bytes, reason: str) -> None:
    drop("rapat.txt", ARTICLE)
    drop("rapat.jpg", content)
    build(store, config)
    (entry,) = read_feed(config.output_dir / "rss.xml").entries
    assert entry.title == "Rapat Pleno" and entry.enclosures == []
    assert reason in (config.rejected_dir / "rapat.jpg.why.txt").read_text()
    assert not (config.drop_dir / "rapat.jpg").exists()
    assert published_images(config) == []


def test_image_arriving_later_or_replaced_updates_the_entry(
        drop: Drop, store: Store, config: Config) -> None:
    drop("rapat.txt", ARTICLE)
    build(store, config)
    (before,) = read_feed(config.output_dir / "atom.xml").entries
    assert before.enclosures == []

    drop("rapat.jpg", photo(), at=ARRIVAL + timedelta(hours=1))
    build(store, config)
    (with_image,) = read_feed(config.output_dir / "atom.xml").entries
    assert len(with_image.enclosures) == 1
    assert with_image.id == before.id and with_image.updated > before.updated

    drop("rapat.jpg", photo(colour="blue"), at=ARRIVAL + timedelta(hours=2))
    build(store, config)
    (replaced,) = read_feed(config.output_dir / "atom.xml").entries
    assert replaced.enclosures[0].href != with_image.enclosures[0].href
    assert replaced.updated > with_image.updated

    (config.drop_dir / "rapat.jpg").unlink()
    build(store, config)
    (without,) = read_feed(config.output_dir / "atom.xml").entries
    assert without.enclosures == []


def test_markdown_relative_image_is_published_and_linked(
        drop: Drop, store: Store, config: Config) -> None:
    drop("berita/foto/rapat kecil.png", photo("PNG"))
    drop("berita/rapat.md", "---\ntitle: Rapat\n---\nTeks.\n\n![Rapat](foto/rapat%20kecil.png)"
         "\n\n![Luar](../../rahasia.png)\n\n![Web](https://example.org/a.png)\n")
    (config.drop_dir.parent / "rahasia.png").write_bytes(photo("PNG", gps=False))
    build(store, config)
    (image,) = published_images(config)
    url = config.url(f"images/{image.name}")
    (item,) = read_json_feed(config.output_dir / "feed.json")["items"]
    sources = html.fromstring(item["content_html"]).xpath("//img/@src")
    # Relative URLs are made absolute for feed readers; the file outside is not published.
    assert sources == [url, config.url("rahasia.png"), "https://example.org/a.png"]
    assert not (config.output_dir / "rahasia.png").exists()
    assert item["image"] == url


def two_articles_one_photo(drop: Drop) -> None:
    """rapat.txt and pleno.txt, each with the same photo beside it: one published image."""
    drop("rapat.txt", ARTICLE)
    drop("rapat.jpg", photo())
    drop("pleno.txt", ARTICLE.replace("Rapat Pleno", "Pleno Terbuka").replace(
        "Kamis (4/12)", "Jumat (5/12)"))
    drop("pleno.jpg", photo())


def test_a_retracted_articles_images_go_with_it(drop: Drop, store: Store,
                                                config: Config) -> None:
    """An image stays published while some entry shows it: deleting one of two articles
    with the same photo keeps it, deleting the other removes it from the outputs (and the
    state folder's cleaned copy); so does a picture replaced by another."""
    two_articles_one_photo(drop)
    build(store, config)
    (image,) = published_images(config)
    assert (config.media_dir / image.name).is_file()

    (config.drop_dir / "rapat.txt").unlink()
    build(store, config)
    assert published_images(config) == [image]

    drop("pleno.jpg", photo(colour="blue"), at=ARRIVAL + timedelta(hours=1))
    build(store, config)
    (replaced,) = published_images(config)
    assert replaced != image and not (config.media_dir / image.name).exists()

    (config.drop_dir / "pleno.txt").unlink()
    report = build(store, config)
    assert published_images(config) == [] and f"images/{replaced.name}" in report.deleted
    assert not (config.media_dir / replaced.name).exists()


def test_a_store_made_before_images_were_tracked_learns_which_are_shown(
        drop: Drop, store: Store, config: Config) -> None:
    """Opened by this version, a store without the image tables gets them filled from its
    entries: an image another entry still shows is never taken for unused."""
    two_articles_one_photo(drop)
    build(store, config)
    store.close()
    with sqlite3.connect(config.store_path) as db:
        db.executescript("DROP TABLE image_uses; DROP TABLE unused_images;")
    store = Store(config.store_path)
    try:
        (config.drop_dir / "rapat.txt").unlink()
        build(store, config)
        assert len(published_images(config)) == 1
        (config.drop_dir / "pleno.txt").unlink()
        build(store, config)
        assert published_images(config) == []
    finally:
        store.close()


def test_images_left_by_articles_retracted_before_tracking_are_deleted(
        drop: Drop, store: Store, config: Config) -> None:
    """The first build of a store from before images were tracked looks at every image in
    the output and state folders: those no entry shows go, the shown one stays."""
    drop("rapat.txt", ARTICLE)
    drop("rapat.jpg", photo())
    build(store, config)
    (shown,) = published_images(config)
    for folder in (config.output_dir / "images", config.media_dir):
        (folder / "0123456789abcdef.jpg").write_bytes(photo())  # an old article's photo
    with sqlite3.connect(config.store_path) as db:
        db.execute("DELETE FROM meta WHERE name = 'images_swept'")
    publish.build(store, config, force=True)
    assert published_images(config) == [shown] and (config.media_dir / shown.name).is_file()
    assert not (config.media_dir / "0123456789abcdef.jpg").exists()
