"""Plain-text files: the articles a person sees on a copied news page, or one article.

A file is split into articles by ``segment`` (titles, bodies, chrome); each article's
date is its own (the dateline's sentence, or a date line under its title), with the year
decided once for the whole file (``dates.resolve_years``); its writer comes from the credit
that ends it or a byline; its place and site from its dateline.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from feeder.article import Article
from feeder.errors import ParseError
from feeder.parser.common import Context, Parsed, Problem, make_slug
from feeder.parser.credits import TRAILING_TAGS, Credit, find_credit
from feeder.parser.dateline import Dateline, find_dateline
from feeder.parser.dates import (
    OWN_DATE_REACH,
    Mention,
    find_dates,
    first_sentence,
    oldest_first,
    own_date,
    resolve_years,
)
from feeder.parser.lines import Kind, Line, ends_sentence
from feeder.parser.segment import Draft, segment, split_lines
from feeder.text import normalise_title, paragraphs_html, summarise

# The source pages mark a paragraph break as a no-break space beside an ordinary space.
_BREAK_PAIRS = (" \u00a0", "\u00a0 ")
_SPACES = re.compile(r"\s+")
_LOST_EMOJI = re.compile(r"(?<!\S)\?{2,}(?!\S)")
_GLUED_BYLINE = re.compile(r"[^|\n]{0,40}\d[^|\n]{0,20}\|\s*(?:by|oleh)\s+(?P<name>[\w.]{2,30})\b",
                           re.IGNORECASE)
_TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})\b")
UNTITLED_WORDS = 10


@dataclass
class _Reading:
    """One article as read from its lines, before the page's dates are decided."""

    draft: Draft
    line: int
    title: str
    paragraphs: list[str]
    dateline: Dateline | None
    credit: Credit | None
    byline: str | None
    mention: Mention | None
    own: bool  # the mention is the article's own date (not a neighbour's)
    at: time | None  # the time a date line gave
    untitled: bool = False  # the title is the text's first words


def parse_text(text: str, ctx: Context) -> Parsed:
    """Parse a plain-text file: every article on a copied page, or one article."""
    parsed = Parsed()
    lines = split_lines(text)
    if not any(line.kind is Kind.TEXT for line in lines):
        raise ParseError(ctx.path, None, "no article found: the file holds only page "
                         "furniture (counters, links, headings), no text")
    readings = [_read(draft, ctx, parsed.problems)
                for draft in segment(lines, ctx.path, parsed.problems)]
    readings = [r for r in readings if r.paragraphs or r.title]
    if not readings:
        raise ParseError(ctx.path, None, "no article found")
    _build(readings, ctx, parsed)
    return parsed


def _read(draft: Draft, ctx: Context, problems: list[Problem]) -> _Reading:
    paragraphs = _paragraphs(draft.body)
    line = draft.title.number if draft.title else draft.body[0].number
    title = draft.title.text if draft.title else _first_words(paragraphs[0])
    if not paragraphs:
        problems.append(Problem(path=ctx.path, line=line, message=(
            "only a title, no body; the title is used as the body")))
        paragraphs = [title]
    # The date line nearest the text under the title, else the first after the text.
    start = draft.body[0].number if draft.body else line
    dated = [m for m in draft.meta if m.date is not None and m.number < start][-1:] or [
        m for m in draft.meta if m.date is not None][:1]
    opening = " ".join(paragraphs)[:2 * OWN_DATE_REACH + 400]
    glued = _GLUED_BYLINE.match(opening)  # a date line the copy ran into the text
    byline = next((m.byline for m in draft.meta if m.byline), None) or (
        glued["name"] if glued else None)
    # Some bodies repeat the title as their first sentence: the date comes after it.
    if opening[:len(title)].casefold() == title.casefold():
        opening = opening[len(title):]
    dateline = find_dateline(paragraphs[0])
    # A date in the dateline itself ("Makassar, 24 Juli 2025 - ") is the article's, even
    # when its first sentence names the day of what it reports ("tepatnya Rabu, 23 Juli").
    stamped = next((m for m in find_dates(paragraphs[0][:dateline.end]) if not m.cited
                    and not m.span), None) if dateline else None
    own = stamped or own_date(opening) or _weekday_date_further(paragraphs[1:3])
    written = dated[0].date if dated else None
    # Without a date in its first sentences or under its title, an article may still
    # carry one where its credit goes ("… (24/03/2024)"), or a full one in its title.
    # A date line is when the site published the article: it wins over the date of what
    # the article reports, which gets the line's year if it has none.
    mention = written or own or _closing_date(paragraphs[-1]) or _title_date(title)
    return _Reading(
        draft=draft, line=line, title=" ".join(title.split()), paragraphs=paragraphs,
        dateline=dateline, credit=find_credit(paragraphs[-1]),
        byline=byline, mention=mention, own=mention is not None,
        at=_time_of(dated[0].text) if dated and mention is written else None,
        untitled=draft.title is None,
    )


