"""RSS 2.0 and Atom 1.0 with feedgen, archive pages (RFC 5005) and the OPML list.

feedgen is used for what it does well and its output is finished with lxml where it falls
short: it writes only the first ``atom:link`` of an RSS channel, and drops every attribute
but ``href`` of an Atom entry's links (its issue #135).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from feeder import __version__
from feeder.article import Article
from feeder.builder.channels import (
    FEEDS,
    ICON,
    LOGO,
    RSS_IMAGE,
    STYLESHEET,
    Archive,
    Channel,
    absolute_links,
    archive_path,
    article_path,
    author_name,
    corrections_html,
    newest,
)
from feeder.config import Config
from feeder.language import language as interface
from feeder.sources import Source
from feeder.text import xml_safe

ATOM = "{http://www.w3.org/2005/Atom}"
HISTORY = "http://purl.org/syndication/history/1.0"
DC = "http://purl.org/dc/elements/1.1/"
Links = Sequence[tuple[str, str]]  # (rel, href)
# Makes a feed entry: the article (as ``feed_safe`` left it), the configuration, RSS (or
# Atom). ``make_entry`` itself, or whatever keeps what it made (feedgen and lxml are the slow
# part of a build, and a build puts an entry in every feed its article is in).
Entries = Callable[[Article, Config, bool], bytes]
INDENT = "  "
PLACEHOLDER = "feeder:entries"
# The namespaces of feedgen's RSS root (with the dc extension); items use them unprefixed.
RSS_NAMESPACES = {"dc": DC, "atom": ATOM[1:-1], "content": "http://purl.org/rss/1.0/modules/content/"}


def rss(articles: Sequence[Article], config: Config, channel: Channel,
        links: Links = (), entries: Entries | None = None) -> bytes:
    name = channel.prefix + "rss.xml"
    feed = etree.fromstring(_feedgen(articles, config, channel, name, "rss.xml").rss_str())
    anchor = feed.find(f"channel/{ATOM}link")  # the self link feedgen did write
    for rel, href in reversed(_extra_links(config, links)):
        anchor.addnext(etree.Element(f"{ATOM}link", rel=rel, href=href))
    made = [(entries or make_entry)(a, config, True) for a in articles]
    return rss_titles(_serialise(feed, feed[0], made, config))


def atom(articles: Sequence[Article], config: Config, channel: Channel, links: Links = (),
         name: str | None = None, archive: bool = False,
         entries: Entries | None = None) -> bytes:
    name = name or channel.prefix + "atom.xml"
    feed = etree.fromstring(_feedgen(articles, config, channel, name, "atom.xml").atom_str())
    for rel, href in links:
        etree.SubElement(feed, f"{ATOM}link", rel=rel, href=href)
    if archive:
        etree.SubElement(feed, f"{{{HISTORY}}}archive", nsmap={"fh": HISTORY})
    made = [(entries or make_entry)(a, config, False) for a in articles]
    return _serialise(feed, feed, made, config)


def archive_page(articles: Sequence[Article], config: Config, page: Archive,
                 entries: Entries | None = None) -> bytes:
    """A month's entries, linked to its neighbours: an RFC 5005 archive document once the
    month is complete (see ``Archive``)."""
    channel = Channel(f"{config.site_title} · {page.month}", config.site_description)
    links = [("current", config.url("atom.xml"))] + [
        (rel, config.url(archive_path(month))) for rel, month in page.links()]
    return atom(articles, config, channel, links, archive_path(page.month),
                archive=page.complete, entries=entries)


def opml(sources: Sequence[Source], tags: Sequence[str], config: Config) -> bytes:
    """OPML 2.0 listing every feed, for a one-step import: all articles and the corrections,
    then each source's and each topic's under an outline of their own, titled in the site's
    language."""
    _ = interface(config.site_language).gettext
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = xml_safe(config.site_title)
    etree.SubElement(head, "ownerId").text = config.site_base_url
    body = etree.SubElement(root, "body")
    aggregate = Channel.aggregate(config)
    everything = _("All articles")  # (not in an f-string: the catalogue's extractor reads it)
    _outline(body, Channel(f"{aggregate.title} · {everything}", aggregate.description), config)
    _outline(body, Channel.corrections(config), config)
    for group, channels in ((_("Sources"), [Channel.of(s) for s in sources]),
                            (_("Topics"), [Channel.tag(t, config) for t in tags])):
        if channels:
            folder = etree.SubElement(body, "outline", text=group)  # a folder: text alone
            for channel in channels:
                _outline(folder, channel, config)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


def _outline(parent: etree._Element, channel: Channel, config: Config) -> None:
    etree.SubElement(parent, "outline", type="rss", text=xml_safe(channel.title),
                     title=xml_safe(channel.title),
                     xmlUrl=config.url(channel.prefix + "rss.xml"),
                     htmlUrl=config.url(channel.prefix),
                     language=channel.language or config.site_language)


def _extra_links(config: Config, links: Links) -> list[tuple[str, str]]:
    return [("hub", config.websub_hub)] * bool(config.websub_hub) + list(links)


def _feedgen(articles: Sequence[Article], config: Config, channel: Channel, path: str,
             kind: str) -> FeedGenerator:
    """The feed's head; its entries come from ``_entries``."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(config.url(path))
    fg.title(_rss_text(xml_safe(channel.title)) if kind == "rss.xml" else
             xml_safe(channel.title))
    fg.subtitle(xml_safe(channel.description))
    fg.author({"name": xml_safe(config.site_title)})
    fg.language(channel.language or config.site_language)
    fg.generator("feeder", __version__)
    fg.link(href=config.url(path), rel="self", type=FEEDS[kind])
    if config.websub_hub and kind == "atom.xml":
        fg.link(href=config.websub_hub, rel="hub")
    # RSS takes its channel <link> from the last link given: the site, not the feed.
    fg.link(href=config.url(channel.prefix), rel="alternate", type="text/html")
    # feedgen ties RSS's <image> to Atom's logo: each format gets its own image.
    if kind == "rss.xml":
        fg.image(url=config.url(RSS_IMAGE), title=xml_safe(channel.title),
                 link=config.url(channel.prefix), width="144", height="144")
    else:
        fg.icon(config.url(ICON))
        fg.logo(config.url(LOGO))
    fg.updated(newest(articles) if articles or not channel.empty_since else channel.empty_since)
    return fg


