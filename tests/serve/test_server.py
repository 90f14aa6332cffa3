"""Tests for feeder.serve.server: routing, types, caching, conditionals, gzip and path safety.

Most tests drive the ASGI app directly (fast, exact control of ``scope["path"]``); a few run a
real uvicorn server on a pre-bound socket to check the same behaviour through httptools, and
use raw http.client where httpx would normalise the hostile paths away.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.client
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeder.serve.connections import (
    LimitedProtocol,
    Limits,
    _Heads,
    canonical_head,
    protocol_class,
)
from feeder.serve.server import CHUNK, FeedServer, make_config
from tests.support import CHROMIUM_ACCEPT, Resp, call, call_async

MTIME = 1_700_000_000
RSS = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>' + (
    b"<item><title>Hello</title></item>" * 40) + b"</channel></rss>\n"
SECRET = b"TOP-SECRET-OUTSIDE-ROOT"


def _write(path: Path, data: bytes, mtime: float = MTIME) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def _replace(path: Path, data: bytes, mtime: float = MTIME) -> None:
    """Write the way the builder does: a hidden temp file renamed over the target."""
    tmp = path.parent / f".{path.name}.abcd.tmp"
    _write(tmp, data, mtime)
    os.replace(tmp, path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outdir").mkdir()
    (tmp_path / "outdir" / "secret.txt").write_bytes(SECRET)
    site = tmp_path / "site"
    files = {
        "rss.xml": RSS, "atom.xml": RSS.replace(b"rss", b"feed"), "feed.json": b'{"v": 1}',
        "index.html": b"<!doctype html><title>home</title>" * 20,
        "articles/hello.html": b"<p>hello</p>", "articles/index.html": b"<p>list</p>",
        "sources/blog/rss.xml": RSS, "feeds.opml": b"<opml/>", "style.css": b"p{}",
        "feed.xsl": b"<xsl/>", "sitemap.xml": b"<urlset/>", "data.json": b"[]",
        "img/photo.jpg": b"\xff\xd8" + bytes(600), "img/pic.png": b"\x89PNG" + bytes(600),
        "img/pic.webp": b"RIFF", "img/anim.gif": b"GIF89a", "blob.bin": b"\x00\x01",
        "100%.html": b"literal percent", "%41.html": b"percent-41", "A.html": b"letter A",
        ".rss.xml.k2j3.tmp": b"half written", ".hidden": SECRET, ".git/config": SECRET,
    }
    for name, data in files.items():
        _write(site / name, data)
    (site / "outside-link.txt").symlink_to(tmp_path / "secret.txt")
    (site / "outdir-link").symlink_to(tmp_path / "outdir", target_is_directory=True)
    (site / "inside-link.xml").symlink_to(site / "rss.xml")
    return site


@pytest.fixture
def app(root: Path) -> FeedServer:
    return FeedServer(root, extra_routes={"/healthz": lambda: (200, "text/plain", b"ok\n")})


# --- routing and content types ------------------------------------------------------------

@pytest.mark.parametrize(("path", "ctype"), [
    ("/rss.xml", "application/rss+xml; charset=utf-8"),
    ("/atom.xml", "application/atom+xml; charset=utf-8"),
    ("/feed.json", "application/feed+json; charset=utf-8"),
    ("/sources/blog/rss.xml", "application/rss+xml; charset=utf-8"),
    ("/", "text/html; charset=utf-8"),
    ("/articles/hello.html", "text/html; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ("/style.css", "text/css; charset=utf-8"),
    ("/feed.xsl", "application/xslt+xml"),
    ("/sitemap.xml", "application/xml; charset=utf-8"),
    ("/data.json", "application/json"),
    ("/img/photo.jpg", "image/jpeg"),
    ("/img/pic.png", "image/png"),
    ("/img/pic.webp", "image/webp"),
    ("/img/anim.gif", "image/gif"),
    ("/blob.bin", "application/octet-stream"),
])
def test_content_types(app: FeedServer, path: str, ctype: str) -> None:
    assert call(app, path).headers["content-type"] == ctype


@pytest.mark.parametrize(("path", "accept", "ctype"), [
    ("/rss.xml", CHROMIUM_ACCEPT, "application/xml; charset=utf-8"),
    ("/atom.xml", CHROMIUM_ACCEPT, "application/xml; charset=utf-8"),
    ("/rss.xml", "application/rss+xml, application/xml;q=0.9, */*;q=0.8",
     "application/rss+xml; charset=utf-8"),
    ("/atom.xml", "*/*", "application/atom+xml; charset=utf-8"),
    ("/feed.json", CHROMIUM_ACCEPT, "application/feed+json; charset=utf-8"),
])
def test_browsers_get_feeds_as_xml_readers_as_feeds(app: FeedServer, path: str, accept: str,
                                                    ctype: str) -> None:
    resp = call(app, path, headers={"Accept": accept})
    assert resp.headers["content-type"] == ctype


def test_get_returns_file_with_standard_headers(app: FeedServer, root: Path) -> None:
    resp = call(app, "/rss.xml")
    assert resp.status == 200
    assert resp.body == (root / "rss.xml").read_bytes()
    h = resp.headers
    assert h["content-length"] == str(len(RSS))
    assert h["etag"].startswith('"') and h["etag"].endswith('"') and len(h["etag"]) == 18
    assert h["last-modified"] == formatdate(MTIME, usegmt=True)
    assert h["cache-control"] == "public, max-age=60"
    assert h["vary"] == "accept-encoding, accept"  # feeds also vary by Accept (browsers)
    assert h["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in h


def test_index_routes(app: FeedServer, root: Path) -> None:
    assert call(app, "/").body == (root / "index.html").read_bytes()
    assert call(app, "/articles/").body == b"<p>list</p>"
    assert call(app, "/sources/blog/").status == 404  # folder without index.html
    assert call(app, "/articles").status == 404  # folder without trailing slash
    assert call(app, "/rss.xml/").status == 404


def test_unknown_is_404_text(app: FeedServer) -> None:
    resp = call(app, "/nope.xml")
    assert resp.status == 404
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert resp.body == b"Not Found\n"


def test_custom_cache_control(root: Path) -> None:
    app = FeedServer(root, cache_control="no-cache")
    assert call(app, "/rss.xml").headers["cache-control"] == "no-cache"


# --- methods -------------------------------------------------------------------------------

def test_head_has_headers_but_no_body(app: FeedServer) -> None:
    get, head = call(app, "/rss.xml"), call(app, "/rss.xml", "HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers == get.headers
    gz = call(app, "/rss.xml", "HEAD", {"Accept-Encoding": "gzip"})
    assert gz.body == b"" and gz.headers["content-encoding"] == "gzip"
    assert call(app, "/missing", "HEAD").body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"])
def test_other_methods_405(app: FeedServer, method: str) -> None:
    for path in ("/rss.xml", "/missing", "/healthz"):
        resp = call(app, path, method)
        assert resp.status == 405
        assert resp.headers["allow"] == "GET, HEAD"


# --- conditional requests ------------------------------------------------------------------

def _assert_304(resp: Resp, etag: str) -> None:
    assert resp.status == 304 and resp.body == b""
    assert resp.headers["etag"] == etag
    assert resp.headers["cache-control"] == "public, max-age=60"
    assert resp.headers["last-modified"] == formatdate(MTIME, usegmt=True)


def test_if_none_match(app: FeedServer) -> None:
    etag = call(app, "/rss.xml").headers["etag"]
    _assert_304(call(app, "/rss.xml", headers={"If-None-Match": etag}), etag)
    _assert_304(call(app, "/rss.xml", headers={"If-None-Match": f'"x", W/{etag} '}), etag)
    _assert_304(call(app, "/rss.xml", headers={"If-None-Match": "*"}), etag)
    assert call(app, "/rss.xml", headers={"If-None-Match": '"other"'}).status == 200
    assert call(app, "/rss.xml", headers={"If-None-Match": etag[1:-1]}).status == 200
    # The If-None-Match answer must not depend on If-Modified-Since.
    stale = {"If-None-Match": '"other"', "If-Modified-Since": formatdate(MTIME, usegmt=True)}
    assert call(app, "/rss.xml", headers=stale).status == 200


def test_if_modified_since(app: FeedServer, root: Path) -> None:
    etag = call(app, "/rss.xml").headers["etag"]
    for stamp in (MTIME, MTIME + 3600):
        ims = {"If-Modified-Since": formatdate(stamp, usegmt=True)}
        _assert_304(call(app, "/rss.xml", headers=ims), etag)
    older = {"If-Modified-Since": formatdate(MTIME - 1, usegmt=True)}
    assert call(app, "/rss.xml", headers=older).status == 200
    for junk in ("yesterday", "", "Mon, 99 Foo 2024 25:61:61 GMT"):
        assert call(app, "/rss.xml", headers={"If-Modified-Since": junk}).status == 200


def test_if_modified_since_zoneless_dates_are_utc(
        app: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "EST+5")  # a naive parse would shift these dates by five hours
    time.tzset()
    try:
        for stamp, status in (("22:13:20", 304), ("22:13:19", 200)):
            for date in (f"Tue Nov 14 {stamp} 2023", f"Tue, 14 Nov 2023 {stamp} -0000"):
                resp = call(app, "/rss.xml", headers={"If-Modified-Since": date})
                assert resp.status == status, date
    finally:
        monkeypatch.undo()
        time.tzset()


def test_if_modified_since_compares_whole_seconds(app: FeedServer, root: Path) -> None:
    os.utime(root / "atom.xml", ns=(MTIME * 10**9 + 700_000_000,) * 2)
    ims = {"If-Modified-Since": formatdate(MTIME, usegmt=True)}
    assert call(app, "/atom.xml", headers=ims).status == 304


# --- gzip ----------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br", "br;q=1, GZIP;q=0.5", "*"])
def test_gzip_when_accepted(app: FeedServer, accept: str) -> None:
    plain = call(app, "/rss.xml")
    resp = call(app, "/rss.xml", headers={"Accept-Encoding": accept})
    assert resp.headers["content-encoding"] == "gzip"
    assert gzip.decompress(resp.body) == RSS
    assert resp.headers["content-length"] == str(len(resp.body)) and len(resp.body) < len(RSS)
    assert resp.headers["etag"] == plain.headers["etag"][:-1] + '-gz"'
    assert "accept-encoding" in resp.headers["vary"]


@pytest.mark.parametrize("accept", ["gzip;q=0", "br, deflate", "gzip;q=0, *", "identity", ""])
def test_no_gzip_when_refused(app: FeedServer, accept: str) -> None:
    resp = call(app, "/rss.xml", headers={"Accept-Encoding": accept})
    assert "content-encoding" not in resp.headers and resp.body == RSS


@pytest.mark.parametrize("path", ["/img/photo.jpg", "/img/pic.png", "/feed.json"])
def test_no_gzip_for_images_or_tiny_bodies(app: FeedServer, path: str) -> None:
    resp = call(app, path, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in resp.headers
    assert resp.headers["vary"] == "accept-encoding"


def test_304_for_gzip_variant_and_either_tag(app: FeedServer) -> None:
    gz = {"Accept-Encoding": "gzip"}
    tag = call(app, "/rss.xml").headers["etag"]
    gz_tag = call(app, "/rss.xml", headers=gz).headers["etag"]
    assert call(app, "/rss.xml", headers={**gz, "If-None-Match": gz_tag}).status == 304
    # A client holding the other variant has current content too: 304 naming its own tag.
    resp = call(app, "/rss.xml", headers={**gz, "If-None-Match": tag})
    assert resp.status == 304 and resp.headers["etag"] == tag
    resp = call(app, "/rss.xml", headers={"If-None-Match": gz_tag})
    assert resp.status == 304 and resp.headers["etag"] == gz_tag


# --- cache ---------------------------------------------------------------------------------

def _count_builds(app: FeedServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = app._build

    def counting(fs_path: str) -> Any:
        calls.append(os.path.basename(fs_path))
        return original(fs_path)

    monkeypatch.setattr(app, "_build", counting)
    return calls


def test_cache_reused_until_atomic_replace(
        app: FeedServer, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = _count_builds(app, monkeypatch)
    first = call(app, "/rss.xml")
    for _ in range(3):
        assert call(app, "/rss.xml").headers["etag"] == first.headers["etag"]
    assert builds == ["rss.xml"]
    new = RSS.replace(b"Hello", b"World")
    assert len(new) == len(RSS)
    _replace(root / "rss.xml", new)  # same size, same mtime: only the inode differs
    second = call(app, "/rss.xml")
    assert second.body == new and second.headers["etag"] != first.headers["etag"]
    assert call(app, "/rss.xml", headers={"If-None-Match": first.headers["etag"]}).status == 200
    assert gzip.decompress(call(app, "/rss.xml", headers={"Accept-Encoding": "gzip"}).body) == new
    assert builds == ["rss.xml", "rss.xml"]


def test_mtime_change_updates_last_modified(app: FeedServer, root: Path) -> None:
    call(app, "/rss.xml")
    _replace(root / "rss.xml", b"<rss/>", MTIME + 60)
    resp = call(app, "/rss.xml")
    assert resp.body == b"<rss/>"
    assert resp.headers["last-modified"] == formatdate(MTIME + 60, usegmt=True)


def test_deleted_file_is_404(app: FeedServer, root: Path) -> None:
    assert call(app, "/atom.xml").status == 200
    (root / "atom.xml").unlink()
    assert call(app, "/atom.xml").status == 404


def _count_stats(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    calls: list[str] = []
    original = os.stat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.path.basename(path) == name:
            calls.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    return calls


def test_one_stat_per_path_per_loop_pass(
        app: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    etag = call(app, "/rss.xml").headers["etag"]
    stats = _count_stats(monkeypatch, "rss.xml")

    async def burst() -> list[Resp]:
        # gather starts every request in the same pass, as a busy server's poll does.
        return await asyncio.gather(*(call_async(app, "/rss.xml", headers={"If-None-Match": etag})
                                      for _ in range(20)))

    assert {r.status for r in asyncio.run(burst())} == {304}
    assert len(stats) == 1


def test_replacement_is_seen_by_the_next_loop_pass(app: FeedServer, root: Path) -> None:
    async def around_replace() -> tuple[Resp, Resp, Resp]:
        first = await call_async(app, "/rss.xml")
        _replace(root / "rss.xml", b"<rss>new</rss>")
        same_pass = await call_async(app, "/rss.xml")
        await asyncio.sleep(0)  # a request read after the replace is handled in a later pass
        return first, same_pass, await call_async(app, "/rss.xml")

    call(app, "/rss.xml")  # cached, so the first request below is answered in one pass
    first, same_pass, later = asyncio.run(around_replace())
    assert first.body == same_pass.body == RSS
    assert later.body == b"<rss>new</rss>"


def test_checks_left_by_a_stopped_loop_are_not_reused(app: FeedServer, root: Path) -> None:
    async def stop_then_get() -> Resp:
        asyncio.get_running_loop().stop()  # the pass ends the loop: nothing empties the set
        return await call_async(app, "/rss.xml")

    call(app, "/rss.xml")
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(stop_then_get()).body == RSS
    finally:
        loop.close()
    _replace(root / "rss.xml", b"<rss>new</rss>")
    assert call(app, "/rss.xml").body == b"<rss>new</rss>"


def test_lru_bound(app: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    app.max_cache_entries = 2
    builds = _count_builds(app, monkeypatch)
    for path in ("/rss.xml", "/atom.xml", "/rss.xml", "/feed.json", "/atom.xml", "/rss.xml"):
        assert call(app, path).status == 200
    # rss stays hot, atom is evicted by feed.json, then rss is evicted by atom's return.
    assert builds == ["rss.xml", "atom.xml", "feed.json", "atom.xml", "rss.xml"]


def test_concurrent_misses_share_one_build(
        app: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = _count_builds(app, monkeypatch)

    async def many() -> list[Resp]:
        return await asyncio.gather(*(call_async(app, "/rss.xml") for _ in range(20)))

    assert {r.body for r in asyncio.run(many())} == {RSS}
    assert builds == ["rss.xml"]


def test_large_file_streamed_uncached(
        app: FeedServer, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app.max_cached_file_size = 1000
    builds = _count_builds(app, monkeypatch)
    data = bytes(range(256)) * 20
    _write(root / "big.xml", data)
    resp = call(app, "/big.xml", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200 and resp.body == data
    assert resp.headers["content-length"] == str(len(data))
    assert "content-encoding" not in resp.headers
    etag = resp.headers["etag"]
    assert call(app, "/big.xml", headers={"If-None-Match": etag}).status == 304
    ims = {"If-Modified-Since": formatdate(MTIME, usegmt=True)}
    assert call(app, "/big.xml", headers=ims).status == 304
    head = call(app, "/big.xml", "HEAD")
    assert head.body == b"" and head.headers["content-length"] == str(len(data))
    _replace(root / "big.xml", data[::-1])
    assert call(app, "/big.xml", headers={"If-None-Match": etag}).body == data[::-1]
    assert builds == []


def test_file_vanishing_between_stat_and_read_is_404(
        app: FeedServer, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = app._inside

    def vanish(fs_path: str) -> str | None:
        os.unlink(fs_path)
        return original(fs_path)

    monkeypatch.setattr(app, "_inside", vanish)
    assert call(app, "/rss.xml").status == 404
    _write(root / "big.xml", bytes(3000))
    app.max_cached_file_size = 1000
    assert call(app, "/big.xml").status == 404


def test_fifo_is_not_served(app: FeedServer, root: Path) -> None:
    os.mkfifo(root / "pipe.xml")
    assert call(app, "/pipe.xml").status == 404


# --- path safety ---------------------------------------------------------------------------

# Paths as they appear in scope["path"], i.e. after the server's single percent-decoding.
HOSTILE = [
    "/../secret.txt", "/articles/../../secret.txt", "/..", "/./rss.xml", "/articles/./hello.html",
    "/..\\secret.txt", "\\..\\secret.txt", "/articles\\..\\rss.xml", "//etc/passwd",
    "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/%252e%252e/%252e%252e/secret.txt",
    "etc/passwd", "", "../secret.txt", "/etc/passwd", "/rss.xml\x00.png", "/\x00",
    "/rss.xml\n", "/.hidden", "/.git/config", "/.rss.xml.k2j3.tmp", "/articles/.hidden",
    "/outside-link.txt", "/outdir-link/secret.txt", "/" + str(Path("/etc/passwd")),
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_asgi(app: FeedServer, path: str) -> None:
    resp = call(app, path)
    assert resp.status in (400, 404)
    assert SECRET not in resp.body and b"half written" not in resp.body


def test_percent_is_literal_never_decoded_twice(app: FeedServer) -> None:
    assert call(app, "/100%.html").body == b"literal percent"
    assert call(app, "/%41.html").body == b"percent-41"  # not "A.html"


def test_symlink_inside_root_is_served(app: FeedServer) -> None:
    resp = call(app, "/inside-link.xml")
    assert resp.status == 200 and resp.body == RSS


def test_symlink_swapped_to_outside_is_refused(app: FeedServer, root: Path) -> None:
    link = root / "swap.txt"
    link.symlink_to(root / "rss.xml")
    assert call(app, "/swap.txt").body == RSS
    link.unlink()
    link.symlink_to(root.parent / "secret.txt")
    assert call(app, "/swap.txt").status == 404


def test_long_path_414(app: FeedServer) -> None:
    assert call(app, "/" + "a" * 2000).status == 414
    assert call(app, "/" + "a" * 1000).status == 404


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(
    ["..", ".", "", "/", "\\", "%2e", "%", "secret.txt", "outdir", "site", "rss.xml",
     "outside-link.txt", "outdir-link", "\x00", ".hidden"]), max_size=8))
def test_no_path_escapes_root(app: FeedServer, parts: list[str]) -> None:
    resp = call(app, "/" + "/".join(parts))
    assert resp.status in (200, 404, 414)
    assert SECRET not in resp.body


# --- extra routes, lifespan, errors, config -------------------------------------------------

def test_extra_routes_are_dynamic(root: Path) -> None:
    hits: list[int] = []

    def health() -> tuple[int, str, bytes]:
        hits.append(1)
        return (503 if len(hits) > 1 else 200), "text/plain; charset=utf-8", b"n=%d" % len(hits)

    app = FeedServer(root, extra_routes={"/healthz": health})
    first, second = call(app, "/healthz"), call(app, "/healthz", "HEAD")
    assert (first.status, first.body) == (200, b"n=1")
    assert (second.status, second.body) == (503, b"")
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["content-length"] == "3"
    assert call(app, "/healthz/").status == 404


def test_exception_becomes_500_and_is_logged(
        root: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> tuple[int, str, bytes]:
        raise RuntimeError("boom")

    app = FeedServer(root, extra_routes={"/metrics": broken})
    with caplog.at_level(logging.ERROR, logger="feeder.serve.server"):
        resp = call(app, "/metrics")
    assert resp.status == 500
    assert "boom" in caplog.text


def test_live_exception_becomes_500_and_is_logged(
        root: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Through the connections' quick path too: a failing route is uvicorn's path's 500."""
    def broken() -> tuple[int, str, bytes]:
        raise RuntimeError("boom")

    app = FeedServer(root, extra_routes={"/metrics": broken})
    with caplog.at_level(logging.ERROR, logger="feeder.serve.server"), serving(
            make_config(app, "127.0.0.1", 0)) as port:
        assert raw(port, "/metrics").status == 500
    assert "boom" in caplog.text


