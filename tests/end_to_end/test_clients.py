"""Real feed readers poll the served site (issue #17): every item arrives, and a second poll
from a client that sends validators is answered ``304``.

Each client talks to the real ``feeder run`` through ``Proxy``, a small logging reverse proxy
on loopback: the service logs no requests, and the proxy sees exactly which validators each
client sent and which status it got back, without depending on each client's debug output.
It relays header names as the service spelled them, because their case is what one client
(rsstail) trips on.

Each test skips itself when its client is not installed; CI installs them best-effort
(see .ci/run).
"""

from __future__ import annotations

import http.client
import os
import shlex
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.support import ARRIVAL, NEWSBOAT, SAMPLES, RunningService, set_mtime, wait_for

SFEED_UPDATE = shutil.which("sfeed_update")
CURL = shutil.which("curl")  # sfeed_update fetches with curl
RSSTAIL = shutil.which("rsstail")
FEEDS = ("rss.xml", "atom.xml")
TIMEOUT = 30  # seconds for one client run; each takes well under one here
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                        "transfer-encoding", "upgrade"})

pytestmark = pytest.mark.slow


def needs(*programs: str | None) -> pytest.MarkDecorator:
    return pytest.mark.skipif(None in programs, reason="client not installed (see .ci/run)")


@dataclass(frozen=True)
class Exchange:
    """One request as the service got it and the status it answered."""

    method: str
    path: str
    request: dict[str, str]  # header names lower-cased
    status: int
    response_names: tuple[str, ...]  # header names as the service spelled them

    @property
    def conditional(self) -> bool:
        """Whether the request carries a validator. curl's ``--etag-compare`` sends
        ``If-None-Match: ""`` before it has a tag; that validates nothing."""
        tag = self.request.get("if-none-match", "").strip()
        return "if-modified-since" in self.request or tag not in ("", '""')


class Proxy:
    """A reverse proxy on loopback: relays each GET or HEAD to *upstream* unchanged and
    records it, header names spelt as the service spelt them."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        assert target.hostname is not None and target.port is not None
        self.host, self.port = target.hostname, target.port
        self._lock = threading.Lock()
        self._log: list[Exchange] = []
        handler = type("Handler", (_Relay,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self._log.append(exchange)

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._log)


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect; every response sized
    proxy: Proxy

    def do_GET(self) -> None:
        self._relay()

    def do_HEAD(self) -> None:
        self._relay()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the record is Proxy.exchanges(), not stderr

    def _relay(self) -> None:
        sent = [(n, v) for n, v in self.headers.items() if n.lower() not in HOP_BY_HOP]
        upstream = http.client.HTTPConnection(self.proxy.host, self.proxy.port, timeout=10)
        try:
            # Exactly the client's headers: http.client would otherwise add its own
            # Accept-Encoding, and the service would answer something the client never asked.
            upstream.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
            for name, value in sent:
                upstream.putheader(name, value)
            upstream.endheaders()
            response = upstream.getresponse()
            body = response.read()  # raw bytes: gzip stays gzip, as the client asked
            received = response.getheaders()
        finally:
            upstream.close()
        self.proxy.record(Exchange(self.command, self.path,
                                   {n.lower(): v for n, v in sent}, response.status,
                                   tuple(n for n, _ in received)))
        self.send_response_only(response.status, response.reason)
        names = set()
        for name, value in received:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
                names.add(name.lower())
        if "content-length" not in names and response.status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))  # it came chunked
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@dataclass(frozen=True)
class Site:
    url: str
    titles: dict[str, list[str]]  # feed → its item titles, sorted, as feedparser reads them


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One service for the module: every test only reads, and each has its own proxy."""
    service = RunningService(tmp_path_factory.mktemp("clients"))
    for sample in SAMPLES.glob("*.txt"):
        shutil.copyfile(sample, service.drop / sample.name)
        set_mtime(service.drop / sample.name, ARRIVAL)
    service.start()
    try:
        service.wait_built()
        titles = {}
        for feed in FEEDS:
            status, _, body = service.get(feed)
            assert status == 200
            titles[feed] = sorted(entry.title for entry in feedparser.parse(body).entries)
            # Both sample pages, so "every title arrived" below means something.
            assert len(titles[feed]) == 12, titles[feed]
        yield Site(service.url, titles)
    finally:
        service.kill()


@pytest.fixture
def proxy(site: Site) -> Iterator[Proxy]:
    with Proxy(site.url) as running:
        yield running


def assert_answers_fit(exchanges: list[Exchange]) -> None:
    """The feed never changes here: a conditional request must get 304, any other the feed."""
    for exchange in exchanges:
        assert exchange.status == (304 if exchange.conditional else 200), exchange


# newsboat: stores validators in its cache and sends both on a reload.

def newsboat(tmp_path: Path, *commands: str) -> str:
    assert NEWSBOAT is not None
    done = subprocess.run(
        [NEWSBOAT, "-u", str(tmp_path / "urls"), "-c", str(tmp_path / "cache.db"),
         "-C", os.devnull, "-x", *commands],
        capture_output=True, text=True, timeout=TIMEOUT,
        env={**os.environ, "HOME": str(tmp_path)})  # no user configuration read
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def newsboat_titles(tmp_path: Path, url: str) -> list[str]:
    """The items newsboat keeps for *url*, from its own cache."""
    with closing(sqlite3.connect(tmp_path / "cache.db")) as cache:
        rows = cache.execute("SELECT title FROM rss_item WHERE feedurl = ?", (url,))
        return sorted(title for (title,) in rows)