def make_entry(article: Article, config: Config, rss: bool) -> bytes:
    """One RSS item (or Atom entry), serialised as it reads inside its feed."""
    return _make_entry(article, config.site_base_url, author_name(article, config), rss,
                       config.site_language, config.tz)


def make_entries(articles: Sequence[Article], config: Config) -> list[tuple[bytes, bytes]]:
    """The RSS item and the Atom entry of each article."""
    return [(make_entry(a, config, True), make_entry(a, config, False)) for a in articles]


def _make_entry(article: Article, base_url: str, author: str | None, rss: bool,
                code: str, zone: tzinfo) -> bytes:
    # The article is already feed_safe (see the builder's entry points); names from the
    # config are cleaned here, since TOML escapes can carry control characters.
    url = base_url + article_path(article)
    fe = FeedEntry()
    fe.id(article.guid)
    fe.guid(article.guid, permalink=False)
    # A title with "<" is text that looks like markup: Atom says it is HTML, escaped once
    # (readers then show it as written, and no validator takes it for markup).
    markup = not rss and "<" in article.title
    if markup:
        fe.title(html.escape(article.title, quote=False))
    else:
        fe.title(_rss_text(article.title) if rss else article.title)
    fe.link(href=url, rel="alternate", type="text/html")
    fe.published(article.published)
    fe.updated(article.updated)
    # Readers take RSS <description> as HTML: escape the plain text, or markup in it runs.
    fe.summary(html.escape(article.summary, quote=False), type="html")
    fe.content(absolute_links(article.content_html, url) + corrections_html(article, code, zone),
               type="html")
    if author:
        fe.author({"name": xml_safe(author)})
    for tag in article.tags:
        fe.category(term=tag)
    if rss:
        if article.image:
            fe.enclosure(base_url + article.image.path, article.image.length,
                         article.image.type)
        item = fe.rss_entry()
        if author:  # feedgen's dc extension would do this, at an import per entry
            etree.SubElement(item, f"{{{DC}}}creator").text = xml_safe(author)
        return rss_titles(_as_in_feed(item, rss=True))
    entry = _in_atom_namespace(fe.atom_entry())
    if markup:
        entry.find(f"{ATOM}title").set("type", "html")
    # feedgen drops every attribute of an entry's link but href (its issue #135).
    entry.find(f"{ATOM}link").attrib.update({"rel": "alternate", "type": "text/html"})
    if article.image:
        etree.SubElement(entry, f"{ATOM}link", rel="enclosure",
                         href=base_url + article.image.path, type=article.image.type,
                         length=str(article.image.length))
    return _as_in_feed(entry, rss=False)


