"""Articles → bytes of RSS 2.0, Atom 1.0, JSON Feed 1.1, HTML and OPML. Pure: no I/O.

Everything dated in the output comes from the articles, never from the clock, so the same
articles always give byte-identical files (and readers' caches keep working).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
from feeder.builder.pages import page, render_article, render_assets, templates_digest
from feeder.builder.syndication import (
    archive_page,
    atom,
    make_entries,
    missing_entries,
    remember_entries,
    rss,
)
from feeder.builder.syndication import opml as render_opml
from feeder.config import Config

__all__ = ["CHANNEL_FILES", "FEEDS", "Archive", "Channel", "SourceSummary",
           "archive_path", "article_path", "author_name", "entries_to_make", "make_entries",
           "remember_entries", "render_archive", "render_article", "render_assets",
           "render_feeds", "render_opml", "templates_digest"]


def render_feeds(articles: Sequence[Article], config: Config, channel: Channel | None = None,
                 sources: Sequence[SourceSummary] = (), tags: Sequence[str] = (),
                 archive: str | None = None) -> dict[str, bytes]:
    """The feeds and index page for *articles* (already newest first), by file name.

    *archive* is the newest archive month, linked as ``prev-archive`` (RFC 5005).
    """
    articles = [feed_safe(a) for a in articles]
    channel = channel or Channel.aggregate(config)
    links = [("prev-archive", config.url(archive_path(archive)))] if archive else []
    feeds = {
        "rss.xml": rss(articles, config, channel, links),
        "atom.xml": atom(articles, config, channel, links),
        "feed.json": json_feed(articles, config, channel),
        "index.html": page("index.html.j2", config, channel=channel, articles=articles,
                           sources=sources, tags=tags),
    }
    return {channel.prefix + name: data for name, data in feeds.items()}


def entries_to_make(lists: Iterable[Sequence[Article]], config: Config) -> list[Article]:
    """The articles of *lists* whose feed entries are not made yet (as ``render_feeds``
    will ask for them); ``make_entries`` makes them anywhere, ``remember_entries`` keeps
    them here."""
    unique = dict.fromkeys(feed_safe(a) for articles in lists for a in articles)
    return missing_entries(list(unique), config)


def render_archive(articles: Sequence[Article], config: Config, month: Archive) -> bytes:
    """A month's archive page (RFC 5005)."""
    return archive_page([feed_safe(a) for a in articles], config, month)
