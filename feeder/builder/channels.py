"""What the builder renders: channels (sets of feeds) and the names and links they use."""

from __future__ import annotations

import dataclasses
import html
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from lxml.html import fromstring, tostring

from feeder.article import Article
from feeder.config import Config
from feeder.language import language as interface
from feeder.sources import Source
from feeder.text import has_xml_illegal, xml_safe

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHANNEL_FILES = ("rss.xml", "atom.xml", "feed.json", "index.html")
FEEDS = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml",
         "feed.json": "application/feed+json"}
CORRECTIONS = "corrections/"  # the channel of corrected entries
STYLESHEET = "feed.css"
PAGE_STYLE = "site.css"  # one shared file, not a copy in each of many pages
# The site's icon in the sizes readers and browsers ask for (all at the output's root).
FAVICON = "favicon.ico"  # browsers
ICON = "icon.png"  # 512 px: JSON Feed icon, Atom icon, apple-touch-icon
SMALL_ICON = "favicon-64.png"  # JSON Feed favicon
RSS_IMAGE = "icon-144.png"  # RSS <image>: at most 144 px wide
LOGO = "logo.png"  # Atom logo: twice as wide as tall
_RELATIVE = re.compile(r'(?:href|src)="(?![a-z][a-z0-9+.-]*:)', re.IGNORECASE)


@dataclass(frozen=True)
class Channel:
    """One set of feeds: the aggregate at the root, or a source's or tag's in a folder."""

    title: str
    description: str
    prefix: str = ""  # folder under the output root, "" or ending in "/"
    language: str | None = None
    link: str | None = None  # the publisher's own site, shown on the index page
    # The date the feeds carry while they have no entries (a validator flags 1970).
    empty_since: datetime | None = None

    @classmethod
    def aggregate(cls, config: Config) -> Channel:
        return cls(config.site_title, config.site_description)

    @classmethod
    def of(cls, source: Source) -> Channel:
        return cls(source.title, source.description, source.prefix, source.language,
                   source.link)

    @classmethod
    def corrections(cls, config: Config, since: datetime | None = None) -> Channel:
        """The entries corrected after they were first published, newest correction first;
        *since*: the date of the feeds while nothing was corrected (the site's last
        change)."""
        _ = interface(config.site_language).gettext
        name = _("Corrections")  # (outside the f-string: the catalogue's extractor reads it)
        return cls(f"{config.site_title} · {name}",
                   _("Articles corrected after they were published, with what changed"),
                   CORRECTIONS, empty_since=since)

    @classmethod
    def tag(cls, slug: str, config: Config) -> Channel:
        return cls(f"{config.site_title} · #{slug}", f"{config.site_description} (#{slug})",
                   tag_prefix(slug))


@dataclass(frozen=True)
class SourceSummary:
    """A line of the index page's list of sources."""

    source: Source
    latest: Article


@dataclass(frozen=True)
class Archive:
    """A month's page of entries and its neighbours. A *complete* month (ended, past the
    time late files may take) is an RFC 5005 archive document, linked to the complete months
    before and after it. A month not yet complete is an ordinary page of the feed (RFC 5005
    paging): the subscription feeds and the page of the month after it lead to it with
    ``next``, and it claims no completeness it does not have."""

    month: str
    previous: str | None  # the month before, if any has entries
    next: str | None  # the complete month after it, if any
    complete: bool = True
    previous_complete: bool = True

    def links(self) -> list[tuple[str, str]]:
        """Its links to other months, as (rel, month)."""
        found = []
        if self.previous:
            found.append(("prev-archive" if self.previous_complete else "next", self.previous))
        if self.next:
            found.append(("next-archive", self.next))
        return found


_values = operator.attrgetter(*(f.name for f in dataclasses.fields(Article)))


def feed_safe(article: Article) -> Article:
    """*article* without what XML 1.0 and UTF-8 cannot carry (controls, lone surrogates),
    and with its times in whole seconds (entries stored by older versions had fractions,
    which some readers misread)."""
    texts = [v for v in _values(article) if isinstance(v, str)] + list(article.tags)
    whole = not (article.published.microsecond or article.updated.microsecond)
    if whole and not has_xml_illegal("".join(texts)) and article.title.strip():
        return article  # the usual case, found in one scan
    changes: dict[str, object] = {
        f.name: xml_safe(value) for f in dataclasses.fields(article) if f.name != "key"
        and isinstance(value := getattr(article, f.name), str) and xml_safe(value) != value}
    if not whole:
        changes["published"] = article.published.replace(microsecond=0)
        changes["updated"] = article.updated.replace(microsecond=0)
    if any(xml_safe(t) != t for t in article.tags):
        changes["tags"] = tuple(t for t in map(xml_safe, article.tags) if t.strip())
    if not str(changes.get("title", article.title)).strip():
        changes["title"] = "(untitled)"
    return dataclasses.replace(article, **changes) if changes else article  # type: ignore[arg-type]


def corrections_html(article: Article, code: str, zone: tzinfo) -> str:
    """The notes telling readers what was corrected and when, in language *code* and the
    site's time *zone* (a stored time has only its offset, which no reader calls WIB), as
    HTML paragraphs to put after the article's text ("" for an entry never corrected)."""
    if not article.corrections:
        return ""
    language = interface(code)
    notes = []
    for correction in article.corrections:
        when = language.moment(correction.at.astimezone(zone))
        if correction.what == "title" and correction.before:
            note = language.gettext('Correction: title corrected on %(when)s; previously '
                                    '"%(before)s"') % {"when": when, "before": correction.before}
        else:
            note = language.gettext("Correction: text corrected on %(when)s") % {"when": when}
        notes.append(f'<p class="correction">{html.escape(note, quote=False)}</p>')
    return "".join(notes)


def tag_prefix(slug: str) -> str:
    return f"tags/{slug}/"


def archive_path(month: str) -> str:
    return f"archive/{month}.xml"


def article_path(article: Article) -> str:
    return f"articles/{article.slug}.html"


def author_name(article: Article, config: Config) -> str | None:
    """The reporter's display name: initials mapped through ``[authors]`` in the config."""
    if not article.author:
        return None
    return config.authors.get(article.author.lower(), article.author)


def absolute_links(html: str, base: str) -> str:
    """*html* with relative ``href``/``src`` made absolute against *base*.

    Feed readers resolve relative URLs inconsistently (validators warn about them), so
    feeds carry only absolute ones.
    """
    # Most bodies carry no attribute at all, and ``in`` is far cheaper than the pattern.
    if "=" not in html or not _RELATIVE.search(html):
        return html
    fragment = fromstring(f"<div>{html}</div>")
    fragment.make_links_absolute(base, resolve_base_href=False)
    inner: str = tostring(fragment, encoding="unicode", method="html")
    return inner.removeprefix("<div>").removesuffix("</div>")


def newest(articles: Sequence[Article]) -> datetime:
    """The feed-level date: from the articles, never the clock, so output is reproducible."""
    return max((a.updated for a in articles), default=EPOCH)
