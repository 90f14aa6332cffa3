"""HTML pages (index and articles) from Jinja templates with autoescaping."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from feeder.article import Article
from feeder.builder.channels import (
    FEEDS,
    STYLESHEET,
    Channel,
    article_path,
    author_name,
    feed_safe,
    tag_prefix,
)
from feeder.config import Config
from feeder.sources import describe

_TEMPLATES = Environment(
    loader=PackageLoader("feeder", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_article(article: Article, config: Config) -> bytes:
    article = feed_safe(article)
    return page("article.html.j2", config, article=article,
                channel=Channel.aggregate(config), source=describe(article.source, config))


@cache
def render_assets() -> Mapping[str, bytes]:
    """Files every output folder needs whatever the articles: the feeds' stylesheet."""
    loader = _TEMPLATES.loader
    assert loader is not None
    return {STYLESHEET: loader.get_source(_TEMPLATES, STYLESHEET)[0].encode()}


def page(template: str, config: Config, **context: Any) -> bytes:
    html = _TEMPLATES.get_template(template).render(
        config=config, feeds=FEEDS, article_path=article_path, author_name=author_name,
        tag_prefix=tag_prefix, **context)
    return html.encode()
