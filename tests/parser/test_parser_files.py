"""Single articles (plain text and Markdown) and the encodings files arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeder.errors import ParseError
from feeder.parser import Context, parse
from tests.support import ARRIVAL


def ctx(path: str, source: str = "local") -> Context:
    return Context(path=path, received=ARRIVAL, source=source)


def test_plain_text_article_takes_first_line_as_title() -> None:
    parsed = parse(b"Rapat Pleno\n\nParagraf satu\nberlanjut.\n\nParagraf dua.", ctx("a.txt"))
    (article,) = parsed.articles
    assert article.title == "Rapat Pleno"
    assert article.content_html == "<p>Paragraf satu berlanjut.</p><p>Paragraf dua.</p>"
    assert article.published == ARRIVAL
    assert parsed.problems == []


def test_plain_text_key_ignores_file_name_and_arrival() -> None:
    one = parse(b"Rapat Pleno\n\nIsi.", ctx("a.txt")).articles[0]
    two = parse(b"Rapat  pleno!\n\nIsi lain.", Context(
        path="b.txt", received=ARRIVAL + timedelta(days=3))).articles[0]
    assert one.key == two.key


MARKDOWN = """---
title: "Jadwal Pemilu & Pilkada"
date: 2025-08-01T10:30:00+07:00
author: Ana Lestari
tags: [Pemilu, Jadwal]
summary: Ringkasan singkat.
slug: jadwal-pemilu
---
Isi dengan **tebal** dan <script>alert(1)</script> [tautan](https://kpu.go.id/).
"""


def test_markdown_front_matter_becomes_the_article() -> None:
    (article,) = parse(MARKDOWN.encode(), ctx("news/jadwal.md", source="news")).articles
    assert article.title == "Jadwal Pemilu & Pilkada"
    assert article.published == datetime(2025, 8, 1, 3, 30, tzinfo=UTC)
    assert (article.author, article.tags, article.summary) == (
        "Ana Lestari", ("Pemilu", "Jadwal"), "Ringkasan singkat.")
    assert article.key == "news/jadwal-pemilu"
    assert article.slug == "jadwal-pemilu"
    assert "<strong>tebal</strong>" in article.content_html
    assert "<script" not in article.content_html
    assert 'href="https://kpu.go.id/"' in article.content_html


def test_markdown_explicit_id_wins_and_naive_dates_take_the_zone() -> None:
    text = "---\nid: pengumuman-42\ntitle: T\ndate: 2025-08-01 10:00\n---\nIsi."
    (article,) = parse(text.encode(), ctx("x.md")).articles
    assert article.key == "id:pengumuman-42"
    assert article.published.isoformat() == "2025-08-01T10:00:00+07:00"


def test_markdown_without_front_matter_uses_heading() -> None:
    (article,) = parse(b"# Judul Besar\n\nIsi.", ctx("x.md")).articles
    assert article.title == "Judul Besar"


def test_markdown_unknown_keys_and_bad_dates_are_warnings() -> None:
    text = "---\ntitle: T\ndate: kemarin\ncolour: red\n---\nIsi."
    parsed = parse(text.encode(), ctx("x.md"))
    messages = " | ".join(p.message for p in parsed.problems)
    assert "'colour' is not known" in messages and "not an ISO date" in messages
    assert parsed.articles[0].published == ARRIVAL


@pytest.mark.parametrize(("text", "reason"), [
    ("---\ntitle: [unclosed\n---\nIsi.", "not valid YAML"),
    ("---\n- a\n- b\n---\nIsi.", "must be a mapping"),
    ("---\nauthor: x\n---\nno heading here", "no title"),
    ("---\ntitle: !!python/object/apply:os.system ['true']\n---\nx", "not valid YAML"),
])
def test_bad_markdown_is_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(text.encode(), ctx("x.md"))


def test_unsupported_file_type_is_rejected() -> None:
    with pytest.raises(ParseError, match=r"unsupported file type '\.pdf'"):
        parse(b"%PDF-1.4", ctx("x.pdf"))


TEXT = "Berita Café\n\nHarga naik – “kata” warga."


@pytest.mark.parametrize("encoded", [
    TEXT.encode("utf-8"),
    b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
    TEXT.replace("\n", "\r\n").encode("utf-8"),
    TEXT.replace("\n", "\r").encode("utf-8"),
    TEXT.encode("utf-16"),
])
def test_unicode_encodings_and_line_ends_read_cleanly(encoded: bytes) -> None:
    parsed = parse(encoded, ctx("x.txt"))
    assert parsed.articles[0].title == "Berita Café"
    assert "“kata”" in parsed.articles[0].content_html
    assert parsed.problems == []


def test_windows_1252_is_read_with_a_warning() -> None:
    parsed = parse(TEXT.encode("cp1252"), ctx("x.txt"))
    assert parsed.articles[0].title == "Berita Café"
    assert "“kata”" in parsed.articles[0].content_html
    assert [p.message for p in parsed.problems] == [
        "not valid UTF-8 (first bad byte here); read as Windows-1252"]
    assert parsed.problems[0].line == 1


def test_latin1_only_bytes_fall_back_to_latin1() -> None:
    parsed = parse("Judul\n\nNilai \x81 aneh é".encode("latin-1"), ctx("x.txt"))
    assert "read as Latin-1" in parsed.problems[0].message
    assert "é" in parsed.articles[0].content_html


def test_binary_files_are_rejected() -> None:
    with pytest.raises(ParseError, match="binary"):
        parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ctx("x.txt"))


def test_control_characters_are_removed_and_reported() -> None:
    parsed = parse(b"Judul\x07\n\nIsi\x01 bersih\x1b.", ctx("x.txt"))
    assert parsed.articles[0].title == "Judul"
    assert "Isi bersih." in parsed.articles[0].content_html
    assert "control character" in parsed.problems[0].message
