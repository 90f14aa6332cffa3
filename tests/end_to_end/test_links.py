"""Links follow where feeder is served (issue 17): with ``site.base_url`` unset, every link
in every document points at the port `feeder run` answers on, and a crawler that starts at
the index page gets a 200 for each one; a base_url that leads elsewhere draws a warning."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from lxml import etree, html

from tests.support import (
    ARRIVAL,
    SAMPLES,
    VALIDATOR,
    RunningService,
    free_port,
    photo,
    read_json_feed,
    set_mtime,
    validate,
    wait_for,
)

pytestmark = pytest.mark.slow

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MISMATCH = "is not where feeder answers"
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)""")
# Elements of RSS, Atom and OPML whose text is a URL (an RSS guid only as a permalink).
URL_TEXTS = {"link", "url", "{http://www.w3.org/2005/Atom}id", "{http://www.w3.org/2005/Atom}icon",
             "{http://www.w3.org/2005/Atom}logo"}
HTML_TEXTS = {"description", "{http://purl.org/rss/1.0/modules/content/}encoded",
              "{http://www.w3.org/2005/Atom}content", "{http://www.w3.org/2005/Atom}summary"}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    running = RunningService(tmp_path)
    # The two real pages, one with a photo beside it, and a Markdown article showing one.
    for sample in SAMPLES.glob("*.txt"):
        shutil.copyfile(sample, running.drop / sample.name)
    (running.drop / "kpu-semarang-jul.jpg").write_bytes(photo())
    (running.drop / "foto").mkdir()
    (running.drop / "foto" / "rapat.png").write_bytes(photo("PNG"))
    (running.drop / "rapat.md").write_text(
        "---\ntitle: Rapat Pleno\ndate: 2025-12-01T09:00:00+07:00\ntags: [Pemilu]\n---\n"
        "Rapat digelar di [kantor](https://kota-semarang.kpu.go.id/).\n\n"
        "![Rapat](foto/rapat.png)\n", encoding="utf-8")
    for path in running.drop.rglob("*"):
        set_mtime(path, ARRIVAL)
    yield running
    running.kill()


def start_on_port(service: RunningService, port: int) -> None:
    service.args = ["--port", str(port)]
    service.start()
    assert service.url == f"http://127.0.0.1:{port}/"
    service.wait_built()
    assert len(service.titles()) == 13


def links_in(url: str, kind: str, body: bytes) -> set[str]:
    """Every link of a document, absolute, without its fragment."""
    found: list[str] = []
    if kind == "text/html":
        found += [link for _, _, link, _ in html.document_fromstring(body).iterlinks()]
    elif kind == "text/css":
        found += CSS_URL.findall(body.decode())
    elif kind == "application/feed+json":
        found += _json_links(json.loads(body))
    elif kind.endswith("xml") or kind == "text/x-opml":
        found += _xml_links(etree.fromstring(body))
    return {urldefrag(urljoin(url, link)).url for link in found}


