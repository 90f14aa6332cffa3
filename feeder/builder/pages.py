"""HTML pages (index and articles) from Jinja templates with autoescaping."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from feeder.article import Article
from feeder.builder.channels import (
    FEEDS,
    PAGE_STYLE,
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
    """Files every output folder needs whatever the articles: the stylesheets."""
    loader = _TEMPLATES.loader
    assert loader is not None
    return {name: loader.get_source(_TEMPLATES, name)[0].encode()
            for name in (STYLESHEET, PAGE_STYLE)}


@cache
def templates_digest() -> str:
    """Changes with any template, so pages are rendered again after an upgrade changes one."""
    loader = _TEMPLATES.loader
    assert loader is not None
    digest = hashlib.sha256()
    for name in _TEMPLATES.list_templates():
        digest.update(name.encode() + b"\0" + loader.get_source(_TEMPLATES, name)[0].encode())
    return digest.hexdigest()


def page(template: str, config: Config, **context: Any) -> bytes:
    html = _TEMPLATES.get_template(template).render(
        config=config, feeds=FEEDS, article_path=article_path, author_name=author_name,
        tag_prefix=tag_prefix, **context)
    return html.encode()
