"""What HTTP requests ask for and what responses say: content types, encodings, validators.

Pure functions of header values, kept apart from the server so they are easy to test and
so the server module stays about serving.
"""

from __future__ import annotations

import mimetypes
import os
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import lru_cache

_UTF8 = "; charset=utf-8"
_BY_NAME = {
    "rss.xml": "application/rss+xml" + _UTF8,
    "atom.xml": "application/atom+xml" + _UTF8,
    "feed.json": "application/feed+json" + _UTF8,
}
_BY_SUFFIX = {
    ".html": "text/html" + _UTF8, ".htm": "text/html" + _UTF8, ".opml": "text/x-opml" + _UTF8,
    ".css": "text/css" + _UTF8, ".xsl": "application/xslt+xml", ".xml": "application/xml" + _UTF8,
    ".json": "application/json", ".txt": "text/plain" + _UTF8, ".js": "text/javascript" + _UTF8,
    # Explicit so the answer does not depend on the machine's /etc/mime.types.
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml", ".avif": "image/avif",
    # The registered type (IANA); browsers take it as they take image/x-icon.
    ".ico": "image/vnd.microsoft.icon",
}
# RFC 5005 archive documents are Atom feeds named after their month (archive/2025-12.xml):
# their folder, not their name, says what they are.
_ARCHIVE = "archive/"
FEED_TYPES = frozenset({_BY_NAME["rss.xml"], _BY_NAME["atom.xml"]})
BROWSER_TYPE = b"application/xml" + _UTF8.encode()


def content_type(path: str) -> str:
    """The Content-Type for the file at *path* under the output folder, as its URL names it
    (charset included for text formats).

    >>> content_type("sources/kendal/rss.xml"), content_type("archive/2025-12.xml")
    ('application/rss+xml; charset=utf-8', 'application/atom+xml; charset=utf-8')
    """
    name = path.rpartition("/")[2]
    suffix = os.path.splitext(name)[1].lower()
    if suffix == ".xml" and path.startswith(_ARCHIVE) and "/" not in path[len(_ARCHIVE):]:
        return _BY_NAME["atom.xml"]
    return (_BY_NAME.get(name) or _BY_SUFFIX.get(suffix) or mimetypes.guess_type(name)[0]
            or "application/octet-stream")


def compressible(ctype: str) -> bool:
    # Images and archives are already compressed; gzip only helps text formats (and SVG).
    return ctype.startswith("text/") or any(k in ctype for k in ("xml", "json", "javascript"))


def bad_path(path: str) -> bool:
    """True for anything that is not a plain "/a/b/c" path of visible segments."""
    return (not path.startswith("/") or "/." in path or "//" in path or "\\" in path
            or not path.isprintable())


@lru_cache(maxsize=256)
def accepts_gzip(value: bytes) -> bool:
    """Parse Accept-Encoding; memoised because clients send only a handful of distinct values."""
    weights: dict[bytes, float] = {}
    for part in value.lower().split(b","):
        name, _, params = part.partition(b";")
        key, _, q = params.partition(b"=")
        try:
            weights[name.strip()] = float(q) if key.strip() == b"q" else 1.0
        except ValueError:
            weights[name.strip()] = 0.0
    return weights.get(b"gzip", weights.get(b"x-gzip", weights.get(b"*", 0.0))) > 0


@lru_cache(maxsize=256)
def http_date(value: bytes) -> float | None:
    """Seconds since the epoch for an HTTP date, or None when it cannot be parsed."""
    try:
        when = parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # HTTP dates are always UTC; asctime and "-0000" forms parse as naive datetimes.
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def etag_in(header: bytes, tag: bytes) -> bool:
    """If-None-Match uses weak comparison: ``W/"x"`` matches ``"x"``; ``*`` matches anything."""
    if header == tag:
        return True
    for part in header.split(b","):
        part = part.strip()
        if part == b"*" or part.removeprefix(b"W/") == tag:
            return True
    return False


def is_browser(accept: bytes) -> bool:
    # Browsers ask for text/html first; feed readers name the feed types or */*.
    return b"text/html" in accept and b"rss+xml" not in accept and b"atom+xml" not in accept
