"""WebSub pings: a stub hub on loopback that records, fails, refuses or hangs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from lxml import etree

from feeder.service.websub import Pinger, changed_feeds
from tests.support import ATOM, RunningService, wait_for


@dataclass
class Ping:
    content_type: str
    form: dict[str, list[str]]
    at: float


@dataclass
class Hub:
    """What the stub answers: 503 to the first *unavailable* requests, hang on the first
    *hang* ones (until the test ends), then *status*."""

    url: str = ""
    status: int = 204
    unavailable: int = 0
    hang: int = 0
    pings: list[Ping] = field(default_factory=list)
    # Set when a request is being held unanswered; set at teardown to let it end unanswered.
    hanging: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def urls(self) -> list[str]:
        with self.lock:
            return [url for p in self.pings for url in p.form.get("hub.url", [])]

    def answer(self, ping: Ping) -> int | None:
        with self.lock:
            self.pings.append(ping)
            if self.hang:
                self.hang -= 1
                return None
            if self.unavailable:
                self.unavailable -= 1
                return 503
            return self.status


def handler_for(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ping = Ping(self.headers.get("Content-Type", ""), parse_qs(body.decode()),
                        time.monotonic())
            status = hub.answer(ping)
            if status is None:
                hub.hanging.set()
                hub.release.wait(10)
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread


@pytest.fixture
def hub() -> Iterator[Hub]:
    state = Hub()
    server = Server(("127.0.0.1", 0), handler_for(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def make_pinger(hub: Hub) -> Iterator[Any]:
    made: list[Pinger] = []

    def make(**options: Any) -> Pinger:
        pinger = Pinger(hub.url, **{"backoff": 0.01, "timeout": 0.2, **options})
        made.append(pinger)
        return pinger

    yield make
    for pinger in made:
        pinger.stop(timeout=5)


def test_changed_feeds_are_the_feed_files_at_any_depth() -> None:
    written = ["index.html", "rss.xml", "articles/a.html", "sources/kpu/atom.xml",
               "feeds.opml", "sources/kpu/feed.json", "feed.json"]
    assert changed_feeds(written) == ["rss.xml", "sources/kpu/atom.xml",
                                      "sources/kpu/feed.json", "feed.json"]


def test_publish_posts_one_form_per_url(hub: Hub, make_pinger: Any,
                                        caplog: pytest.LogCaptureFixture) -> None:
    pinger = make_pinger()
    pinger.start()
    caplog.set_level(logging.INFO, logger="feeder.service.websub")
    pinger.publish(["http://x.test/rss.xml", "http://x.test/a b.json"])
    assert pinger.wait_idle(5)
    assert [p.content_type for p in hub.pings] == ["application/x-www-form-urlencoded"] * 2
    assert [p.form for p in hub.pings] == [
        {"hub.mode": ["publish"], "hub.url": ["http://x.test/rss.xml"]},
        {"hub.mode": ["publish"], "hub.url": ["http://x.test/a b.json"]}]
    assert (pinger.sent, pinger.failed) == (2, 0)
    assert caplog.text.count("websub: pinged") == 2


def test_unavailable_hub_is_retried_with_growing_backoff(
        hub: Hub, make_pinger: Any, caplog: pytest.LogCaptureFixture) -> None:
    hub.unavailable = 2
    pinger = make_pinger(backoff=0.05)
    pinger.start()
    pinger.publish(["http://x.test/rss.xml"])
    assert pinger.wait_idle(5)
    assert hub.urls() == ["http://x.test/rss.xml"] * 3
    first, second, third = (p.at for p in hub.pings)
    assert second - first >= 0.05 and third - second >= 0.1
    assert (pinger.sent, pinger.failed) == (1, 0)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "503" in warnings[0].getMessage()


def test_gives_up_after_the_last_attempt(hub: Hub, make_pinger: Any) -> None:
    hub.status = 500
    pinger = make_pinger(retries=3)
    pinger.start()
    pinger.publish(["http://x.test/rss.xml"])
    assert pinger.wait_idle(5)
    assert len(hub.pings) == 3 and (pinger.sent, pinger.failed) == (0, 1)


def test_refusal_is_not_retried(hub: Hub, make_pinger: Any,
                                caplog: pytest.LogCaptureFixture) -> None:
    hub.status = 400
    pinger = make_pinger()
    pinger.start()
    pinger.publish(["http://x.test/rss.xml"])
    assert pinger.wait_idle(5)
    assert len(hub.pings) == 1 and (pinger.sent, pinger.failed) == (0, 1)
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "400" in caplog.text


def test_hanging_hub_never_blocks_publish(hub: Hub, make_pinger: Any) -> None:
    hub.hang = 1
    pinger = make_pinger()
    pinger.start()
    pinger.publish(["http://x.test/rss.xml"])
    assert hub.hanging.wait(5)
    # The hub holds the first request unanswered (until teardown), yet publish returns.
    pinger.publish(["http://x.test/atom.xml"])
    assert not pinger.wait_idle(0)
    assert not hub.release.is_set()
    # The held ping times out and is retried; the next one goes out after it.
    assert pinger.wait_idle(5)
    assert hub.urls() == ["http://x.test/rss.xml", "http://x.test/rss.xml",
                          "http://x.test/atom.xml"]
    assert (pinger.sent, pinger.failed) == (2, 0)


def test_queued_duplicates_coalesce(hub: Hub, make_pinger: Any) -> None:
    pinger = make_pinger()
    pinger.publish(["http://x.test/rss.xml", "http://x.test/atom.xml", "http://x.test/rss.xml"])
    pinger.publish(["http://x.test/atom.xml"])
    pinger.start()
    assert pinger.wait_idle(5)
    assert hub.urls() == ["http://x.test/rss.xml", "http://x.test/atom.xml"]


def test_stop_interrupts_backoff_drops_the_queue_and_is_idempotent(
        hub: Hub, make_pinger: Any, caplog: pytest.LogCaptureFixture) -> None:
    hub.status = 503
    pinger = make_pinger(backoff=60.0)
    pinger.start()
    caplog.set_level(logging.INFO, logger="feeder.service.websub")
    pinger.publish(["http://x.test/rss.xml", "http://x.test/atom.xml"])
    wait_for(lambda: hub.pings, timeout=5)
    wait_for(lambda: "attempt 1/5" in caplog.text, timeout=5)  # now in its 60 s backoff
    pinger.stop(timeout=5)
    assert not [t for t in threading.enumerate() if t.name == "websub"]
    assert "dropping 1 unsent ping" in caplog.text
    assert "rss.xml not pinged" in caplog.text
    pinger.stop()
    pinger.publish(["http://x.test/feed.json"])  # ignored after stop
    assert pinger.wait_idle(0)
    assert len(hub.pings) == 1 and pinger.sent == 0


def test_stop_without_start_is_harmless() -> None:
    pinger = Pinger("http://127.0.0.1:9/")
    pinger.stop()
    pinger.stop()


@pytest.mark.slow
def test_service_pings_the_hub_for_each_changed_feed(tmp_path: Path, hub: Hub) -> None:
    service = RunningService(tmp_path)
    with service.config.open("a", encoding="utf-8") as config:
        config.write(f'[websub]\nhub = "{hub.url}"\n')
    try:
        service.start()
        # With site.base_url unset, the feeds' URLs are where the service answers.
        feeds = [service.url + name for name in ("rss.xml", "atom.xml", "feed.json")]
        wait_for(lambda: set(feeds) <= set(hub.urls()))  # the first build wrote them
        before = len(hub.pings)
        service.drop_file("baru.txt", "Berita Baru\n\nIsi berita.\n")
        wait_for(lambda: set(feeds) <= set(hub.urls()[before:]))
        assert all(p.form["hub.mode"] == ["publish"] for p in hub.pings)
        _, _, rss = service.get("/rss.xml")
        hubs = etree.fromstring(rss).findall(f"channel/{ATOM}link[@rel='hub']")
        assert [link.get("href") for link in hubs] == [hub.url]
        _, _, atom = service.get("/atom.xml")
        hubs = etree.fromstring(atom).findall(f"{ATOM}link[@rel='hub']")
        assert [link.get("href") for link in hubs] == [hub.url]
        assert service.stop() == 0
        assert "websub: pinged" in service.log()
    finally:
        service.kill()
