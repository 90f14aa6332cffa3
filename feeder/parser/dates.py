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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

WEEKDAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6,
    "ahad": 6,
}
WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = {
    name: number
    for number, names in enumerate(
        # Indonesian, and the English some sites' templates print.
        (("januari", "jan", "january"), ("februari", "feb", "pebruari", "february"),
         ("maret", "mar", "march"), ("april", "apr"), ("mei", "may"),
         ("juni", "jun", "june"), ("juli", "jul", "july"),
         ("agustus", "agu", "agt", "ags", "agus", "august", "aug"),
         ("september", "sep", "sept"), ("oktober", "okt", "october", "oct"),
         ("november", "nov", "nopember"), ("desember", "des", "december", "dec")),
        start=1,
    )
    for name in names
}
# "Jum'at" is written with any apostrophe, or none.
_WEEKDAY = r"(?P<weekday>senin|selasa|rabu|kamis|jum['’‘`]?at|sabtu|minggu|ahad)"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# No two ``\s*`` stand side by side (``\s*(?:,\s*)?``, not ``\s*,?\s*``): on a long run
# of spaces that fails to match they backtrack in polynomial time.
_RANGE_WORD = r"(?:[-–—]|s\.?\s*d\.?|s/d|sampai|hingga)"
# "Senin pagi (3/1/2022)", "Selasa, tanggal 8 Juli 2024": words between weekday and date.
_BETWEEN = r"(?:(?:pagi|siang|sore|malam|tanggal|tgl\.?)\s*(?:,\s*)?)?"
_DATE_PATTERN = (
    r"(?:\b" + _WEEKDAY + r"\s*(?:,\s*)?" + _BETWEEN + r")?(?P<open>\(\s*)?(?<![\d./,-])(?:"
    # A range: "27-31/12/2021", "13 – 15 Maret 2023", "1 s.d. 3 Desember".
    r"(?P<rday>\d{1,2})\s*" + _RANGE_WORD + r"\s*(?P<rend>\d{1,2})(?:\s*/\s*(?P<rmonth>\d{1,2})"
    r"(?:\s*/\s*(?P<ryear>\d{4}|\d{2}(?!\d)))?(?![\d/])|\s+(?P<rnmonth>" + _MONTH
    + r")\b\.?(?:\s+(?P<rnyear>\d{4})(?!\d))?(?!\s{1,8}\d{5}))"
    # "4/12", "18/7/2025", "5-1-26", "4/12." (a real typo: no closing parenthesis)
    r"|(?P<day>\d{1,2})\s*(?P<sep>[/.-])\s*(?P<month>\d{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<year>\d{4}|\d{2}(?!\d)))?(?![\d/])"
    # "4 Desember 2025", "1 Des", "4 Desember"
    r"|(?P<nday>\d{1,2})\s+(?P<nmonth>" + _MONTH + r")\b\.?(?:\s+(?P<nyear>\d{4})(?!\d))?"
    # ... but not "24 Mei 20201": a garbled year makes it no evidence, as "24/5/20201" is.
    r"(?!\s{1,8}\d{5})"
    # (A few spaces at most before the closing bracket: a date ends within _AFTER_DIGITS.)
    r")(?:\s{0,8}(?P<close>\)))?"
)
# Searched in lower-cased text, with a look-ahead for where a date can start (a digit, a
# bracket, a weekday's first letter): the search skips every other place in C, several
# times faster than a case-insensitive search. "İ" alone lower-cases to two characters.
_DATE = re.compile(r"(?=[\d(srkjma])" + _DATE_PATTERN)
_DATE_ANY_CASE = re.compile(_DATE_PATTERN, re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# What makes a mention the end of a range ("30-31 Maret", "1 s.d. 3 Desember").
_RANGE_BEFORE = re.compile(r"\d{1,2}\s*" + _RANGE_WORD + r"\s*$", re.IGNORECASE)
# Dates an article cites rather than its own: a document's ("Surat Edaran nomor
# 366/PL.02/2021 tanggal 21 April 2021"), voting day, and what is still to come ("akan
# digelar pada …", "Rabu, 14 Februari adalah hari pemungutan suara", "… mendatang").
_DOCUMENT_BEFORE = re.compile(r"\b(?:nomor|nomer|no)\b\.?\s*\S+(?:\s+\S+){0,3}\s+tanggal\s*$",
                              re.IGNORECASE)
_COMING_BEFORE = re.compile(
    r"(?:(?:hari|tanggal|jadwal)\s+(?:dan\s+tanggal\s+)?pemungutan\s+suara(?:[\s,]+\w+){0,5}?"
    r"(?:[\s,]+(?:yaitu|yakni|pada|adalah))?[\s,]*|hari\s+h|\bakan\s+(?:\w+\s+){0,3}?(?:pada|tanggal)"
    r"|\bjadwal\w*\s+(?:\w+\s+){0,3}?(?:pada|tanggal)"
    r"|\b(?:berikutnya|selanjutnya|mendatang)\s+(?:\w+\s+){0,2}?(?:pada|tanggal))"
    r"\s*(?:hari\s+)?$", re.IGNORECASE)
_YESTERDAY = re.compile(r"\bkemarin\s*[(,]?\s*$", re.IGNORECASE)
_COMING_AFTER = re.compile(r"[\s,]*(?:(?:adalah|merupakan)\s+hari\b|mendatang\b|nanti\b)",
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
    span: bool = False  # a range of days ("27-31/12"): the day is its first
    cited: bool = False  # a date the text cites: a letter's, an election day, one to come
    lag: int = 0  # days from it to the article's own: "kemarin (Kamis, 29/9)" is yesterday


def find_dates(text: str) -> list[Mention]:
    """Every date written in *text*, in order (bare numbers left out)."""
    found: list[Mention] = []
    if not _DIGIT.search(text):
        return found
    matches = (_DATE_ANY_CASE.finditer(text) if "\u0130" in text
               else _near_digits(text.lower()))
    for match in matches:
        mention = _mention(match, text)
        before = text[max(0, match.start() - 80):match.start()]
        if mention is not None and not _RANGE_BEFORE.search(before[-16:]):
            after = text[match.end():match.end() + 30]
            if (_DOCUMENT_BEFORE.search(before) or _COMING_BEFORE.search(before)
                    or _COMING_AFTER.match(after)):
                mention = replace(mention, cited=True)
            elif _YESTERDAY.search(before[-12:]):
                mention = replace(mention, lag=1)
            found.append(mention)
    return found


# A date starts at most this far before its first digit ("jum'at, tanggal (4/12)") and
# ends at most this far after it ("13 – 15 september 2025)").
_BEFORE_DIGITS = 40
_AFTER_DIGITS = 48
_DIGIT_RUNS = re.compile(r"\d\d*")


def _near_digits(lowered: str) -> Iterator[re.Match[str]]:
    """``_DATE.finditer(lowered)``, trying only near runs of digits: every date has one, and
    most text has few, so the search skips most of it (a plain search tries the pattern at
    every letter a weekday starts with)."""
    pos = 0
    for run in _DIGIT_RUNS.finditer(lowered):
        if run.end() <= pos:
            continue
        match = _DATE.search(lowered, max(pos, run.start() - _BEFORE_DIGITS),
                             run.end() + _AFTER_DIGITS)
        if match is None or match.start() > run.end():
            pos = run.end()  # a date that starts later is a later run's, seen in full there
            continue
        yield match
        pos = match.end()


def find_date(text: str) -> Mention | None:
    """The first date written in *text*."""
    found = find_dates(text[:OWN_DATE_REACH])
    return found[0] if found else None


def own_date(text: str) -> Mention | None:
    """The date of the article whose body starts with *text*.

    It is written in the dateline or the sentence or two after it: the first there written
    with a weekday (``Kamis (4/12)``), else the first other single date, else the first day
    of a range (``27-31/12/2021``); failing those, the first date with a weekday or in
    brackets in the four sentences after. Dates further on (an election day, an event
    announced) are not the article's, nor the date of a letter or decree it cites.
    """
    window = _sentences(text[:OWN_DATE_REACH], OWN_DATE_SENTENCES)
    mentions = [m for m in find_dates(window) if not m.cited]
    days = [m for m in mentions if not m.span]
    found = (next((m for m in days if m.weekday is not None), None)
             or next(iter(days), None) or next(iter(mentions), None))
    if found is None:
        # A few articles open with background: the next sentences, for a date in the
        # forms datelines use (with a weekday, or in brackets).
        further = _sentences(text[len(window):len(window) + OWN_DATE_REACH + 400], 4)
        found = next((m for m in find_dates(further) if not m.cited and not m.span
                      and (m.weekday is not None or m.bracketed)), None)
    return found


def first_sentence(text: str) -> str:
    return _sentences(text[:OWN_DATE_REACH], 1)


def _sentences(text: str, count: int) -> str:
    end = 0
    for _ in range(count):
        match = _SENTENCE_END.search(text, end)
        if match is None:
            return text
        end = match.end()
    return text[:end]


def _mention(match: re.Match[str], text: str) -> Mention | None:
    """The mention *match* found in *text* (or in *text* lower-cased)."""
    span = match["rday"] is not None
    if span:
        day, numeric = int(match["rday"]), match["rmonth"] is not None
        month = int(match["rmonth"]) if numeric else MONTHS[match["rnmonth"].lower()]
        written = match["ryear"] if numeric else match["rnyear"]
        weekday = None  # "Senin – Rabu, 13 – 15 Maret": the weekday is the range's end
    else:
        numeric = match["day"] is not None
        day = int(match["day"] if numeric else match["nday"])
        month = int(match["month"]) if numeric else MONTHS[match["nmonth"].lower()]
        written = match["year"] if numeric else match["nyear"]
        weekday = match["weekday"]
    year = None if written is None else int(written) + (2000 if len(written) == 2 else 0)
    bracketed = match["open"] is not None
    # A bare "1/12" is as likely a number ("Nomor 1/12") as a date: it needs a weekday, a
    # bracket or a year; "08.30" is a time unless bracketed or with a weekday.
    if (numeric and not span and weekday is None and not bracketed
            and (year is None or match["sep"] == ".")):
        return None
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return None
    return Mention(
        text=text[match.start():match.end()].strip(),
        offset=match.start(),
        day=day,
        month=month,
        year=year,
        weekday=None if weekday is None else WEEKDAYS[re.sub(r"\W", "", weekday.lower())],
        unclosed=bracketed and match["close"] is None,
        bracketed=bracketed,
        span=span,
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
        results[index] = _resolve(mention, year, latest)
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
    # One rise is as likely a year boundary (January above December) as an order.
    return sum(steps) >= 2 and sum(steps) > len(steps) - sum(steps)


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


def _resolve(m: Mention, decided: int, latest: date) -> Resolved:
    notes = []
    if m.unclosed:
        notes.append(f"date {m.text!r} lacks its closing parenthesis")
    year = decided if m.year is None else m.year
    typo = None if m.year is None else _year_typo(m, m.year, decided, latest)
    if typo is not None:
        notes.append(f"the year in {m.text!r} disagrees with its weekday, which fits {typo}; "
                     f"using {typo}")
        year = typo
    chosen = _valid(m, year)
    if chosen is None:
        return Resolved(None, (*notes, f"date {m.text!r} does not exist"))
    if m.weekday is not None and chosen.weekday() != m.weekday:
        notes.append(f"weekday in {m.text!r} does not match {chosen.isoformat()}, a "
                     f"{WEEKDAY_NAMES[chosen.weekday()]}; kept the date")
    return Resolved(chosen + timedelta(days=m.lag), tuple(notes), explicit=m.year is not None)


def _year_typo(m: Mention, written: int, decided: int, latest: date) -> int | None:
    """The year a written one was mistyped for, if the evidence says it was.

    The written weekday must disagree with the written year and agree with a year one
    keystroke away (a digit changed, or one year off); and either the rest of the page
    decided that year, or the written date lies in the future, or that year's date came
    within the year before the arrival while the written one did not (pages arrive days or
    months after they are written).
    """
    if m.weekday is None or _weekday_matches(m, written):
        return None
    year_ago = latest - timedelta(days=366)
    as_written = _valid(m, written)
    years: list[int] = list(dict.fromkeys([decided, *range(latest.year, latest.year - 12, -1)]))
    for year in years:
        day = _valid(m, year)
        if (day is None or day > latest or not _weekday_matches(m, year)
                or not _one_keystroke(written, year)):
            continue
        if (year == decided or as_written is None or as_written > latest
                or (day >= year_ago and as_written < year_ago)):
            return year
    return None


def _one_keystroke(a: int, b: int) -> bool:
    different = sum(x != y for x, y in zip(str(a), str(b), strict=False))
    return a != b and (abs(a - b) == 1 or (len(str(a)) == len(str(b)) and different == 1))


def _valid(m: Mention, year: int) -> date | None:
    try:
        return date(year, m.month, m.day)
    except ValueError:
        return None
