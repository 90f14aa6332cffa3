"""The two real sample pages, parsed as FORMAT.md describes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from feeder.errors import ParseError
from feeder.parser import Context, parse
from tests.support import ARRIVAL, DECEMBER, JAKARTA, JULY, SAMPLES


def parse_sample(name: str, received: datetime = ARRIVAL):  # type: ignore[no-untyped-def]
    return parse((SAMPLES / name).read_bytes(), Context(path=name, received=received))


@pytest.mark.parametrize(("name", "expected"), [("kpu-semarang-dec.txt", DECEMBER),
                                                 ("kpu-semarang-jul.txt", JULY)])
def test_sample_page_yields_its_six_articles(name: str, expected: list[tuple]) -> None:  # type: ignore[type-arg]
    parsed = parse_sample(name)
    got = [(a.title, a.published.date().isoformat(), a.author, a.photo_credit,
            a.content_html.count("<p>")) for a in parsed.articles]
    assert got == expected


def test_every_sample_article_carries_place_source_and_zone() -> None:
    for name in ("kpu-semarang-dec.txt", "kpu-semarang-jul.txt"):
        for article in parse_sample(name).articles:
            assert article.place == "Semarang"
            assert article.source == "kota-semarang.kpu.go.id"
            assert article.published.utcoffset() == timedelta(hours=7)
            assert article.summary and "<" not in article.summary


def test_page_order_is_kept_within_a_day() -> None:
    articles = parse_sample("kpu-semarang-dec.txt").articles
    same_day = [a for a in articles if a.published.date() == date(2025, 12, 4)]
    assert [a.author for a in same_day] == ["rza", "ayu", "awh"]
    assert same_day[0].published > same_day[1].published > same_day[2].published


def test_december_mismatched_weekdays_and_typos_are_reported() -> None:
    messages = [(p.line, p.message) for p in parse_sample("kpu-semarang-dec.txt").problems]
    assert any(line == 5 and "'Kamis (5/12)'" in m and "Jumat" in m for line, m in messages)
    assert any(line == 9 and "'Jumat (25/12)'" in m for line, m in messages)
    assert any(line == 9 and "newest first" in m for line, m in messages)
    assert any(line == 17 and "closing parenthesis" in m for line, m in messages)


def test_july_page_is_all_2025_and_clean_even_when_read_years_later() -> None:
    later = datetime(2027, 9, 1, tzinfo=JAKARTA)
    parsed = parse_sample("kpu-semarang-jul.txt", received=later)
    assert {a.published.year for a in parsed.articles} == {2025}
    assert parsed.problems == []


def test_paragraphs_split_at_no_break_space_pairs_only() -> None:
    article = parse_sample("kpu-semarang-dec.txt").articles[0]
    assert article.content_html.startswith("<p>Semarang, kota-semarang.kpu.go.id – Komisi")
    assert 'informasi.</p><p>"Seringkali' in article.content_html
    assert "\u00a0" not in article.content_html


def test_text_is_escaped_not_interpreted() -> None:
    article = parse_sample("kpu-semarang-jul.txt").articles[-1]
    assert article.title.endswith("Adaptif & Berintegritas")


def test_same_page_parses_to_the_same_keys_every_time() -> None:
    first = [a.key for a in parse_sample("kpu-semarang-dec.txt").articles]
    again = [a.key for a in parse_sample("kpu-semarang-dec.txt",
                                         received=ARRIVAL + timedelta(days=20)).articles]
    assert first == again
    assert len(set(first)) == 6


PAGE = """Berita Terkini

Rapat Pleno Terbuka

Kendal, kab-kendal.kpu.go.id - KPU Kabupaten Kendal menggelar rapat pleno, Senin, \
3 Maret 2025. Rapat berjalan lancar. (bud/ed. Foto: dok KPU Kendal)

Sosialisasi Pemilih Pemula

Kendal, kab-kendal.kpu.go.id — Sosialisasi digelar Jumat (28/2) di SMA 1. Peserta antusias.
"""


def test_other_offices_dashes_and_named_month_dates() -> None:
    parsed = parse(PAGE.encode(), Context(path="kendal.txt", received=ARRIVAL))
    first, second = parsed.articles
    assert (first.source, first.place, first.published.date()) == (
        "kab-kendal.kpu.go.id", "Kendal", date(2025, 3, 3))
    assert (first.author, first.photo_credit) == ("bud", "dok KPU Kendal")
    # The anchor (3 March 2025, written with its year) picks 2025 for the yearless date.
    assert second.published.date() == date(2025, 2, 28)
    assert second.author is None
    assert any("no credit tail" in p.message for p in parsed.problems)


def test_article_without_a_date_falls_back_to_arrival_with_a_warning() -> None:
    text = "Judul\n\nSemarang, kota-semarang.kpu.go.id – Tanpa tanggal. (ana/ed. Foto: x)"
    parsed = parse(text.encode(), Context(path="x.txt", received=ARRIVAL))
    assert parsed.articles[0].published.date() == ARRIVAL.date()
    assert any("no usable date" in p.message and p.line == 3 for p in parsed.problems)


@pytest.mark.parametrize("content", [b"", b"   \n\n\t \n"])
def test_empty_files_are_rejected(content: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(content, Context(path="empty.txt", received=ARRIVAL))
