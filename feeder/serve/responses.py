"""The responses the server sends, built once per file version: 200 and 304, plain and
gzipped, each with its complete header list; picking one for a request is a few
comparisons.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate

from feeder.serve.headers import (
    BROWSER_TYPE,
    FEED_TYPES,
    accepts_gzip,
    content_type,
    etag_in,
    http_date,
    is_browser,
)

Headers = list[tuple[bytes, bytes]]
Route = Callable[[], tuple[int, str, bytes]]

_ERRORS = {404: b"Not Found\n", 405: b"Method Not Allowed\n", 414: b"URI Too Long\n",
           500: b"Internal Server Error\n"}

Response = tuple[int, Headers, bytes]
_AGE = re.compile(rb"((?:s-)?max-?age=)(\d+)")  # max-age and s-maxage


@dataclass(frozen=True, slots=True)
class Variant:
    etag: bytes
    ok: Response
    not_modified: Response


@dataclass(frozen=True, slots=True)
class Entry:
    key: tuple[int, int, int, int]
    mtime: int
    last_modified: bytes
    plain: Variant
    gzipped: Variant | None
    weight: int
    feed: bool = False  # RSS or Atom: browsers get it as application/xml (see for_browser)


def make_entry(st: os.stat_result, path: str, tag: str, body: bytes | None,
                cache_control: bytes, gz: bytes | None = None) -> Entry:
    """Build every header list once for the file at *path* (as its URL names it, under the
    output folder); *body* None means "stream it", so only sizes matter."""
    lm = formatdate(st.st_mtime_ns // 10**9, usegmt=True).encode()
    kind = content_type(path)
    ctype = kind.encode()
    feed = kind in FEED_TYPES
    vary = b"accept-encoding, accept" if feed else b"accept-encoding"
    tail = [(b"cache-control", cache_control), (b"vary", vary)]

    def variant(etag: bytes, data: bytes | None, size: int, extra: Headers) -> Variant:
        validators = [(b"etag", etag), (b"last-modified", lm)]
        ok = [(b"content-type", ctype), (b"content-length", str(size).encode()), *extra,
              *validators, *tail, (b"x-content-type-options", b"nosniff")]
        return Variant(etag, (200, ok, data or b""), (304, validators + tail, b""))

    plain = variant(f'"{tag}"'.encode(), body, st.st_size, [])
    zipped = None if gz is None else variant(
        f'"{tag}-gz"'.encode(), gz, len(gz), [(b"content-encoding", b"gzip")])
    weight = len(body or b"") + len(gz or b"")
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return Entry(key, st.st_mtime_ns // 10**9, lm, plain, zipped, weight, feed)


def for_browser(response: Response) -> Response:
    """*response* typed application/xml: Chromium shows the feed types as raw text and
    ignores their stylesheet, but styles application/xml with the feed's CSS."""
    status, headers, body = response
    return status, [(n, BROWSER_TYPE if n == b"content-type" else v) for n, v in headers], body


def error(status: int, extra: Headers | None = None) -> Response:
    body = _ERRORS[status]
    headers = [(b"content-type", b"text/plain; charset=utf-8"),
               (b"content-length", str(len(body)).encode()), *(extra or [])]
    return status, headers, body


def dynamic(route: Route) -> Response:
    status, ctype, body = route()
    headers = [(b"content-type", ctype.encode("latin-1")),
               (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
    return status, headers, body


def cap_age(cache_control: bytes, seconds: int) -> bytes:
    """*cache_control* with no age above *seconds* (``public, max-age=60`` capped at 20:
    ``public, max-age=20``); a value without an age is left as it is."""
    return _AGE.sub(lambda m: m[1] + str(min(int(m[2]), seconds)).encode(), cache_control)


def capped(response: Response, seconds: int) -> Response:
    """*response* with its Cache-Control ages capped at *seconds* (see ``cap_age``)."""
    status, headers, body = response
    return status, [(n, cap_age(v, seconds) if n == b"cache-control" else v)
                    for n, v in headers], body


def choose(entry: Entry, req: list[tuple[bytes, bytes]]) -> Response:
    """Pick the representation and apply conditionals, returning a prebuilt response."""
    inm = ims = ae = accept = None
    for name, value in req:
        if name == b"if-none-match":
            inm = value
        elif name == b"if-modified-since":
            ims = value
        elif name == b"accept-encoding":
            ae = value
        elif name == b"accept":
            accept = value
    gz = entry.gzipped
    chosen = gz if gz is not None and ae is not None and accepts_gzip(ae) else entry.plain
    if inm is not None:
        # Either variant's tag proves the client holds current content; answer with the
        # tag it matched so a cache updates the right stored response.
        for variant in (chosen, entry.plain, gz):
            if variant is not None and etag_in(inm, variant.etag):
                return variant.not_modified
    elif ims is not None and (ims == entry.last_modified or (
            (since := http_date(ims)) is not None and entry.mtime <= since)):
        return chosen.not_modified
    if entry.feed and accept is not None and is_browser(accept):
        return for_browser(chosen.ok)
    return chosen.ok