def test_lifespan_completes(app: FeedServer) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]


def test_websocket_is_refused(app: FeedServer) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app({"type": "websocket", "path": "/"}, receive, send))
    assert sent == [{"type": "websocket.close"}]


def test_make_config(app: FeedServer) -> None:
    config = make_config(app, "127.0.0.1", 8123)
    assert (config.host, config.port, config.app) == ("127.0.0.1", 8123, app)
    assert issubclass(config.http, LimitedProtocol) and config.loop == "uvloop"
    assert config.lifespan == "off" and config.access_log is False
    assert config.server_header is False and config.log_level == "warning"
    assert make_config(app, "::1", 1, log_level="info").log_level == "info"


# --- through a real uvicorn server ---------------------------------------------------------

@contextlib.contextmanager
def serving(config: uvicorn.Config) -> Iterator[int]:
    """Serve with uvicorn in a thread; the socket is listening before the thread starts,
    so requests simply queue until the server accepts them (no waiting or sleeping needed)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        assert not thread.is_alive()


@pytest.fixture
def live(app: FeedServer) -> Iterator[int]:
    with serving(make_config(app, "127.0.0.1", 0)) as port:
        yield port


def raw(port: int, path: str, method: str = "GET",
        headers: dict[str, str] | None = None) -> Resp:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        hdrs = {k.lower(): v for k, v in response.getheaders()}
        return Resp(response.status, hdrs, response.read())
    finally:
        conn.close()


def test_live_basic_flow(live: int, root: Path) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{live}") as client:
        resp = client.get("/rss.xml", headers={"Accept-Encoding": "gzip"})
        assert resp.status_code == 200 and resp.content == RSS
        assert resp.headers["content-encoding"] == "gzip"
        assert resp.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert "server" not in resp.headers
        again = client.get("/rss.xml", headers={"If-None-Match": resp.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert client.get("/feed.json").headers["content-type"].startswith("application/feed")
        post = client.post("/rss.xml", content=b"x")
        assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
        assert client.get("/healthz").content == b"ok\n"
        assert client.get("/" + "a" * 2000).status_code == 414
        _replace(root / "rss.xml", b"<rss>new</rss>")
        assert client.get("/rss.xml").content == b"<rss>new</rss>"


def test_live_head(live: int) -> None:
    resp = raw(live, "/rss.xml", "HEAD")
    assert resp.status == 200 and resp.body == b""
    assert resp.headers["content-length"] == str(len(RSS))


LIVE_HOSTILE = [
    "/../secret.txt", "/../../../../etc/passwd", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
    "/..%2fsecret.txt", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/%252e%252e/secret.txt",
    "/%252e%252e%252fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt", "//etc/passwd",
    "/%2f%2fetc/passwd", "/%2fetc/passwd", "/.hidden", "/%2ehidden", "/.rss.xml.k2j3.tmp",
    "/outside-link.txt", "/outdir-link/secret.txt", "/rss.xml%00.png", "/articles/../../secret.txt",
]


def test_live_hostile_paths(live: int) -> None:
    # One server for the whole list: uvicorn takes a few ticks to stop, so this keeps it quick.
    for path in LIVE_HOSTILE:
        resp = raw(live, path)
        assert resp.status in (400, 404), path
        assert SECRET not in resp.body and b"half written" not in resp.body, path


def test_live_percent_literal(live: int) -> None:
    assert raw(live, "/100%25.html").body == b"literal percent"
    assert raw(live, "/%2541.html").body == b"percent-41"
    assert raw(live, "/articles%2fhello.html").body == b"<p>hello</p>"  # decoded once: inside


def test_live_streams_big_file(live: int, root: Path) -> None:
    data = os.urandom(1024) * (3 * CHUNK // 1024)  # > 2 MB and an exact multiple of CHUNK
    _write(root / "big.bin", data)
    with httpx.Client(base_url=f"http://127.0.0.1:{live}") as client:
        resp = client.get("/big.bin")
        assert resp.status_code == 200 and resp.content == data
        assert resp.headers["content-length"] == str(len(data))
        again = client.get("/big.bin", headers={"If-None-Match": resp.headers["etag"]})
        assert again.status_code == 304


# Answered at once: the connections' quick path --------------------------------------------

class Counting(FeedServer):
    """A FeedServer that counts the requests reaching it as an ASGI application."""

    asgi_calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.asgi_calls += 1
        await super().__call__(scope, receive, send)


def exchange(port: int, requests: list[bytes]) -> list[bytes]:
    """Send *requests* in one write on one connection (pipelined); the raw responses, each
    read to its end by its Content-Length (none: a 304, or a HEAD's empty body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"".join(requests))
        data = b""
        answers: list[bytes] = []
        for request in requests:
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536) or pytest.fail(f"closed after {answers}")
            end = data.index(b"\r\n\r\n") + 4
            length = re.search(rb"\r\nContent-Length: (\d+)\r\n", data[:end])
            size = int(length[1]) if length and not request.startswith(b"HEAD") else 0
            while len(data) < end + size:
                data += sock.recv(65536) or pytest.fail("closed mid-body")
            answers.append(data[:end + size])
            data = data[end + size:]
        return answers


