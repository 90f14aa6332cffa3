"""What every file format's parser returns, and the context it parses in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from feeder.article import Article
from feeder.text import slugify

# The dates feeds can carry: RSS and Atom readers expect four-digit years, and a year-9999
# date in a negative offset is out of range in UTC.
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class Problem:
    """Something in a file the parser could not fully understand."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a parse depends on besides the bytes, so parsing stays pure.

    ``received`` is when the file first arrived: the reference point of the year rule.
    ``source`` is the fallback source (the drop subfolder) for articles that name none.
    """

    path: str
    received: datetime
    tolerance: timedelta = timedelta(hours=36)
    source: str = "local"


@dataclass
class Parsed:
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def make_slug(key: str, day: str, title: str) -> str:
    """A readable, unique file name for the article's page."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return "-".join(filter(None, (day, slugify(title, 50), digest)))
