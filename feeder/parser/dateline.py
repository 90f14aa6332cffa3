"""The dateline that opens a news article: where it was written, and on which site.

Offices write it many ways: ``Semarang, kota-semarang.kpu.go.id – ``, ``Kendal – ``,
``KENDAL — ``, ``Semarang— ``, ``Kab-jepara.kpu.go.id – ``, ``Semarang, 1 Desember 2025- ``,
``Sleman (13/09) - ``, ``Batang, InfoPublik - ``, ``#TemanPemilih-``, and without a dash:
``Brebes Rabu (6/10), `` or ``Magelang, kota-magelang. kpu.go.id. ``. What they share: a
short run of names (capitalised words, a site, a date) before a dash, or before the comma
or full stop that follows a site or a date. A sentence has lower-case words in it: that is
what tells a dateline from the start of a sentence with a dash further on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeder.parser.dates import MONTHS, WEEKDAYS

SITE = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.\s?[a-z0-9-]+)*\.(?:go\.id|ac\.id|or\.id|id|com|net|"
                  r"org|info)\b", re.IGNORECASE)
# An en or em dash anywhere; a hyphen only with a space on one side, or before a capital
# ("#TemanPemilih-Untuk"): "Kab-jepara" is a name. Some type "_ " for the dash.
_DASH = re.compile(r"\s*(?:[–—―‒]{1,2}|-{1,2}(?=\s)|_(?=\s)|(?<=\s)-{1,2}"
                   r"|(?<=[a-z\d.*)])-(?=[A-Z]))\s*")
_REACH = 100  # a dateline is never longer
_TOKEN = re.compile(r"\([^()]{1,12}\)|[^\s,()]+")
_DATE_PART = re.compile(r"\(?\d{1,4}(?:[/.-]\d{1,2}(?:[/.-]\d{2,4})?)?\)?\*?")
_NAMES = {*MONTHS, *WEEKDAYS, "jum'at", "jum’at"}
# Without a dash: names, then a site or a bracketed date, then "," or "." (or nothing).
_WEEKDAY = r"(?:senin|selasa|rabu|kamis|jum['’‘`]?at|sabtu|minggu|ahad)"
_NO_DASH = re.compile(
    r"(?P<place>(?:[A-Z][\w.'’-]*\s+){0,3}[A-Z][\w.'’-]*)?\s*(?:,\s*)?"
    r"(?:(?P<site>(?i:" + SITE.pattern + r"))|(?i:" + _WEEKDAY + r"\s*(?:,\s*)?)?"
    r"\(\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\))\s*[.,]?\s+(?=\S)")


@dataclass(frozen=True)
class Dateline:
    place: str | None
    site: str | None
    end: int  # where the article's own words start (after a dash); 0 without a dash


def find_dateline(text: str) -> Dateline | None:
    """The dateline *text* opens with, if it opens with one."""
    head = text[:_REACH]
    for dash in _DASH.finditer(head):
        prefix = head[:dash.start()]
        if prefix.strip() and dash.end() < len(text) and _names_only(prefix):
            return Dateline(_place(prefix), _site(prefix), dash.end())
        break  # only the first dash can end a dateline
    match = _NO_DASH.match(head)
    if match:
        return Dateline(_place(match.group()), _site(match.group()), 0)
    return None


def _names_only(prefix: str) -> bool:
    tokens = _TOKEN.findall(prefix)
    if not 0 < len(tokens) <= 10 or any(q in prefix for q in "\"“”"):
        return False
    return all(_name_token(t) for t in tokens)


def _name_token(token: str) -> bool:
    bare = token.strip(".*")
    return bool(
        not bare or bare[0].isupper() or bare[0] == "#" or SITE.fullmatch(bare)
        or _DATE_PART.fullmatch(token) or bare.lower() in _NAMES
    )


def _place(prefix: str) -> str | None:
    first = prefix.split(",", 1)[0]
    words = []
    for token in _TOKEN.findall(first):
        bare = token.strip(".*")
        if (not bare or SITE.fullmatch(bare) or _DATE_PART.fullmatch(token)
                or bare.lower() in _NAMES or bare[0] == "#"):
            break
        words.append(bare)
    return " ".join(words) or None


def _site(prefix: str) -> str | None:
    match = SITE.search(prefix)
    return re.sub(r"\s+", "", match.group()).lower() if match else None
