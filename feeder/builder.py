"""Articles → bytes of RSS 2.0, Atom 1.0, JSON Feed 1.1 and HTML pages. Pure: no I/O.

Everything dated in the output comes from the articles, never from the clock, so the same
articles always give byte-identical files (and readers' caches keep working).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.feed import FeedGenerator
from jinja2 import Environment, PackageLoader, select_autoescape
from lxml import etree

from feeder import __version__
from feeder.article import Article
from feeder.config import Config
from feeder.sources import Source, describe
from feeder.text import xml_safe

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHANNEL_FILES = ("rss.xml", "atom.xml", "feed.json", "index.html")
FEED_FILES = frozenset({*CHANNEL_FILES, "feeds.opml"})
ATOM = "{http://www.w3.org/2005/Atom}"
STYLESHEET = "feed.css"
FEEDS = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml",
         "feed.json": "application/feed+json"}
_TEMPLATES = Environment(
    loader=PackageLoader("feeder", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Channel:
    """One set of feeds: the aggregate at the root, or one source's under its folder."""

    title: str
    description: str
    prefix: str = ""  # folder under the output root, "" or ending in "/"
    language: str | None = None
    link: str | None = None  # the publisher's own site, shown on the index page

    @classmethod
    def aggregate(cls, config: Config) -> Channel:
        return cls(config.site_title, config.site_description)

    @classmethod
    def of(cls, source: Source) -> Channel:
        return cls(source.title, source.description, source.prefix, source.language,
                   source.link)


@dataclass(frozen=True)
class SourceSummary:
    """A line of the index page's list of sources."""

    source: Source
    entries: int
    latest: Article | None


def render_feeds(articles: Sequence[Article], config: Config, channel: Channel | None = None,
                 sources: Sequence[SourceSummary] = ()) -> dict[str, bytes]:
    """The feeds and index page for *articles* (already newest first), by file name."""
    channel = channel or Channel.aggregate(config)
    feeds = {
        "rss.xml": _rss(articles, config, channel),
        "atom.xml": _atom(articles, config, channel),
        "feed.json": _json_feed(articles, config, channel),
        "index.html": _page("index.html.j2", config, channel=channel, articles=articles,
                            sources=sources),
    }
    return {channel.prefix + name: data for name, data in feeds.items()}


def render_assets() -> dict[str, bytes]:
    """Files every output folder needs whatever the articles: the feeds' stylesheet."""
    source = PackageLoader("feeder", "templates").get_source(_TEMPLATES, STYLESHEET)[0]
    return {STYLESHEET: source.encode()}


def render_article(article: Article, config: Config) -> bytes:
    return _page("article.html.j2", config, article=article,
                 channel=Channel.aggregate(config), source=describe(article.source, config))


