"""The year rule for dates written without a year."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from feeder.parser.dates import find_date, resolve_years
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