@needs(NEWSBOAT)
@pytest.mark.parametrize("feed", FEEDS)
def test_newsboat_gets_every_item_then_304(site: Site, proxy: Proxy, tmp_path: Path,
                                           feed: str) -> None:
    url = proxy.url + feed
    (tmp_path / "urls").write_text(url + "\n", encoding="utf-8")
    assert newsboat(tmp_path, "reload", "print-unread") == "12 unread articles"
    assert newsboat_titles(tmp_path, url) == site.titles[feed]
    # newsboat 2.21 keeps a new feed's validators only from its second fetch on (it updates
    # the feed's row with them before the row is first inserted), so the second poll may be
    # plain; poll again until one is conditional, at most twice.
    for _ in range(2):
        assert newsboat(tmp_path, "reload", "print-unread") == "12 unread articles"
        if proxy.exchanges()[-1].conditional:
            break
    exchanges = proxy.exchanges()
    assert exchanges[0].status == 200 and exchanges[-1].conditional, exchanges
    assert exchanges[-1].status == 304
    assert_answers_fit(exchanges)
    assert newsboat_titles(tmp_path, url) == site.titles[feed]  # a 304 kept every item


# sfeed: sfeed_update fetches with its shell function fetch(); the default sends no
# validators, and the README's "Caching, incremental data updates and bandwidth-saving"
# section overrides it with curl's ETag and -z options, which send both.

SFEED_CACHING_FETCH = """
fetch() {
	etag="$HOME/.sfeed/etags/$(basename "$3")"
	curl \\
		-L --max-redirs 0 -H "User-Agent:" -f -s -m 15 \\
		--compressed \\
		--etag-save "${etag}" --etag-compare "${etag}" \\
		-z "${etag}" \\
		"$2" 2>/dev/null
}
"""


def sfeed_titles(tmp_path: Path) -> list[str]:
    """Titles from the TSV file sfeed_update keeps for the feed (title is field 2)."""
    lines = (tmp_path / "feeds" / "feeder").read_text(encoding="utf-8").splitlines()
    return sorted(line.split("\t")[1] for line in lines)


@needs(SFEED_UPDATE, CURL)
@pytest.mark.parametrize("fetch", ["default", "caching"])
@pytest.mark.parametrize("feed", FEEDS)
def test_sfeed_gets_every_item_then_304(site: Site, proxy: Proxy, tmp_path: Path, feed: str,
                                        fetch: str) -> None:
    assert SFEED_UPDATE is not None
    (tmp_path / ".sfeed" / "etags").mkdir(parents=True)
    config = tmp_path / "sfeedrc"
    config.write_text(
        f"sfeedpath={shlex.quote(str(tmp_path / 'feeds'))}\n"
        + (SFEED_CACHING_FETCH if fetch == "caching" else "")
        + f"feeds() {{\n\tfeed feeder {shlex.quote(proxy.url + feed)}\n}}\n",
        encoding="utf-8")
    for _ in range(2):
        done = subprocess.run([SFEED_UPDATE, str(config)], capture_output=True, text=True,
                              timeout=TIMEOUT, env={**os.environ, "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        assert sfeed_titles(tmp_path) == site.titles[feed]  # after a 304 too
    first, second = proxy.exchanges()
    assert first.status == 200
    # The default fetch is plain curl: sfeed then downloads the whole feed every time.
    assert second.conditional == (fetch == "caching"), second
    assert_answers_fit([first, second])


# rsstail: sends no validators. Each poll is a HEAD request; it compares the Last-Modified
# header with the previous poll's and GETs the feed only when it changed (libmrss's
# mrss_get_last_modified, which looks for "Last-Modified:" case-sensitively).

class Refetched(AssertionError):
    """rsstail downloaded the feed again though it had not changed."""


def rsstail_polls(proxy: Proxy, feed: str) -> list[list[Exchange]]:
    """rsstail's first two polls of *feed*, at its shortest interval (one second)."""
    assert RSSTAIL is not None
    process = subprocess.Popen([RSSTAIL, "-u", proxy.url + feed, "-i", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # A poll starts with its HEAD, and rsstail asks one thing at a time: once the third
        # poll's HEAD is in, the first two are complete.
        wait_for(lambda: sum(e.method == "HEAD" for e in proxy.exchanges()) >= 3, timeout=15)
    finally:
        process.terminate()
        process.wait(timeout=5)
    polls: list[list[Exchange]] = []
    for exchange in proxy.exchanges():
        if exchange.method == "HEAD":
            polls.append([])
        polls[-1].append(exchange)
    return polls[:2]


def assert_second_poll_only_asks(polls: list[list[Exchange]]) -> None:
    first, second = polls
    assert [(e.method, e.status) for e in first] == [("HEAD", 200), ("GET", 200)], first
    assert not any(e.conditional for e in first + second)
    if [e.method for e in second] != ["HEAD"]:
        raise Refetched(f"second poll {[(e.method, e.status) for e in second]}; "
                        f"header names sent: {second[0].response_names}")


@needs(RSSTAIL)
@pytest.mark.parametrize("feed", FEEDS)
def test_rsstail_gets_every_item(site: Site, proxy: Proxy, feed: str) -> None:
    assert RSSTAIL is not None
    done = subprocess.run([RSSTAIL, "-1", "-u", proxy.url + feed], capture_output=True,
                          text=True, encoding="utf-8", timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    titles = [line.removeprefix("Title: ") for line in done.stdout.splitlines()
              if line.startswith("Title: ")]
    assert sorted(titles) == site.titles[feed]


@needs(RSSTAIL)
def test_rsstail_second_poll_does_not_download_an_unchanged_feed(proxy: Proxy) -> None:
    polls = rsstail_polls(proxy, "rss.xml")
    assert_second_poll_only_asks(polls)
    assert {"Last-Modified", "ETag"} <= set(polls[0][0].response_names)
