"""Readers for generated feeds: parse back with feedparser and lxml, never compare strings."""

from __future__ import annotations

import html
import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"


def read_feed(path: Path) -> Any:
    """feedparser's view of a feed file, asserting it parsed without complaint."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def check_rss(path: Path, base_url: str) -> list[etree._Element]:
    """RSS 2.0 rules a validator checks; returns the items."""
    channel = etree.fromstring(path.read_bytes()).find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    assert channel.findtext("link") == base_url
    self_links = [e for e in channel.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert [e.get("href") for e in self_links] == [base_url + path.name]
    items = channel.findall("item")
    guids = [i.findtext("guid") for i in items]
    assert len(set(guids)) == len(guids)
    for item in items:
        assert item.findtext("title") and _same_site(item.findtext("link", ""), base_url)
        assert item.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
        assert parsedate_to_datetime(item.findtext("pubDate", "")).tzinfo is not None
    return items


def check_atom(path: Path, base_url: str) -> list[etree._Element]:
    """RFC 4287 rules a validator checks; returns the entries."""
    from datetime import datetime

    feed = etree.fromstring(path.read_bytes())
    for required in ("id", "title", "updated"):
        assert (feed.findtext(ATOM + required) or "").strip(), required
    datetime.fromisoformat(feed.findtext(ATOM + "updated", ""))
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    links = {e.get("rel"): e.get("href") for e in feed.findall(ATOM + "link")}
    assert links["self"] == base_url + path.name
    entries = feed.findall(ATOM + "entry")
    ids = [e.findtext(ATOM + "id") for e in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        assert entry.findtext(ATOM + "id", "").startswith("urn:uuid:")
        for stamp in ("updated", "published"):
            value = datetime.fromisoformat(entry.findtext(ATOM + stamp, ""))
            assert value.tzinfo is not None
        assert _same_site(entry.find(ATOM + "link").get("href", ""), base_url)  # type: ignore[union-attr]
    return entries


def _same_site(url: str, base_url: str) -> bool:
    """An absolute URL on the site the feed is published on."""
    parts, base = urlsplit(url), urlsplit(base_url)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and bool(parts.path)


def read_json_feed(path: Path) -> dict[str, Any]:
    feed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    for item in feed["items"]:
        assert item["id"] and (item.get("content_html") or item.get("content_text"))
    return feed


def local_file(output: Path, base_url: str, url: str) -> Path:
    """The output file an absolute feed URL points at."""
    assert url.startswith(base_url)
    return output / (url[len(base_url):] or "index.html")


def atom_title(entry: Any) -> str:
    """An Atom entry's title as a reader shows it: a title with "<" is HTML, escaped once."""
    title = entry.find(ATOM + "title")
    text = "" if title is None else title.text or ""
    return html.unescape(text) if title is not None and title.get("type") == "html" else text


def rss_title(item: Any) -> str:
    """An RSS item's title as a reader shows it (without the invisible word joiner that keeps
    a "</" in a title from reading as an end tag)."""
    return (item.findtext("title") or "").replace("<\u2060/", "</")
