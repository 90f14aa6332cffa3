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

# The C0 controls XML 1.0 forbids (all but tab, LF and CR), as bytes.
_CONTROLS = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))


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


def has_xml_illegal(text: str, utf8: bytes | None = None) -> bool:
    """Whether *text* holds a character XML 1.0 forbids: ``bool(xml_illegal(text))``.

    Three scans in C (encoding fails on a lone surrogate; deleting the control bytes of the
    encoding shortens it; U+FFFE and U+FFFF are searched for) beat the regex stepping
    through every character threefold, and nearly every text is clean. *utf8*, the bytes
    *text* was decoded from as UTF-8 (line ends aside, and a last character cut off),
    spares the encoding: such bytes hold the same controls, and never a surrogate.
    """
    if utf8 is None:
        try:
            utf8 = text.encode()
        except UnicodeEncodeError:
            return True
    return (len(utf8.translate(None, _CONTROLS)) != len(utf8)
            or "\ufffe" in text or "\uffff" in text)
