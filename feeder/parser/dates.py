"""Indonesian dates: finding an article's own date, and one year decision per page.

Most datelines carry no year (``Kamis (4/12)``), and pages arrive days to months (sometimes
years) after they were written, so the year cannot come from the arrival alone. The rule,
for one file (a page of several articles, or a single article):

1. Candidates. The page's decision is the year of its first dated article. Going down the
   page dates fall, so every later article takes the same year, one less at each *year
   boundary*: where the month jumps back up (January above December). A date this puts
   past the arrival plus the tolerance goes back a year (a typo cannot put it in the
   future). Candidate decisions: the six years up to the arrival's (within them a day and
   month falls on each weekday at most once) and those next to a year written on the page.
2. Evidence, in order: (a) agreement with the years written on the page, (b) weekdays
   written beside the dates that match, (c) adjacent articles in newest-first order. The
   candidate best on (a), then (b), then (c) wins; ties go to the most recent.
3. A date written with a year keeps it, unless its weekday disagrees with that year and
   agrees with the year the page decided (a typo in the year). A weekday that still
   disagrees with the chosen date is a warning and never moves the day: in real pages the
   weekday is a typo as often as the number.

A page listed oldest first (most adjacent dates rising) is read bottom-up instead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WEEKDAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6,
    "ahad": 6,
}
WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = {
    name: number
    for number, names in enumerate(
        (("januari", "jan"), ("februari", "feb", "pebruari"), ("maret", "mar"),
         ("april", "apr"), ("mei",), ("juni", "jun"), ("juli", "jul"),
         ("agustus", "agu", "agt", "ags", "agus"), ("september", "sep", "sept"),
         ("oktober", "okt"), ("november", "nov", "nopember"), ("desember", "des")),
        start=1,
    )
    for name in names
}
# "Jum'at" is written with any apostrophe, or none.
_WEEKDAY = r"(?P<weekday>senin|selasa|rabu|kamis|jum['’‘`]?at|sabtu|minggu|ahad)"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# No two ``\s*`` stand side by side (``\s*(?:,\s*)?``, not ``\s*,?\s*``): on a long run
# of spaces that fails to match they backtrack in polynomial time.
_DATE = re.compile(
    r"(?:\b" + _WEEKDAY + r"\s*(?:,\s*)?)?(?P<open>\(\s*)?(?<![\d./,-])(?:"
    # "4/12", "18/7/2025", "5-1-26", "4/12." (a real typo: no closing parenthesis)
    r"(?P<day>\d{1,2})\s*(?P<sep>[/.-])\s*(?P<month>\d{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<year>\d{4}|\d{2}(?!\d)))?(?![\d/])"
    # "4 Desember 2025", "1 Des", "4 Desember"
    r"|(?P<nday>\d{1,2})\s+(?P<nmonth>" + _MONTH + r")\b\.?(?:\s+(?P<nyear>\d{4})(?!\d))?"
    r")(?:\s*(?P<close>\)))?",
    re.IGNORECASE,
)
# What makes a mention the end of a range ("30-31 Maret", "1 s.d. 3 Desember").
_RANGE_BEFORE = re.compile(r"\d{1,2}\s*(?:[-–—]|s\.?\s*d\.?|s/d|sampai|hingga|dan)\s*$",
                           re.IGNORECASE)
# A sentence ends at ., ! or ? before a space and a capital or a quote, unless the word
# before it is an abbreviation or an initial ("Dr.", "S.H.", "No.", "A.").
_SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\b[A-Za-z]{2})[.!?][\"'”’]?\s+(?=[\"'“‘(A-Z])")
OWN_DATE_SENTENCES = 3
OWN_DATE_REACH = 800  # characters: the dateline's sentence and the next two, at most


@dataclass(frozen=True)
class Mention:
    """A date as written: the year may be missing, the weekday may be wrong."""

    text: str
    offset: int
    day: int
    month: int
    year: int | None
    weekday: int | None
    unclosed: bool = False
    bracketed: bool = False


def find_dates(text: str) -> list[Mention]:
    """Every date written in *text*, in order (ranges' ends and bare numbers left out)."""
    found = []
    for match in _DATE.finditer(text):
        mention = _mention(match)
        before = text[max(0, match.start() - 16):match.start()]
        if mention is not None and not _RANGE_BEFORE.search(before):
            found.append(mention)
    return found


def find_date(text: str) -> Mention | None:
    """The first date written in *text*."""
    found = find_dates(text[:OWN_DATE_REACH])
    return found[0] if found else None


def own_date(text: str) -> Mention | None:
    """The date of the article whose body starts with *text*.

    It is written in the dateline or the sentence or two after it: the first there written
    with a weekday (``Kamis (4/12)``), else the first other date. Dates further on (an
    election day, an event announced) are not the article's.
    """
    window = _sentences(text[:OWN_DATE_REACH], OWN_DATE_SENTENCES)
    mentions = find_dates(window)
    return next((m for m in mentions if m.weekday is not None), None) or (
        mentions[0] if mentions else None)


def _sentences(text: str, count: int) -> str:
    end = 0
    for _ in range(count):
        match = _SENTENCE_END.search(text, end)
        if match is None:
            return text
        end = match.end()
    return text[:end]


def _mention(match: re.Match[str]) -> Mention | None:
    numeric = match["day"] is not None
    day = int(match["day"] if numeric else match["nday"])
    month = int(match["month"]) if numeric else MONTHS[match["nmonth"].lower()]
    written = match["year"] if numeric else match["nyear"]
    year = None if written is None else int(written) + (2000 if len(written) == 2 else 0)
    weekday = match["weekday"]
    bracketed = match["open"] is not None
    # A bare "1/12" is as likely a number ("Nomor 1/12") as a date: it needs a weekday, a
    # bracket or a year; "08.30" is a time unless bracketed or with a weekday.
    if numeric and weekday is None and not bracketed and (year is None or match["sep"] == "."):
        return None
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return Mention(
        text=match.group().strip(),
        offset=match.start(),
        day=day,
        month=month,
        year=year,
        weekday=None if weekday is None else WEEKDAYS[re.sub(r"\W", "", weekday.lower())],
        unclosed=bracketed and match["close"] is None,
        bracketed=bracketed,
    )


@dataclass(frozen=True)
class Resolved:
    """A mention's date on the page's decision, and what was odd about it."""

    day: date | None
    notes: tuple[str, ...] = ()
    explicit: bool = False  # the year was written (and kept)


YEARS_BACK = 5  # candidate decisions: the arrival's year and the five before it


def resolve_years(mentions: Sequence[Mention | None], received: datetime,
                  tolerance: timedelta) -> list[Resolved]:
    """Give every mention of one page its date by the page's one year decision."""
    latest = (received + tolerance).date()
    dated = [(i, m) for i, m in enumerate(mentions) if m is not None and _exists(m)]
    results = [_missing(m) for m in mentions]
    if not dated:
        return results
    if oldest_first([m for _, m in dated]):
        dated.reverse()
    written = {m.year for _, m in dated if m.year is not None}
    candidates = set(range(latest.year - YEARS_BACK, latest.year + 1))
    candidates |= {y + d for y in written for d in (-1, 0, 1)}
    best = max(sorted(candidates, reverse=True),
               key=lambda y: _score([m for _, m in dated], _derive(dated, y, latest)))
    for (index, mention), year in zip(dated, _derive(dated, best, latest), strict=True):
        results[index] = _resolve(mention, year)
    return results


def _exists(m: Mention) -> bool:
    return _valid(m, m.year or 2024) is not None  # 2024: any day and month of a leap year


def _missing(m: Mention | None) -> Resolved:
    if m is None:
        return Resolved(None)
    return Resolved(None, (f"date {m.text!r} does not exist",))


def oldest_first(mentions: Sequence[Mention]) -> bool:
    """Whether a page lists its articles oldest first: most adjacent dates rise."""
    steps = [(b.month, b.day) > (a.month, a.day) for a, b in itertools.pairwise(mentions)
             if (b.month, b.day) != (a.month, a.day)]
    return sum(steps) > len(steps) - sum(steps)


def _derive(dated: list[tuple[int, Mention]], first: int, latest: date) -> list[int]:
    """The year each mention takes when the page's first date is in *first*."""
    years, year, previous = [], first, None
    for _, m in dated:
        if previous is not None and m.month > previous:
            year -= 1
        previous = m.month
        own = year
        while (d := _valid(m, own)) is None or d > latest:  # Feb 29 or past the arrival
            own -= 1
        years.append(own)
    return years


def _score(mentions: list[Mention], years: list[int]) -> tuple[int, int, int]:
    anchors = sum(m.year == y for m, y in zip(mentions, years, strict=True)
                  if m.year is not None)
    weekdays = sum(_weekday_matches(m, y) for m, y in zip(mentions, years, strict=True))
    days = [_valid(m, m.year or y) for m, y in zip(mentions, years, strict=True)]
    order = sum(a >= b for a, b in itertools.pairwise(days) if a and b)
    return anchors, weekdays, order


def _weekday_matches(m: Mention, year: int) -> bool:
    day = _valid(m, year)
    return m.weekday is not None and day is not None and day.weekday() == m.weekday


def _resolve(m: Mention, decided: int) -> Resolved:
    notes = []
    if m.unclosed:
        notes.append(f"date {m.text!r} lacks its closing parenthesis")
    year = decided if m.year is None else m.year
    if m.year is not None and m.year != decided and abs(m.year - decided) == 1 and (
            not _weekday_matches(m, m.year) and _weekday_matches(m, decided)):
        notes.append(f"the year in {m.text!r} disagrees with its weekday and with the rest "
                     f"of the page; using {decided}")
        year = decided
    chosen = _valid(m, year)
    if chosen is None:
        return Resolved(None, (*notes, f"date {m.text!r} does not exist"))
    if m.weekday is not None and chosen.weekday() != m.weekday:
        notes.append(f"weekday in {m.text!r} does not match {chosen.isoformat()}, a "
                     f"{WEEKDAY_NAMES[chosen.weekday()]}; kept the date")
    return Resolved(chosen, tuple(notes), explicit=m.year is not None)


def _valid(m: Mention, year: int) -> date | None:
    try:
        return date(year, m.month, m.day)
    except ValueError:
        return None
