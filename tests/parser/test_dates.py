"""Finding an article's own date, and the page's one year decision."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.parser import Context, dates, parse
from feeder.parser.dates import (
    WEEKDAY_NAMES,
    Resolved,
    find_dates,
    own_date,
    resolve_years,
)
from tests.support import JAKARTA, SAMPLES

TOLERANCE = timedelta(hours=36)


def resolve(texts: list[str], received: datetime) -> list[Resolved]:
    return resolve_years([own_date(t) for t in texts], received, TOLERANCE)


def days(texts: list[str], received: datetime) -> list[date | None]:
    return [r.day for r in resolve(texts, received)]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=JAKARTA)


@pytest.mark.parametrize(("text", "expected"), [
    ("digelar Kamis (4/12) lalu", (4, 12, None, 3, False)),
    ("Jumat (18/7/2025).", (18, 7, 2025, 4, False)),
    ("Kamis (4/12. Lalu", (4, 12, None, 3, True)),
    ("pada Senin, 3 Maret 2025", (3, 3, 2025, 0, False)),
    ("tanggal 9 Desember", (9, 12, None, None, False)),
    ("Jum'at (5/1/26)", (5, 1, 2026, 4, False)),
    ("Jum’at (5/12) pagi", (5, 12, None, 4, False)),
    ("rapat (5/12/2025) di aula", (5, 12, 2025, None, False)),
    ("digelar pada 1/12/2025 di aula", (1, 12, 2025, None, False)),
    ("rapat (2/12) di aula", (2, 12, None, None, False)),
    ("digelar Senin 1/12 di aula", (1, 12, None, 0, False)),
    ("pada 1 Des 2025", (1, 12, 2025, None, False)),
    ("Sleman (13/09) - KPU", (13, 9, None, None, False)),
    ("Semarang, 1 Desember 2025- KPU", (1, 12, 2025, None, False)),
    ("RABU, 2 OKTOBER 2025", (2, 10, 2025, 2, False)),
])
def test_date_forms_are_found(text: str, expected: tuple[object, ...]) -> None:
    (m,) = find_dates(text)
    assert (m.day, m.month, m.year, m.weekday, m.unclosed) == expected


@pytest.mark.parametrize("text", [
    "PKPU Nomor 1/12 tahun ini",  # a bare d/m without weekday, bracket or year
    "pukul 08.30 WIB",
    "sebanyak 828.899 jiwa",
    "PKPU Nomor 8 Tahun 2024",
    "Nomor 123/PL.01/2025",
])
def test_numbers_are_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_the_dateline_sentence_date_wins_over_other_dates_in_it() -> None:
    body = ("Semarang – Sepekan setelah pemungutan suara 27 November 2024, KPU Kota "
            "Semarang menggelar evaluasi, Kamis (4/12). Evaluasi diikuti PPK.")
    m = own_date(body)
    assert m is not None and (m.day, m.month, m.weekday) == (4, 12, 3)


def test_dates_far_into_the_text_or_announced_are_not_the_articles() -> None:
    body = ("Kendal – KPU menggelar rapat. Rapat membahas anggaran. Hadir pula Bawaslu. "
            "Rapat dibuka ketua. Peserta bertanya. Jawaban diberikan. Rapat berikutnya pada "
            "Senin (15/12).")
    assert own_date(body) is None  # the next meeting's
    body = ("Kendal – KPU menggelar rapat. Rapat membahas anggaran. Hadir pula Bawaslu. "
            "Rapat dibuka ketua. Peserta bertanya. Jawaban diberikan. Catatan dibuat. Notula "
            "dibacakan. Pleno ditutup Senin (15/12).")
    assert own_date(body) is None  # the ninth sentence: too far
    body = "Kendal – KPU menggelar rapat. Pleno akan digelar pada Senin (15/12) di aula."
    assert own_date(body) is None


def test_a_date_in_the_sentences_after_the_opening_ones_when_those_have_none() -> None:
    body = ("Kupang – KPU mengikuti peluncuran hari dan tanggal pemungutan suara Pemilu 2024, "
            "yaitu Rabu, 14 Februari 2024. Kegiatan diikuti seluruh jajaran. Acara disiarkan "
            "daring. Peluncuran digelar KPU RI di Jakarta (14/02).")
    m = own_date(body)
    assert m is not None and (m.day, m.month, m.year, m.bracketed) == (14, 2, None, True)


def test_a_date_range_is_the_articles_date_only_when_nothing_else_is() -> None:
    m = own_date("Demak – Bimtek digelar 30-31 Maret 2023 di Semarang, Senin (3/4).")
    assert m is not None and (m.day, m.month, m.weekday) == (3, 4, 0)
    m = own_date("Magelang – Rapat berjalan sejak Senin hingga Jumat (27-31/12/2021).")
    assert m is not None and (m.day, m.month, m.year, m.span) == (27, 12, 2021, True)
    m = own_date("Gresik – Rapat berlangsung pada Senin – Rabu, 13 – 15 Maret 2023.")
    assert m is not None and (m.day, m.month, m.year, m.weekday) == (13, 3, 2023, None)


def test_a_cited_documents_date_is_not_the_articles() -> None:
    m = own_date("Demak – Mengacu pada Surat Edaran nomor 366/PL.02-SD/01/KPU/IV/2021 tanggal "
                 "21 April 2021 perihal pemutakhiran, KPU wajib menggelar rapat. Rapat "
                 "diselenggarakan pada tanggal 30 September 2021 di aula.")
    assert m is not None and (m.day, m.month, m.year) == (30, 9, 2021)


def test_a_page_whose_weekdays_point_to_2024_arriving_two_years_later() -> None:
    page = ["Rabu (18/12)", "Selasa (17/12)", "Senin (16/12)"]
    assert days(page, at("2026-12-02")) == [date(2024, 12, 18), date(2024, 12, 17),
                                            date(2024, 12, 16)]
    assert all(r.notes == () for r in resolve(page, at("2026-12-02")))


def test_a_page_across_a_year_boundary() -> None:
    page = ["Senin (5/1)", "Rabu (31/12)", "Senin (29/12)"]
    expected = [date(2026, 1, 5), date(2025, 12, 31), date(2025, 12, 29)]
    for arrival in ("2026-01-06", "2026-06-01", "2027-03-01"):
        assert days(page, at(arrival)) == expected


def test_a_written_year_outranks_the_weekdays() -> None:
    # 4 and 3 December fall on a Wednesday and a Tuesday in 2024, not in 2025: the year
    # written on the page still decides, and the weekdays are warnings.
    got = resolve(["Jumat (5/12/2025)", "Rabu (4/12)", "Selasa (3/12)"], at("2026-12-02"))
    assert [r.day for r in got] == [date(2025, 12, 5), date(2025, 12, 4), date(2025, 12, 3)]
    assert [len(r.notes) for r in got] == [0, 1, 1]
    assert got[0].explicit and not got[1].explicit


def test_a_written_year_anchors_the_page_for_years() -> None:
    page = ["Jumat (18/7/2025)", "Kamis (17/7)", "Rabu (9/7)"]
    for arrival in ("2025-07-19", "2026-12-02", "2029-01-01"):
        assert days(page, at(arrival)) == [date(2025, 7, 18), date(2025, 7, 17),
                                           date(2025, 7, 9)]


def test_a_weekday_typo_is_a_warning_and_never_moves_the_day() -> None:
    page = ["Kamis (5/12)", "Jumat (25/12)", "Kamis (4/12)", "Kamis (4/12)", "Selasa (2/12)"]
    got = resolve(page, at("2026-12-02"))
    assert [r.day for r in got] == [date(2025, 12, 5), date(2025, 12, 25), date(2025, 12, 4),
                                    date(2025, 12, 4), date(2025, 12, 2)]
    assert [bool(r.notes) for r in got] == [True, True, False, False, False]
    assert "does not match 2025-12-05, a Jumat; kept the date" in got[0].notes[0]


def test_a_typo_is_never_put_in_the_future() -> None:
    page = ["Kamis (5/12)", "Jumat (25/12)", "Kamis (4/12)"]
    assert days(page, at("2025-12-10")) == [date(2025, 12, 5), date(2024, 12, 25),
                                            date(2025, 12, 4)]


def test_a_year_typo_that_weekday_and_page_contradict_is_corrected() -> None:
    got = resolve(["Jumat, 22 Agustus 2024", "Kamis, 21 Agustus 2025"], at("2025-10-01"))
    assert [r.day for r in got] == [date(2025, 8, 22), date(2025, 8, 21)]
    assert "disagrees with its weekday" in got[0].notes[0]


def test_a_page_listed_oldest_first_is_read_bottom_up() -> None:
    page = ["Senin (29/12)", "Rabu (31/12)", "Senin (5/1)"]
    assert days(page, at("2026-03-01")) == [date(2025, 12, 29), date(2025, 12, 31),
                                            date(2026, 1, 5)]


def test_without_weekdays_or_years_the_most_recent_year_wins() -> None:
    assert days(["(2/12)", "(1/12)"], at("2026-03-01")) == [date(2025, 12, 2),
                                                            date(2025, 12, 1)]
    assert days(["(2/12)"], at("2025-12-01")) == [date(2025, 12, 2)]  # within tolerance


def test_impossible_dates_are_reported() -> None:
    (got,) = resolve(["Senin (31/2)"], at("2026-01-10"))
    assert got.day is None and "does not exist" in got.notes[0]


def test_leap_day_finds_a_leap_year() -> None:
    assert days(["Kamis (29/2)"], at("2026-01-10")) == [date(2024, 2, 29)]


def sample_dates(received: datetime) -> list[date]:
    return [a.published.date()
            for name in ("kpu-semarang-dec.txt", "kpu-semarang-jul.txt")
            for a in parse((SAMPLES / name).read_bytes(),
                           Context(path=name, received=received)).articles]


SAMPLE_DATES = [date(2025, 12, d) for d in (5, 25, 4, 4, 4, 2)] + [
    date(2025, 7, d) for d in (18, 17, 15, 14, 9, 9)]


def test_the_samples_get_the_same_twelve_dates_on_every_day_of_a_year() -> None:
    first = at("2025-12-26")
    for offset in range(365):
        assert sample_dates(first + timedelta(days=offset)) == SAMPLE_DATES, offset


@pytest.mark.parametrize("arrival", ["2025-12-26", "2026-12-02", "2027-06-01"])
def test_the_readmes_worked_examples(arrival: str) -> None:
    assert sample_dates(at(arrival)) == SAMPLE_DATES


@st.composite
def written_pages(draw: st.DrawFn) -> tuple[list[str], list[date], datetime]:
    """A page as an office writes it: newest first, every weekday right, no year; and an
    arrival from the next day to four years on."""
    newest = draw(st.dates(date(2016, 1, 1), date(2030, 12, 31)))
    gaps = draw(st.lists(st.integers(0, 30), max_size=7))
    truth = [newest]
    for gap in gaps:
        truth.append(truth[-1] - timedelta(days=gap))
    late = draw(st.integers(0, 4 * 365))
    received = datetime.combine(newest + timedelta(days=late), datetime.min.time(), JAKARTA)
    texts = [f"{WEEKDAY_NAMES[d.weekday()]} ({d.day}/{d.month})" for d in truth]
    return texts, truth, received


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(written_pages())
def test_a_page_with_right_weekdays_gets_its_dates_whenever_it_arrives(
        page: tuple[list[str], list[date], datetime]) -> None:
    texts, truth, received = page
    assert days(texts, received) == truth


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.integers(1, 31), st.integers(1, 12),
                          st.sampled_from([None, *WEEKDAY_NAMES])), min_size=1, max_size=8),
       st.dates(date(2001, 1, 1), date(2090, 1, 1)))
def test_inferred_dates_keep_their_day_and_month_and_never_lie_in_the_future(
        written: list[tuple[int, int, str | None]], arrival: date) -> None:
    texts = [f"{weekday or ''} ({day}/{month})".strip() for day, month, weekday in written]
    received = datetime.combine(arrival, datetime.min.time(), JAKARTA)
    for (day, month, _), got in zip(written, resolve(texts, received), strict=True):
        if got.day is not None:
            assert (got.day.day, got.day.month) == (day, month)
            assert got.day <= (received + TOLERANCE).date()


def test_a_year_typo_is_corrected_by_the_arrival_or_the_future() -> None:
    # 5 April fell on a Wednesday in 2023, not 2013; the page came in April 2023.
    (got,) = resolve(["Rabu, 5 April 2013"], at("2023-04-08"))
    assert got.day == date(2023, 4, 5) and "disagrees with its weekday" in got.notes[0]
    # A written year in the future, whose weekday fits this year: not an embargo.
    (got,) = resolve(["Senin (27/10/2028)"], at("2025-10-30"))
    assert got.day == date(2025, 10, 27)


def test_a_weekday_typo_never_moves_a_written_year() -> None:
    # 13 July 2025 was a Sunday; 2020's was a Monday, one digit away: the weekday is wrong.
    (got,) = resolve(["Senin (13/7/2025)"], at("2025-07-16"))
    assert got.day == date(2025, 7, 13) and "does not match" in got.notes[0]


def test_a_date_written_as_yesterday_dates_the_article_the_day_after() -> None:
    (got,) = resolve(["Sumenep – Setelah kemarin (Kamis, 29 September 2022) KPU mengisi "
                      "materi di SMP, KPU kembali hadir di SMA."], at("2022-10-03"))
    assert got.day == date(2022, 9, 30) and got.notes == ()


# Text full of dates and near-dates, to put find_dates' shortcut (trying the pattern only
# near runs of digits) to the test against a plain search.
NOISE = [" ", "   ", "\u00a0", "\t", "\n", ",", "(", ")", "/", ".", "-", "'", "1", "123",
         "20252025", "x", "a", "K", "tanggal", "Kamis", "pada", "s.d.", "hingga", " " * 45]
dates_and_noise = st.lists(st.one_of(
    st.tuples(
        st.sampled_from(["", "Kamis", "KAMIS", "jumat", "Jum'at", "Jum’at", "selasa", "Minggu",
                         "rabu", "ahad", "senin pagi", "x"]),
        st.lists(st.sampled_from([" ", "  ", ",", "(", "\t", "\u00a0"]), max_size=3)
        .map("".join),
        st.sampled_from(["1", "4", "12", "31", "123", "27-31", "13 – 15"]),
        st.sampled_from([" ", "  ", "/", ".", "-", " / ", "\n"]),
        st.sampled_from(["12", "7", "Desember", "des", "SEPT", "mei", "May", "x"]),
        st.sampled_from(["", "/2025", " 2025", "/25", ". 2025", " 20250", "x"]),
        st.sampled_from(["", ")", " )", "x"]),
    ).map("".join),
    st.sampled_from(NOISE),
), max_size=14).map("".join)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(dates_and_noise)
def test_find_dates_finds_what_a_plain_search_finds(text: str) -> None:
    plain = list(dates._DATE.finditer(text.lower()))
    quick = list(dates._near_digits(text.lower()))
    assert [(m.span(), m.group()) for m in quick] == [(m.span(), m.group()) for m in plain]


def _dates_of(text: str) -> list[date]:
    ctx = Context(path="page.txt", received=datetime(2025, 8, 1, 9, tzinfo=JAKARTA))
    return [a.published.date() for a in parse(text.encode(), ctx).articles]


def test_a_date_in_the_dateline_itself_is_the_articles() -> None:
    """The first sentence may name the day of what the article reports; the date written
    in the dateline ("Makassar, 24 Juli 2025 - ") is when it was published."""
    page = ("Paparan Anggaran di Hadapan BPK\n\nMakassar, 24 Juli 2025 - Sehari sesudah entry "
            "meeting, tepatnya Rabu, 23 Juli 2025, KPU Kota Makassar memaparkan anggaran. "
            "(Humas KPU Kota Makassar)\n")
    assert _dates_of(page) == [date(2025, 7, 24)]


def test_a_date_with_a_garbled_year_is_no_evidence() -> None:
    """ "24 Mei 20201" (a typo'd year, an earlier meeting): the article's own date is the
    one with a weekday further on, as if the garbled one were not there."""
    assert dates.find_dates("pada 24 Mei 20201 jumlah") == []
    assert [m.year for m in dates.find_dates("pada 24 Mei 2021 10.00 WIB")] == [2021]
    page = ("Daftar Pemilih Bertambah\n\nKPU Sumut-Medan. Jumlah pemilih bertambah 30.451 "
            "orang. Sebelumnya, dalam rakor pada 24 Mei 20201 jumlah pemilih ditetapkan "
            "9.794.296. Hari ini, Kamis (10/6) melalui rapat pleno, DPB ditetapkan 9.824.747 "
            "pemilih pada periode Mei 2021. (hms)\n")
    assert _dates_of(page) == [date(2021, 6, 10)]