def _paragraphs(body: list[Line]) -> list[str]:
    """The text of *body*'s lines as paragraphs: a line is one unless it was wrapped (it
    does not end a sentence and the next, in the same block, goes on in lower case)."""
    joined: list[str] = []
    for line in body:
        text = _LOST_EMOJI.sub("", line.text).strip() if "??" in line.text else line.text
        if not text:
            continue
        if (joined and not line.gap_before and not ends_sentence(joined[-1])
                and text[0].islower()):
            joined[-1] += " " + text
        else:
            joined.append(text)
    return [p for text in joined for p in split_paragraphs(text) if p]


def _first_words(paragraph: str) -> str:
    words = paragraph.split()
    return " ".join(words[:UNTITLED_WORDS]) + ("…" if len(words) > UNTITLED_WORDS else "")


def _weekday_date_further(paragraphs: list[str]) -> Mention | None:
    """A date written with its weekday in the first sentence of the next paragraphs: some
    articles open with a paragraph of background."""
    for paragraph in paragraphs:
        found = own_date(first_sentence(paragraph))
        if found is not None and found.weekday is not None:
            return found
    return None


def _closing_date(paragraph: str) -> Mention | None:
    tail = TRAILING_TAGS.sub("", paragraph[-60:]).rstrip()
    found = [m for m in find_dates(tail) if m.bracketed and not m.unclosed]
    if found and tail.endswith(found[-1].text):
        return found[-1]
    return None


def _title_date(title: str) -> Mention | None:
    return next((m for m in find_dates(title) if m.year is not None), None)


def _time_of(text: str) -> time | None:
    match = _TIME.search(text)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2]))
    return None


def _build(readings: list[_Reading], ctx: Context, parsed: Parsed) -> None:
    resolved = resolve_years([r.mention for r in readings], ctx.received, ctx.tolerance)
    newest_first = not oldest_first([r.mention for r in readings if r.mention])
    days = _fill_gaps([found.day for found in resolved])
    sites = Counter(r.dateline.site for r in readings if r.dateline and r.dateline.site)
    page_site = sites.most_common(1)[0][0] if sites else None
    single = len(readings) == 1
    previous = date.max
    for index, (reading, found, day) in enumerate(zip(readings, resolved, days, strict=True)):
        where = reading.draft.body[0].number if reading.draft.body else reading.line
        parsed.problems.extend(Problem(path=ctx.path, line=where, message=n)
                               for n in found.notes)
        if found.day is None and (not single or reading.dateline is not None):
            parsed.problems.append(Problem(path=ctx.path, line=where, message=(
                "no usable date (weekday and day/month) in the dateline's sentence; using "
                + (f"{day.isoformat()}, the date of the article next to it" if day
                   else "the file's arrival date"))))
        if newest_first and day and index and day > previous:
            parsed.problems.append(Problem(path=ctx.path, line=where, message=(
                f"{day.isoformat()} is newer than the article above it, but pages list the "
                "newest first: is the date a typo?")))
        previous = day or previous
        if day is None:
            published = ctx.received  # with no date anywhere, as new as its arrival
        elif reading.at and found.day is not None:
            published = datetime.combine(day, reading.at, tzinfo=ctx.received.tzinfo)
        else:
            # Articles of one day keep page order (newest first) as minutes after midnight,
            # from a start and a second of their own, so that articles of other files are
            # not given the very same time (readers sort ties at random; validators warn).
            group = f"{page_site or ctx.source}/{day}" if not single else reading.title
            published = _at(day, ctx, minutes=len(readings) - index,
                            spread=_spread(group, reading.title))
        own = found.day is not None
        parsed.articles.append(_article(reading, published, own, found.explicit and own,
                                        page_site, ctx, parsed, warn_credit=not single))


