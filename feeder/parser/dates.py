"""Indonesian datelines and the rule that gives a yearless date its year.

The year rule, applied per file:

1. A date written with a year keeps it.
2. A yearless date takes, among the years that do not put it more than the tolerance
   after the file's arrival, the one that puts it closest to the page's *anchor*: the
   latest date on the page written with a year. Without an anchor, the latest such year.
3. The weekday is then checked against the chosen date; a mismatch is reported, never used
   to move the date (weekdays in real pages are typos as often as the numbers are).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WEEKDAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "sabtu": 5,
    "minggu": 6, "ahad": 6,
}
WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = {
    name: number
    for number, names in enumerate(
        (("januari", "jan"), ("februari", "feb", "pebruari"), ("maret", "mar"),
         ("april", "apr"), ("mei",), ("juni", "jun"), ("juli", "jul"),
         ("agustus", "agu", "agt", "ags"), ("september", "sep", "sept"),
         ("oktober", "okt"), ("november", "nov", "nopember"), ("desember", "des")),
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?P<weekday>senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)"
_YEAR = r"(?P<year>\d{4}|\d{2})"
# No two ``\s*`` may stand side by side (write ``\s*(?:,\s*)?``, not ``\s*,?\s*``): on a
# long run of spaces that fails to match they backtrack in polynomial time, and one
# "Kamis" followed by 2,000 spaces took 30 s.
# "Kamis (4/12)", "Jumat (18/7/2025)", and the real typo "Kamis (4/12." with no ")".
_NUMERIC = (
    _WEEKDAY + r"\s*(?:,\s*)?\(\s*(?P<day>\d{1,2})\s*[/.-]\s*(?P<month>\d{1,2})"
    r"(?:\s*[/.-]\s*" + _YEAR + r")?(?:\s*(?P<close>\)))?"
)
# "Kamis, 4 Desember 2025", "(4 Des)", "Kamis 4 Desember".
_NAMED = (
    r"(?:" + _WEEKDAY + r"\s*(?:,\s*)?(?:\(\s*)?)?(?P<day>\d{1,2})\s+(?P<month>"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r")\b\.?(?:\s+" + _YEAR + r"\b)?"
)
# One scan for both forms (group names prefixed to keep them apart), on lower-cased text
# with a look-ahead for the characters a date can start with: six times faster than two
# case-insensitive searches. The leftmost date wins either way.
_EITHER = ("(?P<n>" + _NUMERIC.replace("(?P<", "(?P<n_") + ")|(?P<m>"
           + _NAMED.replace("(?P<", "(?P<m_") + ")")
_DATE = re.compile(r"(?=[srkjma\d])(?:" + _EITHER + ")")
_DATE_ANY_CASE = re.compile(_EITHER, re.IGNORECASE)


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


# Runs of digits (``\d\d*``, not ``\d+``: a pattern opening with a character class lets the
# search skip ahead in C instead of trying every position).
_DIGITS = re.compile(r"\d\d*")
# What may stand between a weekday and the day: whitespace (``\s``, up to U+3000), a comma,
# a "(".
_GAP = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + ",("
# From its day on, a date has at most 16 characters besides whitespace ("4 september 2025",
# "4/12/2025)"): the pattern never looks past the 20th non-space character from the day.
_REACH = re.compile(r"(?:\s*+\S){20}")
# The one character that lower-cases to two ("İ" → "i̇"), shifting every later offset.
_LOWER_TO_TWO = "\u0130"
# The groups of the named and the numeric form, in the order find_date() unpacks them.
_GROUPS = {numeric: tuple(f"{'n' if numeric else 'm'}_{name}"
                          for name in ("day", "month", "year", "weekday"))
           for numeric in (False, True)}
# After this many runs of digits without a date (a table of figures?), one plain search
# of the rest is cheaper than trying run by run.
_RUNS_TRIED = 4


def find_date(text: str) -> Mention | None:
    """The first date mentioned in *text* (the dateline's sentence comes first)."""
    if _LOWER_TO_TWO in text:
        match, base = _DATE_ANY_CASE.search(text), 0
    else:
        match, base = _first_date(text)
    if match is None:
        return None
    numeric = match["n"] is not None
    day, month, year, weekday = match.group(*_GROUPS[numeric])
    start, end = base + match.start(), base + match.end()
    return Mention(
        text=text[start:end].strip(),
        offset=start,
        day=int(day),
        month=int(month) if month.isdigit() else MONTHS[month.lower()],
        year=None if year is None else int(year) + (2000 if len(year) == 2 else 0),
        weekday=None if weekday is None else WEEKDAYS[weekday.lower()],
        unclosed=numeric and match["n_close"] is None,
    )


def _first_date(text: str) -> tuple[re.Match[str] | None, int]:
    """``_DATE.search(text.lower())`` as a match in a lower-cased slice, and where it starts.

    That search tries the pattern at every letter a weekday starts with, a third of all
    text, after lower-casing all of it. But a date's day is a run of one or two digits with
    nothing before it or a weekday and a gap of whitespace, commas and "(": so a date starts
    at one of the last two digits of a run, or four to six letters before the gap in front
    of a run of at most two digits. Trying only there, on a slice lower-cased as far as the
    pattern can look (``_REACH``), finds the same first date several times faster.
    """
    done = 0  # no date starts before this: its day would be an earlier run of digits
    for tried, run in enumerate(_DIGITS.finditer(text)):
        if tried == _RUNS_TRIED:
            return _DATE.search(text.lower(), done), 0
        first, end = run.span()
        day = max(first, end - 2)
        starts = list(range(day, end))
        if end - first <= 2:
            gap = done + len(text[done:first].rstrip(_GAP))
            starts[:0] = [s for s in (gap - 6, gap - 5, gap - 4) if s >= done]
        reach = _REACH.match(text, day)
        base = starts[0]
        window = text[base:reach.end() if reach else len(text)].lower()
        for start in starts:
            if match := _DATE.match(window, start - base):
                return match, base
        done = end
    return None, 0


def resolve_years(
    mentions: list[Mention | None], received: datetime, tolerance: timedelta
) -> list[tuple[date | None, list[str]]]:
    """Apply the year rule to a page's mentions; return dates with what was wrong."""
    latest = (received + tolerance).date()
    explicit = [d for m in mentions if m and m.year for d in [_valid(m, m.year)] if d]
    anchor = max(explicit, default=None)
    return [_resolve(m, latest, anchor) if m else (None, []) for m in mentions]


def _resolve(m: Mention, latest: date, anchor: date | None) -> tuple[date | None, list[str]]:
    notes: list[str] = []
    if m.unclosed:
        notes.append(f"date {m.text!r} lacks its closing parenthesis")
    if m.year is not None:
        chosen = _valid(m, m.year)
        if chosen is None:
            return None, [*notes, f"date {m.text!r} does not exist"]
    else:
        candidates = [d for y in range(latest.year, latest.year - 8, -1)
                      if (d := _valid(m, y)) and d <= latest]
        if not candidates:
            return None, [*notes, f"date {m.text!r} does not exist"]
        if anchor is None:
            chosen = candidates[0]
        else:
            chosen = min(candidates, key=lambda d: (abs((d - anchor).days), -d.year))
    if m.weekday is not None and chosen.weekday() != m.weekday:
        notes.append(
            f"weekday in {m.text!r} does not match {chosen.isoformat()}, a "
            f"{WEEKDAY_NAMES[chosen.weekday()]}; kept the date"
        )
    return chosen, notes


def _valid(m: Mention, year: int) -> date | None:
    try:
        return date(year, m.month, m.day)
    except ValueError:
        return None
