"""Every file a build writes is served with the media type of what it is.

The expected type is worked out from each file's content (its XML root, its JSON, the
image format Pillow reads), not from its name, so a file whose name misleads the server
(an Atom archive called ``2025-12.xml``) is caught, and so is a new kind of file nobody
gave a type.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from feeder import publish
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.serve.server import FeedServer
from feeder.store import Store
from tests.support import CHROMIUM_ACCEPT, JAKARTA, Drop, call, photo

UTF8 = "; charset=utf-8"
BY_ROOT = {"rss": "application/rss+xml" + UTF8,
           "{http://www.w3.org/2005/Atom}feed": "application/atom+xml" + UTF8,
           "opml": "text/x-opml" + UTF8}
ICONS = ("image/vnd.microsoft.icon", "image/x-icon")  # either is understood everywhere
BY_FORMAT = {"JPEG": ("image/jpeg",), "PNG": ("image/png",), "GIF": ("image/gif",),
             "WEBP": ("image/webp",), "ICO": ICONS}


def expected(path: Path) -> tuple[str, ...]:
    """The media types right for the file at *path*, judged by its content."""
    data = path.read_bytes()
    if path.suffix == ".css":  # nothing in a style sheet says so
        return ("text/css" + UTF8,)
    if data.lstrip().lower().startswith(b"<!doctype html"):
        return ("text/html" + UTF8,)
    if data.startswith(b"<?xml"):
        return (BY_ROOT[etree.fromstring(data).tag],)
    if data.startswith(b"{"):
        version = json.loads(data).get("version", "")
        assert version.startswith("https://jsonfeed.org/version/"), path
        return ("application/feed+json" + UTF8,)
    with Image.open(io.BytesIO(data)) as image:  # anything else must be an image
        return BY_FORMAT[str(image.format)]


def test_every_file_of_a_build_is_served_with_its_media_type(
        drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    drop("rapat.txt", "Rapat Pleno\n\nKendal – Rapat digelar Senin (1/12/2025). (bud)")
    drop("rapat.jpg", photo())
    drop("catatan.md", "---\ntitle: Jadwal\ndate: 2025-11-03T08:00:00+07:00\ntags: [Pemilu]"
         "\n---\nIsi.\n\n![Rapat](foto.png)\n")
    drop("foto.png", photo("PNG", colour="blue"))
    Ingestor(store, config).scan()
    publish.build(store, config, now=datetime(2026, 1, 10, tzinfo=JAKARTA))
    out = config.output_dir
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    kinds = {name.split("/")[0] for name in files}
    # Each kind of file a build writes is here, so each is checked.
    assert {"rss.xml", "atom.xml", "feed.json", "index.html", "feeds.opml", "feed.css",
            "site.css", "favicon.ico", "icon.png", "archive", "articles", "images",
            "sources", "tags"} <= kinds
    app = FeedServer(out)
    served = {name: call(app, "/" + name).headers["content-type"] for name in files}
    wrong = {name: ctype for name, ctype in served.items()
             if ctype not in expected(out / name)}
    assert wrong == {}


@pytest.mark.parametrize(("name", "ctype"), [
    # Files of channels the sample build above may not make.
    ("corrections/rss.xml", "application/rss+xml" + UTF8),
    ("corrections/atom.xml", "application/atom+xml" + UTF8),
    ("corrections/feed.json", "application/feed+json" + UTF8),
    ("archive/2025-12.xml", "application/atom+xml" + UTF8),
    # Only the archive's own documents are Atom because of their folder.
    ("archive/notes/sitemap.xml", "application/xml" + UTF8),
    ("sitemap.xml", "application/xml" + UTF8),
])
def test_feeds_of_every_channel_get_their_type(tmp_path: Path, name: str, ctype: str) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_bytes(b"<x/>")
    assert call(FeedServer(tmp_path), "/" + name).headers["content-type"] == ctype


def test_browsers_get_archives_as_xml_like_the_feeds(tmp_path: Path) -> None:
    """A browser styles application/xml with the feed's stylesheet but shows the feed types
    as raw text: an archive is a feed, and is shown as one."""
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "2025-12.xml").write_bytes(b"<feed/>")
    app = FeedServer(tmp_path)
    browser = call(app, "/archive/2025-12.xml", headers={"Accept": CHROMIUM_ACCEPT})
    reader = call(app, "/archive/2025-12.xml", headers={"Accept": "*/*"})
    assert browser.headers["content-type"] == "application/xml" + UTF8
    assert reader.headers["content-type"] == "application/atom+xml" + UTF8
    assert "accept" in reader.headers["vary"]