def _fill_gaps(days: list[date | None]) -> list[date | None]:
    """An undated article takes the date of the nearest dated one above it (it is no newer
    than that), else below it: never the arrival, which would put it at the top."""
    filled = list(days)
    for order in (range(len(days)), range(len(days) - 1, -1, -1)):
        last = None
        for i in order:
            if filled[i] is None:
                filled[i] = last
            last = filled[i]
    return filled


def _article(reading: _Reading, published: datetime, own: bool, scheduled: bool,
             page_site: str | None, ctx: Context, parsed: Parsed, *,
             warn_credit: bool) -> Article:
    dateline = reading.dateline
    site = (dateline.site if dateline else None) or page_site
    source = site or ctx.source
    title = reading.title
    day = published.date().isoformat()
    # An article's identity: its source, its own date and its title; without a date of
    # its own, the source and title (a neighbour's date may change with the snapshot).
    # Made-up titles are alike ("Judul yang …"): an untitled article is its text.
    named = normalise_title(title) if not reading.untitled else "untitled " + hashlib.sha1(
        normalise_title(" ".join(reading.paragraphs)).encode()).hexdigest()[:16]
    key = f"{source}/{day}/{named}" if own else f"{source}/{named}"
    first = reading.paragraphs[0][dateline.end:] if dateline else reading.paragraphs[0]
    return Article(
        key=key,
        source=source,
        title=title,
        published=published,
        updated=published,
        content_html=paragraphs_html(reading.paragraphs),
        summary=summarise(first or reading.paragraphs[0]),
        slug=make_slug(key, day, title),
        author=_author(reading, ctx, parsed, warn_credit),
        photo_credit=reading.credit.photo if reading.credit else None,
        place=dateline.place if dateline else None,
        line=reading.line,
        scheduled=scheduled,
    )


def _author(reading: _Reading, ctx: Context, parsed: Parsed, warn: bool) -> str | None:
    credit = reading.credit
    line = reading.draft.body[-1].number if reading.draft.body else reading.line
    if credit is not None and not credit.closed:
        parsed.problems.append(Problem(path=ctx.path, line=line, message=(
            "credit tail lacks its closing parenthesis")))
    writer = credit.author if credit else None
    if writer and reading.byline and credit is not None and credit.team:
        writer = reading.byline  # a person's byline says more than the office's credit
    writer = writer or reading.byline
    if writer is None and warn and credit is None:
        parsed.problems.append(Problem(path=ctx.path, line=line, message=(
            "no credit tail like '(ana/ed. Foto: awh/KPU Kota Semarang)' or byline; "
            "author unknown")))
    return writer


def split_paragraphs(text: str) -> list[str]:
    """*text* cut at every whitespace run holding a no-break space beside a space.

    Looks only around each no-break space, measuring the whitespace on either side in C,
    so it is linear in the length of *text* (a regex like ``\\s*(?: \\u00a0|\\u00a0 )\\s*``
    retries from every position of a long run of spaces and takes quadratic time on a 1 MB
    line) and fast on ordinary text.
    """
    pieces, start, pos = [], 0, 0
    while (nbsp := text.find("\u00a0", pos)) != -1:
        low = pos + len(text[pos:nbsp].rstrip())
        spaces = _SPACES.match(text, nbsp)  # always matches: the no-break space at least
        high = spaces.end() if spaces else nbsp + 1
        run = text[low:high]
        if _BREAK_PAIRS[0] in run or _BREAK_PAIRS[1] in run:
            pieces.append(text[start:low])
            start = high
        pos = high
    pieces.append(text[start:])
    return pieces


def _at(day: date, ctx: Context, minutes: int, spread: int = 0) -> datetime:
    midnight = datetime.combine(day, time(0), tzinfo=ctx.received.tzinfo)
    return midnight + timedelta(minutes=minutes, seconds=spread)


SPREAD_MINUTES = 50


def _spread(group: str, item: str) -> int:
    """Seconds to add: a start for the group (a page's day), a second for the item."""
    def number(text: str) -> int:
        return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)

    return number(group) % SPREAD_MINUTES * 60 + number(item) % 60