def request(method: str, path: str, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", *(
        f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def undated(answer: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*", b"", answer, count=1)


def test_the_quick_path_sends_what_the_asgi_path_sends(root: Path) -> None:
    routes = {"/healthz": lambda: (200, "text/plain", b"ok\n")}
    quick, asgi = Counting(root, extra_routes=routes), Counting(root, extra_routes=routes)
    cases = [
        request("GET", "/rss.xml"), request("GET", "/rss.xml", Accept_Encoding="gzip"),
        request("HEAD", "/rss.xml", Accept_Encoding="gzip"),
        request("GET", "/rss.xml", Accept=CHROMIUM_ACCEPT),
        request("GET", "/rss.xml", If_Modified_Since=formatdate(MTIME, usegmt=True)),
        request("GET", "/rss.xml", If_Modified_Since=formatdate(MTIME - 1, usegmt=True)),
        request("GET", "/", Accept_Encoding="gzip"), request("GET", "/articles/hello.html"),
        request("GET", "/healthz"), request("GET", "/missing.xml"), request("GET", "/.hidden"),
        request("GET", "/" + "a" * 2000), request("GET", "/rss.xml?since=1"),
    ]
    config = make_config(quick, "127.0.0.1", 0)
    plain = make_config(asgi, "127.0.0.1", 0)
    plain.http = protocol_class(Limits())  # no quick answers
    with serving(config) as fast_port, serving(plain) as slow_port:
        for port in (fast_port, slow_port):  # the first read of each file is the ASGI path's
            first = exchange(port, [request("GET", "/rss.xml", Accept_Encoding="gzip"),
                                    request("GET", "/"), request("GET", "/articles/hello.html")])
        gzip_etag = re.search(rb'ETag: ("[^"]+")', first[0])[1].decode()  # type: ignore[index]
        etag = gzip_etag.removesuffix('-gz"') + '"'
        cases += [request("GET", "/rss.xml", If_None_Match=etag),
                  request("GET", "/rss.xml", If_None_Match=gzip_etag, Accept_Encoding="gzip"),
                  request("HEAD", "/rss.xml", If_None_Match=f'"x", {etag}')]
        before = quick.asgi_calls, asgi.asgi_calls
        fast, slow = exchange(fast_port, cases), exchange(slow_port, cases)
    assert [undated(a) for a in fast] == [undated(a) for a in slow]
    statuses = [int(a[9:12]) for a in fast]
    assert statuses.count(304) == 4 and {200, 404, 414} <= set(statuses)
    assert all(a.startswith(b"HTTP/1.1 ") and b"\r\nDate: " in a for a in fast)
    # Every case reached the application of the server without quick answers, and none
    # reached the other's: all were answered from memory.
    assert asgi.asgi_calls - before[1] == len(cases) and quick.asgi_calls == before[0]


def test_pipelined_requests_are_answered_in_order(app: FeedServer, live: int,
                                                  root: Path) -> None:
    exchange(live, [request("GET", "/rss.xml"), request("GET", "/feed.json")])  # now in memory
    _write(root / "late.xml", b"<rss>late</rss>")  # not read yet: behind it, no quick answers
    answers = exchange(live, [request("GET", "/rss.xml"), request("GET", "/late.xml"),
                              request("GET", "/rss.xml"), request("HEAD", "/feed.json"),
                              request("GET", "/feed.json")])
    assert [a.split(b"\r\n\r\n", 1)[1] for a in answers] == [
        RSS, b"<rss>late</rss>", RSS, b"", b'{"v": 1}']


def test_a_replaced_file_is_never_answered_from_memory(app: FeedServer, live: int,
                                                       root: Path) -> None:
    assert exchange(live, [request("GET", "/rss.xml")])[0].endswith(RSS)
    _replace(root / "rss.xml", b"<rss>new</rss>")
    assert exchange(live, [request("GET", "/rss.xml")])[0].endswith(b"\r\n\r\n<rss>new</rss>")
    (root / "rss.xml").unlink()
    assert exchange(live, [request("GET", "/rss.xml")])[0].startswith(b"HTTP/1.1 404 ")


def test_build_refuses_fifo_without_blocking(app: FeedServer, root: Path) -> None:
    os.mkfifo(root / "late.xml")  # as if swapped in after the request's stat
    assert app._build(str(root / "late.xml")) is None


# Header names on the wire -----------------------------------------------------------------

def test_response_heads_spell_header_names_canonically() -> None:
    head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\netag: \"a-b\"\r\n"
            b"last-modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nx-content-type-options: nosniff"
            b"\r\n\r\n")
    assert canonical_head(head) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: \"a-b\"\r\n"
        b"Last-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nX-Content-Type-Options: nosniff"
        b"\r\n\r\n")


def test_only_the_final_head_is_respelt_never_a_body() -> None:
    written: list[bytes] = []
    transport = SimpleNamespace(write=written.append, is_closing=lambda: False)
    heads = _Heads(transport)  # type: ignore[arg-type]
    heads.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    heads.write(b"HTTP/1.1 200 OK\r\ncontent-length: 30\r\n\r\n")
    heads.write(b"HTTP/1.1 200 OK\r\nlower: case\r\n\r\n")  # a body that looks like a head
    assert written == [b"HTTP/1.1 100 Continue\r\n\r\n",
                       b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n",
                       b"HTTP/1.1 200 OK\r\nlower: case\r\n\r\n"]
    assert heads.is_closing() is False  # everything else is the transport's