def render_opml(sources: Sequence[Source], config: Config) -> bytes:
    """OPML 2.0 listing the aggregate feed and every source's, for a one-step import."""
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = xml_safe(config.site_title)
    etree.SubElement(head, "ownerId").text = config.site_base_url
    body = etree.SubElement(opml, "body")
    for channel in [Channel.aggregate(config), *(Channel.of(s) for s in sources)]:
        etree.SubElement(body, "outline", type="rss", text=xml_safe(channel.title),
                         title=xml_safe(channel.title),
                         xmlUrl=config.url(channel.prefix + "rss.xml"),
                         htmlUrl=config.url(channel.prefix),
                         language=channel.language or config.site_language)
    return bytes(etree.tostring(opml, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


def article_path(article: Article) -> str:
    return f"articles/{article.slug}.html"


def author_name(article: Article, config: Config) -> str | None:
    """The reporter's display name: initials mapped through ``[authors]`` in the config."""
    if not article.author:
        return None
    return config.authors.get(article.author.lower(), article.author)


def _feedgen(articles: Sequence[Article], config: Config, channel: Channel,
             name: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(config.url(channel.prefix + name))
    fg.title(xml_safe(channel.title))
    fg.subtitle(xml_safe(channel.description))
    fg.author({"name": xml_safe(config.site_title)})
    fg.language(channel.language or config.site_language)
    fg.generator("feeder", __version__)
    fg.link(href=config.url(channel.prefix + name), rel="self", type=FEEDS[name])
    if config.websub_hub:
        fg.link(href=config.websub_hub, rel="hub")
    # RSS takes its channel <link> from the last link given: the site, not the feed.
    fg.link(href=config.url(channel.prefix), rel="alternate", type="text/html")
    fg.updated(_newest(articles))
    for article in articles:
        _entry(fg.add_entry(order="append"), article, config, rss=name == "rss.xml")
    return fg


def _rss(articles: Sequence[Article], config: Config, channel: Channel) -> bytes:
    feed = etree.fromstring(_feedgen(articles, config, channel, "rss.xml").rss_str())
    if config.websub_hub:
        # feedgen writes only the first atom:link of an RSS channel, the self link.
        self_link = feed.find(f"channel/{ATOM}link")
        self_link.addnext(etree.Element(f"{ATOM}link", rel="hub", href=config.websub_hub))
    return _serialise(feed, config)


def _atom(articles: Sequence[Article], config: Config, channel: Channel) -> bytes:
    """Atom via feedgen, with the entry link attributes feedgen cannot write.

    feedgen drops every attribute but ``href`` of an Atom entry's links (its issue #135), so
    ``rel``/``type`` of the page link and the enclosure links are written here.
    """
    feed = etree.fromstring(_feedgen(articles, config, channel, "atom.xml").atom_str())
    for entry, article in zip(feed.iterfind(f"{ATOM}entry"), articles, strict=True):
        page = entry.find(f"{ATOM}link")
        page.attrib.update({"rel": "alternate", "type": "text/html"})
        if article.image:
            etree.SubElement(entry, f"{ATOM}link", rel="enclosure",
                             href=config.url(article.image.path), type=article.image.type,
                             length=str(article.image.length))
    return _serialise(feed, config)


def _serialise(feed: etree._Element, config: Config) -> bytes:
    """Pretty XML, styled for people who open the feed in a browser.

    A CSS stylesheet, not XSLT: browsers are removing XSLT, and Chromium already covers
    XSLT-styled pages with a warning banner.
    """
    etree.indent(feed, space="  ")
    style = etree.ProcessingInstruction(
        "xml-stylesheet", f'type="text/css" href="{config.url(STYLESHEET)}"')
    feed.addprevious(style)
    return bytes(etree.tostring(feed.getroottree(), xml_declaration=True, encoding="UTF-8"))


def _entry(fe: Any, article: Article, config: Config, *, rss: bool) -> None:
    url = config.url(article_path(article))
    fe.id(article.guid)
    fe.guid(article.guid, permalink=False)
    fe.title(xml_safe(article.title))
    fe.link(href=url, rel="alternate", type="text/html")
    fe.published(article.published)
    fe.updated(article.updated)
    fe.summary(xml_safe(article.summary))
    fe.content(xml_safe(article.content_html), type="html")
    author = author_name(article, config)
    if author:
        fe.author({"name": xml_safe(author)})
        fe.dc.dc_creator(xml_safe(author))
    for tag in article.tags:
        fe.category(term=xml_safe(tag))
    if rss and article.image:
        fe.enclosure(config.url(article.image.path), article.image.length, article.image.type)


def _json_feed(articles: Sequence[Article], config: Config, channel: Channel) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": channel.title,
        "home_page_url": config.url(channel.prefix),
        "feed_url": config.url(channel.prefix + "feed.json"),
        "description": channel.description,
        "language": channel.language or config.site_language,
        "authors": [{"name": config.site_title}],
        "items": [_json_item(a, config) for a in articles],
    }
    if config.websub_hub:
        feed["hubs"] = [{"type": "WebSub", "url": config.websub_hub}]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode()


def _json_item(article: Article, config: Config) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": article.guid,
        "url": config.url(article_path(article)),
        "title": article.title,
        "content_html": article.content_html,
        "summary": article.summary,
        "date_published": article.published.isoformat(),
        "date_modified": article.updated.isoformat(),
    }
    author = author_name(article, config)
    if author:
        item["authors"] = [{"name": author}]
    if article.tags:
        item["tags"] = list(article.tags)
    if article.image:
        url = config.url(article.image.path)
        item["image"] = url
        item["attachments"] = [{"url": url, "mime_type": article.image.type,
                                "size_in_bytes": article.image.length}]
    extension = {"source": article.source, "place": article.place,
                 "photo_credit": article.photo_credit}
    item["_feeder"] = {k: v for k, v in extension.items() if v}
    return item


def _page(template: str, config: Config, **context: Any) -> bytes:
    html = _TEMPLATES.get_template(template).render(
        config=config, feeds=FEEDS, article_path=article_path, author_name=author_name,
        **context)
    return html.encode()


def _newest(articles: Sequence[Article]) -> datetime:
    return max((a.updated for a in articles), default=EPOCH)
