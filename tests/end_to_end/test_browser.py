"""The published site as a person sees it: headless Chromium opens the feeds and the index.

Issue #7: opened in a browser, rss.xml and atom.xml must be a readable page (styled by
feed.css through an ``xml-stylesheet`` processing instruction), not raw XML, and never styled
with XSLT, which Chromium now covers with a "being removed" banner. The sample pages are
built with the command line, served by the project's own server on loopback, and rendered
by Chromium twice per page: a screenshot (must be a real, non-blank picture) and the DOM
after rendering (must be the feed document itself, carrying every article title).

Skipped only when no Chromium binary is installed; CI installs one (see .ci/run).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import feedparser
import httpx
import pytest
import uvicorn
from lxml import etree, html
from PIL import Image

from feeder.cli import main
from feeder.serve.server import FeedServer, make_config
from tests.support import ARRIVAL, CHROMIUM, SAMPLES, set_mtime

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary installed")

WIDTH, HEIGHT = 1000, 1400
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--window-size={WIDTH},{HEIGHT}"]
PAGES = ("rss.xml", "atom.xml", "index.html")
FEEDS = {"rss.xml": "rss", "atom.xml": "feed"}  # file → local name of its root element
XSLT_WARNINGS = ("XSLT", "being removed")


@dataclass(frozen=True)
class Rendered:
    screenshot: Path
    dom: str


@dataclass(frozen=True)
class Site:
    base_url: str
    out: Path
    titles: frozenset[str]  # every sample article's title, as feedparser reads the feed
    pages: dict[str, Rendered]


def _chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium once with a fresh profile; its stdout."""
    assert CHROMIUM is not None
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _render(base: Path, url: str, name: str) -> Rendered:
    shot = base / f"{name}.png"
    _chromium(base / f"profile-shot-{name}", f"--screenshot={shot}", url)
    dom = _chromium(base / f"profile-dom-{name}", "--dump-dom", url)
    return Rendered(shot, dom)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The samples built and served over HTTP, and every page rendered by Chromium."""
    tmp = tmp_path_factory.mktemp("browser")
    drop, out = tmp / "drop", tmp / "out"
    drop.mkdir()
    for sample in SAMPLES.glob("*.txt"):
        shutil.copyfile(sample, drop / sample.name)
        set_mtime(drop / sample.name, ARRIVAL)

    # The socket listens before the server starts (requests simply queue), so the port, and
    # with it the feeds' base_url that feed.css is loaded from, is known before the build.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = tmp / "feeder.toml"
    config.write_text(f'[site]\nbase_url = "{base_url}"\n', encoding="utf-8")
    assert main(["build", "--config", str(config), "--drop-dir", str(drop),
                 "--output-dir", str(out), "--state-dir", str(tmp / "state")]) == 0

    server = uvicorn.Server(make_config(FeedServer(out), "127.0.0.1", sock.getsockname()[1]))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        atom = feedparser.parse((out / "atom.xml").read_bytes())
        titles = frozenset(e.title for e in atom.entries)
        # One Chromium per page and mode, in parallel: each takes a second or two.
        with ThreadPoolExecutor(max_workers=len(PAGES)) as pool:
            jobs = {name: pool.submit(_render, tmp, base_url + name, name) for name in PAGES}
            pages = {name: job.result() for name, job in jobs.items()}
        yield Site(base_url, out, titles, pages)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive()


def test_samples_have_titles(site: Site) -> None:
    assert len(site.titles) == 12  # both sample pages, so the checks below mean something
    rss = feedparser.parse((site.out / "rss.xml").read_bytes())
    assert {e.title for e in rss.entries} == site.titles


@pytest.mark.parametrize("name", PAGES)
def test_screenshot_is_a_real_picture(site: Site, name: str) -> None:
    shot = site.pages[name].screenshot
    assert shot.is_file() and shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
        grey = image.convert("L")
        colours = image.convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT) or []
        dark = sum(count for level, count in enumerate(grey.histogram()) if level < 96)
    assert len(colours) > 16, f"{name}: screenshot is blank"
    assert dark > 2000, f"{name}: screenshot has almost no text"


@pytest.mark.parametrize("name", FEEDS)
def test_feed_renders_as_styled_document(site: Site, name: str) -> None:
    dom = site.pages[name].dom
    # A feed the browser shows as plain text (Chromium does that for the application/rss+xml
    # and application/atom+xml types) comes back as <html><body><pre>…: no stylesheet applies.
    root = etree.fromstring(dom.encode(), etree.XMLParser(recover=True))
    assert root is not None and etree.QName(root).localname == FEEDS[name], (
        f"{name} was not rendered as a feed document: {dom[:300]!r}")
    text = "".join(root.itertext())
    missing = {t for t in site.titles if t not in text}
    assert not missing, f"{name}: titles missing from the rendered page: {missing}"
    for warning in XSLT_WARNINGS:
        assert warning not in dom, f"{name}: the page mentions {warning!r}"


@pytest.mark.parametrize("name", FEEDS)
def test_feed_is_styled_with_css_not_xslt(site: Site, name: str) -> None:
    root = etree.parse(site.out / name).getroot()
    styles = [p for p in root.itersiblings(preceding=True)
              if isinstance(p, etree._ProcessingInstruction) and p.target == "xml-stylesheet"]
    assert len(styles) == 1
    assert styles[0].get("type") == "text/css"
    href = styles[0].get("href")
    assert href == site.base_url + "feed.css"
    resp = httpx.get(href, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/css")


def test_index_lists_articles_and_feeds(site: Site) -> None:
    dom = site.pages["index.html"].dom
    page = html.fromstring(dom)
    text = page.text_content()
    missing = {t for t in site.titles if t not in text}
    assert not missing, f"titles missing from the index page: {missing}"
    alternates = {e.get("type"): e.get("href") for e in page.xpath("//link[@rel='alternate']")}
    assert alternates["application/rss+xml"] == site.base_url + "rss.xml"
    assert alternates["application/atom+xml"] == site.base_url + "atom.xml"
    links = page.xpath("//ul[@class='articles']/li/a/@href")
    assert len(links) == len(site.titles)
    for warning in XSLT_WARNINGS:
        assert warning not in dom
