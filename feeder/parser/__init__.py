"""File bytes → articles. Pure: the caller reads the file and supplies the context.

>>> from datetime import datetime, timezone
>>> ctx = Context(path="a.txt", received=datetime(2025, 7, 20, tzinfo=timezone.utc))
>>> parse(b"Judul\\n\\nIsi berita.", ctx).articles[0].title
'Judul'
"""

from __future__ import annotations

import dataclasses
import logging
import operator
from datetime import UTC, datetime, timedelta
from pathlib import PurePath
from typing import Any

from feeder.article import Article
from feeder.errors import ParseError
from feeder.parser.common import EARLIEST, LATEST, Context, Parsed, Problem
from feeder.parser.decode import decode
from feeder.parser.markdown import parse_markdown
from feeder.parser.page import parse_text
from feeder.text import has_xml_illegal, xml_safe

__all__ = ["SUFFIXES", "Context", "ParseError", "Parsed", "Problem", "parse"]

_FORMATS = {".txt": parse_text, ".text": parse_text, ".md": parse_markdown,
            ".markdown": parse_markdown}
SUFFIXES = frozenset(_FORMATS)


log = logging.getLogger(__name__)


def parse(data: bytes, ctx: Context) -> Parsed:
    """Parse one file's bytes; raise ParseError when it yields no article at all.

    Never raises anything else: a bug met by some input rejects that one file (with the
    traceback in the log) instead of stopping every later file from being read.
    """
    try:
        parsed = _parse(data, ctx)
        safe = [_feed_safe(article, ctx, parsed.problems) for article in parsed.articles]
    except ParseError:
        raise
    except Exception as exc:  # the last line of defence, logged in full
        log.exception("%s: the parser failed", ctx.path)
        what = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise ParseError(ctx.path, None, f"feeder could not parse this file ({what}); "
                         "please report it") from None
    return Parsed(articles=safe, problems=parsed.problems)


def _parse(data: bytes, ctx: Context) -> Parsed:
    suffix = PurePath(ctx.path).suffix.lower()
    parser = _FORMATS.get(suffix)
    if parser is None:
        raise ParseError(ctx.path, None, f"unsupported file type {suffix or '(none)'!r}; "
                         f"expected one of {', '.join(sorted(SUFFIXES))}")
    text, problems = decode(data, ctx.path)
    if not text or text.isspace():  # as not text.strip(), without copying the text
        raise ParseError(ctx.path, None, "empty file: no text to publish")
    parsed = parser(text, ctx)
    if not parsed.articles:
        raise ParseError(ctx.path, None, "no article found")
    parsed.problems[:0] = problems
    return parsed


def _feed_safe(article: Article, ctx: Context, problems: list[Problem]) -> Article:
    """*article* with nothing feeds cannot carry: the parsers' last check.

    Text loses the characters XML 1.0 forbids (which YAML escapes and HTML character
    references can bring back after decoding removed them); dates move into the years
    feeds can carry, and offsets with seconds (Jakarta before 1924) become UTC.
    """
    if _clean(article):
        return article
    changes: dict[str, Any] = {}
    removed = 0
    for spec in dataclasses.fields(article):
        value = getattr(article, spec.name)
        if isinstance(value, str):
            safe: Any = xml_safe(value)
            lost = len(value) - len(safe)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            cleaned = [xml_safe(v) for v in value]
            lost = sum(map(len, value)) - sum(map(len, cleaned))
            safe = tuple(dict.fromkeys(v for v in cleaned if v.strip()))
        else:
            continue
        if safe != value:
            changes[spec.name] = safe
            removed += lost
    if removed:
        problems.append(Problem(path=ctx.path, line=article.line, message=(
            f"removed {removed} character(s) that feeds cannot carry")))
    for name in ("published", "updated"):
        when: datetime = getattr(article, name)
        fixed = _feed_date(when, ctx.received)
        if fixed != when or fixed.utcoffset() != when.utcoffset():
            changes[name] = fixed
            if fixed != when.replace(microsecond=0):
                problems.append(Problem(path=ctx.path, line=article.line, message=(
                    f"{name} {when.isoformat()} is outside the years feeds can carry; "
                    f"using {fixed.isoformat()}")))
    if not changes:
        return article
    try:
        return dataclasses.replace(article, **changes)
    except ValueError as exc:
        raise ParseError(ctx.path, article.line, f"nothing feeds can carry is left: {exc}"
                         ) from None


# The text fields of Article (annotations are strings under postponed evaluation).
_texts = operator.attrgetter(*(f.name for f in dataclasses.fields(Article)
                               if f.type in ("str", "str | None")))
_MINUTE = timedelta(minutes=1)


def _clean(article: Article) -> bool:
    """Whether *article* needs no change at all: the common case, checked in one scan."""
    return (not has_xml_illegal("".join([*filter(None, _texts(article)), *article.tags]))
            and _usual(article.published)
            and (article.updated is article.published or _usual(article.updated)))


def _usual(when: datetime) -> bool:
    """Whether _feed_date() leaves *when* as it is; quick for years far from the limits."""
    if when.microsecond:
        return False
    if 1000 < when.year < 9998:  # then within a day of UTC is within the limits
        offset = when.utcoffset()
        return offset is None or not offset % _MINUTE
    return _feed_date(when, when) is when


def _feed_date(when: datetime, received: datetime) -> datetime:
    # Feeds carry whole seconds: some readers misread fractions (newsboat shifted such
    # entries by the zone's offset).
    when = when.replace(microsecond=0)
    offset = when.utcoffset() or timedelta(0)
    if offset % _MINUTE:
        when = when.astimezone(UTC)
    if EARLIEST <= when <= LATEST:
        return when
    fallback = received if EARLIEST <= received <= LATEST else when
    return min(max(fallback, EARLIEST), LATEST)
