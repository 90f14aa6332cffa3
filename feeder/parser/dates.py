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


def find_date(text: str) -> Mention | None:
    """The first date mentioned in *text* (the dateline's sentence comes first)."""
    lowered = text.lower()
    # A few characters lower-case to two ("İ"); then offsets would shift, so search as is.
    match = (_DATE.search(lowered) if len(lowered) == len(text)
             else _DATE_ANY_CASE.search(text))
    if match is None:
        return None
    form = "n_" if match["n"] else "m_"
    month, weekday, year = match[form + "month"], match[form + "weekday"], match[form + "year"]
    return Mention(
        text=text[match.start():match.end()].strip(),
        offset=match.start(),
        day=int(match[form + "day"]),
        month=int(month) if month.isdigit() else MONTHS[month.lower()],
        year=None if year is None else int(year) + (2000 if len(year) == 2 else 0),
        weekday=None if weekday is None else WEEKDAYS[weekday.lower()],
        unclosed=form == "n_" and match["n_close"] is None,
    )


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