def _json_links(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "content_html":
                yield from _html_fragment_links(item)
            else:
                yield from _json_links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_links(item)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        yield value


def _xml_links(root: etree._Element) -> Iterator[str]:
    sibling = root.getprevious()
    while sibling is not None:  # <?xml-stylesheet href="…"?> before the root
        if isinstance(sibling, etree._ProcessingInstruction) and sibling.get("href"):
            yield sibling.get("href")
        sibling = sibling.getprevious()
    for element in root.iter(etree.Element):
        for name in ("href", "url", "src", "xmlUrl", "htmlUrl"):
            if element.get(name):
                yield element.get(name)
        text = (element.text or "").strip()
        if element.tag in HTML_TEXTS and "<" in text:
            yield from _html_fragment_links(text)
        elif (element.tag in URL_TEXTS or (element.tag == "guid" and element.get(
                "isPermaLink") != "false")) and text.startswith("http"):
            yield text


def _html_fragment_links(text: str) -> Iterator[str]:
    return (link for _, _, link, _ in html.fragment_fromstring(text, create_parent="div")
            .iterlinks())


def crawl(service: RunningService) -> dict[str, tuple[str, bytes]]:
    """Every document reachable from the index page on the service's origin: URL → (type,
    body). Asserts each answers 200, and that no link leads to another port here."""
    origin = urlsplit(service.url)[:2]
    seen: dict[str, tuple[str, bytes]] = {}
    todo, queued = [service.url], {service.url}
    while todo:
        url = todo.pop()
        status, headers, body = service.get(urlsplit(url).path)
        assert status == 200, url
        kind = headers.get_content_type()
        seen[url] = kind, body
        for link in links_in(url, kind, body):
            parts = urlsplit(link)
            if parts.hostname in LOCAL_HOSTS:
                assert parts[:2] == origin, f"{url} links to {link}"
            if parts[:2] == origin and link not in queued:
                queued.add(link)
                todo.append(link)
    return seen


def test_links_follow_the_port_feeder_runs_on(service: RunningService) -> None:
    first = free_port(avoid={8080})
    start_on_port(service, first)
    documents = crawl(service)
    assert MISMATCH not in service.log()
    assert service.stop() == 0
    # Every kind of document was reached, and links to the next port are nowhere yet.
    paths = {urlsplit(url).path for url in documents}
    assert {"/", "/rss.xml", "/atom.xml", "/feed.json", "/feeds.opml", "/feed.css",
            "/site.css"} <= paths
    assert sum(p.startswith("/articles/") for p in paths) == 13
    assert sum(p.startswith("/images/") for p in paths) == 2

    # The same store and output folder served on another port: every page is written again.
    second = free_port(avoid={8080, first})
    start_on_port(service, second)
    moved = crawl(service)
    assert {urlsplit(url).path for url in moved} == paths
    stale = [str(p.relative_to(service.output)) for p in service.output.rglob("*")
             if p.is_file() and f":{first}/".encode() in p.read_bytes()]
    assert stale == []


def test_base_url_that_leads_elsewhere_draws_a_warning_and_is_kept(
        service: RunningService) -> None:
    port = free_port(avoid={8080})
    with service.config.open("a", encoding="utf-8") as config:
        config.write('[site]\nbase_url = "http://127.0.0.1:8080/"\n')
    service.args = ["--port", str(port)]
    service.start()
    wait_for(lambda: len(service.titles()) == 13)
    (warning,) = [line for line in service.log().splitlines() if MISMATCH in line]
    assert "WARNING" in warning and "reverse proxy" in warning
    assert "http://127.0.0.1:8080/" in warning and f"http://127.0.0.1:{port}/" in warning
    # A reverse proxy's address may well be meant: the links keep it.
    assert b'href="http://127.0.0.1:8080/rss.xml"' in service.get("/")[2]


def test_links_follow_a_port_chosen_at_start(service: RunningService) -> None:
    service.start()  # on port 0: any free port, known only once listening
    service.wait_built()
    assert urlsplit(service.url).port not in (0, 8080)
    index = html.document_fromstring(service.get("/")[2])
    assert index.xpath("//link[@type='application/rss+xml']/@href") == [service.url + "rss.xml"]
    assert "links point at " + service.url in service.log()


@pytest.mark.skipif(not VALIDATOR.is_file(), reason=f"no feed validator at {VALIDATOR}")
def test_crawler_finds_every_link_answered_and_every_feed_valid(
        service: RunningService, tmp_path: Path) -> None:
    start_on_port(service, free_port(avoid={8080}))
    documents = crawl(service)
    # Every file of the output folder is one of them (a folder's is its index.html).
    reached = {urlsplit(url).path for url in documents}
    files = {"/" + path.relative_to(service.output).as_posix()
             for path in service.output.rglob("*")
             if path.is_file() and not path.name.startswith(".")}  # never served
    assert files - reached - {path + "index.html" for path in reached} == set()
    xml = {url: body for url, (kind, body) in documents.items()
           if kind.endswith("xml") or kind == "text/x-opml"}
    assert len(xml) >= 10  # feeds of the site, its sources, topics and months; the OPML
    for url, (kind, body) in documents.items():
        if kind == "application/feed+json":
            path = tmp_path / "feed.json"
            path.write_bytes(body)
            assert read_json_feed(path)["feed_url"] == url

    def check(item: tuple[int, tuple[str, bytes]]) -> tuple[str, list[str]]:
        n, (url, body) = item
        path = tmp_path / f"document-{n}.xml"
        path.write_bytes(body)
        return url, validate(path, url)

    with ThreadPoolExecutor(max_workers=4) as pool:
        findings = {url: found for url, found in pool.map(check, enumerate(xml.items()))
                    if found}
    assert findings == {}