# RSS has no way to say a title is text: readers guess, and the RSS Best Practices Profile
# asks for "<" and "&" as hexadecimal references in plain text, so nobody takes them for
# markup. A "</" would still read as an end tag: a word joiner (invisible) keeps it apart.
_TITLE = re.compile(rb"<title>(.*?)</title>", re.DOTALL)
_END_TAG = re.compile(r"</(?=[A-Za-z])")


def _rss_text(text: str) -> str:
    return _END_TAG.sub("<\u2060/", text) if "</" in text else text


def rss_titles(data: bytes) -> bytes:
    """*data* (RSS) with "<" and "&" as hexadecimal references in the titles that hold
    something a reader could take for markup ("<" or "&#"); other titles as they are."""
    if b"&lt;" not in data and b"&amp;#" not in data:
        return data
    return _TITLE.sub(_hexadecimal, data)


def _hexadecimal(title: re.Match[bytes]) -> bytes:
    text = title[1]
    if b"&lt;" not in text and b"&amp;#" not in text:
        return title[0]
    return b"<title>" + text.replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;") + (
        b"</title>")


def _in_atom_namespace(entry: Any) -> Any:
    """*entry* as feedgen's own feed would have it: feedgen makes entries without a
    namespace and relies on the feed's default one when its output is parsed again."""
    for element in entry.iter():
        element.tag = ATOM + element.tag
    return entry


def _as_in_feed(element: Any, *, rss: bool) -> bytes:
    """*element* serialised as it reads inside its feed: indented for its depth and using
    the prefixes of the feed's root, whose declarations are left there."""
    if rss:
        parent = etree.SubElement(etree.Element("rss", nsmap=RSS_NAMESPACES), "channel")
    else:
        parent = etree.Element(f"{ATOM}feed", nsmap={None: ATOM[1:-1]})
    parent.append(element)  # takes on the root's prefixes
    etree.indent(element, space=INDENT, level=_depth(element))
    data: bytes = etree.tostring(element, encoding="UTF-8", with_tail=False)
    start, close, rest = data.partition(b">")
    for prefix, uri in parent.nsmap.items():
        start = start.replace(f' xmlns{":" * bool(prefix)}{prefix or ""}="{uri}"'.encode(), b"")
    return start + close + rest


def _depth(element: Any) -> int:
    return sum(1 for _ in element.iterancestors())


def _serialise(feed: etree._Element, parent: etree._Element, entries: list[bytes],
               config: Config) -> bytes:
    """Pretty XML, styled for people who open the feed in a browser, with the serialised
    *entries* placed as the last children of *parent*.

    A CSS stylesheet, not XSLT: browsers are removing XSLT, and Chromium already covers
    XSLT-styled pages with a warning banner.
    """
    if entries:
        parent.append(etree.Comment(PLACEHOLDER))
    etree.indent(feed, space=INDENT)
    style = etree.ProcessingInstruction(
        "xml-stylesheet", f'type="text/css" href="{config.url(STYLESHEET)}"')
    feed.addprevious(style)
    data = bytes(etree.tostring(feed.getroottree(), xml_declaration=True, encoding="UTF-8"))
    if not entries:
        return data
    # Text and attributes are escaped, so the only comment in the head is the placeholder.
    between = b"\n" + INDENT.encode() * (_depth(parent) + 1)
    return data.replace(f"<!--{PLACEHOLDER}-->".encode(), between.join(entries), 1)
