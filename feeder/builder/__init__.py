"""Articles → bytes of RSS 2.0, Atom 1.0, JSON Feed 1.1, HTML and OPML. Pure: no I/O.

Everything dated in the output comes from the articles, never from the clock, so the same
articles always give byte-identical files (and readers' caches keep working).
"""

from __future__ import annotations

from collections.abc import Sequence

from feeder.article import Article
from feeder.builder.channels import (
    CHANNEL_FILES,
    FEEDS,
    Archive,
    Channel,
    SourceSummary,
    archive_path,
    article_path,
    author_name,
    feed_safe,
)
from feeder.builder.jsonfeed import json_feed
from feeder.builder.pages import Templates, page, render_article, render_assets
from feeder.builder.syndication import (
    Entries,
    archive_page,
    atom,
    make_entries,
    make_entry,
    rss,
)
from feeder.builder.syndication import opml as render_opml
from feeder.config import Config

__all__ = ["CHANNEL_FILES", "FEEDS", "Archive", "Channel", "Entries", "SourceSummary",
           "Templates", "archive_path", "article_path", "author_name", "feed_safe",
           "make_entries", "make_entry", "render_archive", "render_article", "render_assets",
           "render_feeds", "render_opml"]


def render_feeds(articles: Sequence[Article], config: Config, templates: Templates,
                 channel: Channel | None = None, sources: Sequence[SourceSummary] = (),
                 tags: Sequence[str] = (), archive: Archive | None = None,
                 entries: Entries | None = None) -> dict[str, bytes]:
    """The feeds and index page for *articles* (already newest first), by file name.

    *archive* is the newest month's page, where the feeds lead to older entries: as
    ``prev-archive`` when it is complete (RFC 5005), as the ``next`` page when it is not;
    *entries* makes the feeds' entries (``make_entry`` by default).
    """
    articles = [feed_safe(a) for a in articles]
    channel = channel or Channel.aggregate(config)
    links = [("prev-archive" if archive.complete else "next",
              config.url(archive_path(archive.month)))] if archive else []
    feeds = {
        "rss.xml": rss(articles, config, channel, links, entries),
        "atom.xml": atom(articles, config, channel, links, entries=entries),
        "feed.json": json_feed(articles, config, channel),
        "index.html": page(templates, "index.html.j2", config, channel=channel,
                           articles=articles, sources=sources, tags=tags),
    }
    return {channel.prefix + name: data for name, data in feeds.items()}


def render_archive(articles: Sequence[Article], config: Config, month: Archive,
                   entries: Entries | None = None) -> bytes:
    """A month's archive page (RFC 5005)."""
    return archive_page([feed_safe(a) for a in articles], config, month, entries)
