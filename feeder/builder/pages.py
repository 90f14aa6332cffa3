"""HTML pages (index and articles) from Jinja templates with autoescaping."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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
    corrections_html,
    feed_safe,
    tag_prefix,
)
from feeder.config import Config
from feeder.language import catalogues
from feeder.language import language as interface
from feeder.sources import describe

_LOADER = PackageLoader("feeder", "templates")


class Templates:
    """The page templates, compiled once per language on first use and kept as long as
    this object: whoever renders many pages (the publish stage) keeps one."""

    def __init__(self) -> None:
        self._environments: dict[str, Environment] = {}

    def environment(self, code: str) -> Environment:
        """Templates speaking language *code*: its strings (``_()``) and its dates."""
        environment = self._environments.get(code)
        if environment is None:
            environment = self._environments[code] = _environment(code)
        return environment

    def digest(self) -> str:
        """Changes with any template or catalogue, so pages are rendered again after an
        upgrade changes one."""
        environment = self.environment("en")
        digest = hashlib.sha256()
        for name in _LOADER.list_templates():
            digest.update(name.encode() + b"\0"
                          + _LOADER.get_source(environment, name)[0].encode())
        for catalogue in catalogues():
            digest.update(catalogue)
        return digest.hexdigest()


def _environment(code: str) -> Environment:
    language = interface(code)
    environment = Environment(loader=_LOADER,
                              autoescape=select_autoescape(["html", "html.j2"]),
                              trim_blocks=True, lstrip_blocks=True,
                              extensions=["jinja2.ext.i18n"])
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        language.translations, newstyle=True)
    environment.filters["long_date"] = language.date
    environment.filters["moment"] = language.moment
    environment.filters["css"] = _css_string
    return environment


def _css_string(text: str) -> str:
    """*text* for a double-quoted CSS string (the feeds' stylesheet says what a feed is)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")


def render_article(article: Article, config: Config, templates: Templates) -> bytes:
    article = feed_safe(article)
    return page(templates, "article.html.j2", config, article=article,
                channel=Channel.aggregate(config), source=describe(article.source, config))


def render_assets(config: Config, templates: Templates) -> Mapping[str, bytes]:
    """Files every output folder needs whatever the articles: the stylesheets (the feeds'
    speaks the site's language: it tells a person what a feed is)."""
    environment = templates.environment(config.site_language)
    return {STYLESHEET: environment.get_template(STYLESHEET + ".j2").render().encode(),
            PAGE_STYLE: _LOADER.get_source(environment, PAGE_STYLE)[0].encode()}


def page(templates: Templates, template: str, config: Config, **context: Any) -> bytes:
    html = templates.environment(config.site_language).get_template(template).render(
        config=config, feeds=FEEDS, article_path=article_path, author_name=author_name,
        tag_prefix=tag_prefix, corrections_html=corrections_html, **context)
    return html.encode()
