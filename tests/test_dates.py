"""The year rule for dates written without a year."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feeder.parser.dates import (
    _DATE,
    _DATE_ANY_CASE,
    _GAP,
    _LOWER_TO_TWO,
    find_date,
    resolve_years,
)
from tests.conftest import JAKARTA

TOLERANCE = timedelta(hours=36)


def resolve(texts: list[str], received: datetime) -> list[tuple[date | None, list[str]]]:
    return resolve_years([find_date(t) for t in texts], received, TOLERANCE)


@pytest.mark.parametrize(("text", "expected"), [
    ("digelar Kamis (4/12) lalu", (4, 12, None, 3, False)),
    ("Jumat (18/7/2025).", (18, 7, 2025, 4, False)),
    ("Kamis (4/12. Lalu", (4, 12, None, 3, True)),
    ("pada Senin, 3 Maret 2025", (3, 3, 2025, 0, False)),
    ("tanggal 9 Desember", (9, 12, None, None, False)),
    ("Jum'at (5/1/26)", (5, 1, 2026, 4, False)),
])
def test_date_forms_are_found(text: str, expected: tuple[object, ...]) -> None:
    m = find_date(text)
    assert m is not None
    assert (m.day, m.month, m.year, m.weekday, m.unclosed) == expected


def test_latest_year_not_in_the_future_is_chosen() -> None:
    received = datetime(2026, 11, 23, 10, tzinfo=JAKARTA)
    (got,) = resolve(["Kamis (5/12)"], received)
    assert got[0] == date(2025, 12, 5)


def test_small_tolerance_allows_tomorrow() -> None:
    received = datetime(2025, 12, 3, 23, tzinfo=JAKARTA)
    (got,) = resolve(["Kamis (4/12)"], received)
    assert got == (date(2025, 12, 4), [])


def test_explicit_year_anchors_the_rest_of_the_page() -> None:
    received = datetime(2027, 1, 5, tzinfo=JAKARTA)
    got = resolve(["Jumat (18/7/2025)", "Kamis (17/7)", "Rabu (9/7)"], received)
    assert [d for d, _ in got] == [date(2025, 7, 18), date(2025, 7, 17), date(2025, 7, 9)]
    assert all(notes == [] for _, notes in got)


def test_weekday_mismatch_is_reported_not_used() -> None:
    received = datetime(2026, 1, 10, tzinfo=JAKARTA)
    ((chosen, notes),) = resolve(["Kamis (5/12)"], received)
    assert chosen == date(2025, 12, 5)
    assert notes == ["weekday in 'Kamis (5/12)' does not match 2025-12-05, a Jumat; "
                     "kept the date"]


def test_impossible_dates_are_reported() -> None:
    ((chosen, notes),) = resolve(["Senin (31/2)"], datetime(2026, 1, 10, tzinfo=JAKARTA))
    assert chosen is None and "does not exist" in notes[0]


def test_leap_day_finds_the_latest_leap_year() -> None:
    ((chosen, _),) = resolve(["(29/2)"], datetime(2026, 1, 10, tzinfo=JAKARTA))
    assert chosen is None or chosen == date(2024, 2, 29)


# Text full of dates and near-dates, to put find_date's shortcuts to the test: weekdays with
# and without dates, gaps, runs of digits of every length, odd characters around them.
NOISE = [" ", "   ", "\u00a0", "\t", "\n", "\u3000", "\x1c", ",", "(", ")", "/", ".", "'",
         "1", "123", "20252025", "2025202520252025", "٣", "x", "a", "K", "ſ", "İ", "Ä",
         "tanggal", "Kamis"]
dates_and_noise = st.lists(st.one_of(
    st.tuples(
        st.sampled_from(["", "Kamis", "KAMIS", "jumat", "Jum'at", "selasa", "Minggu", "rabu",
                         "ahad", "senin", "sabtu", "x"]),
        st.lists(st.sampled_from([" ", "  ", ",", "(", "\t", "\u00a0"]), max_size=3)
        .map("".join),
        st.sampled_from(["1", "4", "12", "31", "123", "٣"]),
        st.sampled_from([" ", "  ", "/", ".", "-", " / ", "\n"]),
        st.sampled_from(["12", "7", "Desember", "des", "SEPT", "mei", "x"]),
        st.sampled_from(["", "/2025", " 2025", "/25", ". 2025", " 20250", "x"]),
        st.sampled_from(["", ")", " )", "x"]),
    ).map("".join),
    st.sampled_from(NOISE),
), max_size=12).map("".join)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(dates_and_noise)
@example("Nomor 2025202520252025 Desember")  # the day ends a long run of digits
def test_find_date_finds_the_first_match_of_a_plain_search(text: str) -> None:
    """find_date() lower-cases and tries only a few places; the result is the same."""
    lowered = text.lower()
    match = (_DATE.search(lowered) if len(lowered) == len(text)
             else _DATE_ANY_CASE.search(text))
    found = find_date(text)
    if match is None:
        assert found is None
    else:
        assert found is not None
        assert (found.offset, found.text) == (match.start(), text[match.start():match.end()]
                                              .strip())


def test_lower_case_keeps_digits_and_gaps_where_they_are() -> None:
    """find_date() finds digits and gaps in the text as written and lower-cases only a
    window: right while every character but one lower-cases to one character, and digits
    (``\\d``), whitespace, "," and "(" stay what they are."""
    assert len(_LOWER_TO_TWO.lower()) == 2
    every = "".join(map(chr, range(sys.maxunicode + 1))).replace(_LOWER_TO_TWO, "")
    assert set(map(len, map(str.lower, every))) == {1}
    lowered = every.lower()
    for kind in (r"\d", r"[\s,(]"):
        assert ([m.start() for m in re.finditer(kind, every)]
                == [m.start() for m in re.finditer(kind, lowered)])
    assert sorted(_GAP) == [m.group() for m in re.finditer(r"[\s,(]", every)]
