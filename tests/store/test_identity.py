"""Which versions are one article: corrections keep their entry, near misses stay apart."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.store.identity import (
    SAME_TEXT,
    TYPO_TEXT,
    Version,
    match,
    same_article,
    text_similarity,
    words,
)

BODY = ("KPU Kota Semarang menggelar rapat pleno rekapitulasi daftar pemilih berkelanjutan "
        "triwulan ketiga di aula kantor, dihadiri Bawaslu, partai politik dan Disdukcapil. "
        "Jumlah pemilih yang ditetapkan sebanyak 1.235.410 orang, terdiri atas 604.112 "
        "laki-laki dan 631.298 perempuan. Ketua KPU mengajak warga melapor bila ada anggota "
        "keluarga yang pindah atau meninggal dunia.")


@pytest.mark.parametrize(("before", "after"), [
    ("Sosialisasi Prmilih Pemula di SMA 1", "Sosialisasi Pemilih Pemula di SMA 1"),
    ("KPU Kendal Gelar Rapat Plenno", "KPU Kendal Gelar Rapat Pleno"),
    ("Rapat Koordinasi dengan Disdukcapil", "Rapat Koordinasi Dengan Disdukcapil!"),
])
def test_a_typo_fixed_in_a_title_is_the_same_article(before: str, after: str) -> None:
    assert same_article(Version(title=before, text=BODY), Version(title=after, text=BODY))
    # ... even when the text changed too (a figure corrected at the same time)
    assert same_article(Version(title=before, text=BODY),
                        Version(title=after, text=BODY.replace("604.112", "604.121")))


def test_a_reworded_title_over_the_same_text_is_the_same_article() -> None:
    assert same_article(
        Version(title="KPU Gelar Pleno DPB Triwulan III", text=BODY),
        Version(title="Pleno Rekapitulasi Daftar Pemilih Triwulan III Digelar", text=BODY))


def test_a_corrected_figure_or_name_keeps_the_article() -> None:
    corrected = BODY.replace("1.235.410", "1.235.401").replace("Disdukcapil", "Dukcapil")
    assert same_article(Version(title="Pleno DPB", text=BODY),
                        Version(title="Pleno DPB", text=corrected))


@pytest.mark.parametrize(("one", "other"), [
    ("Rapat Pleno DPB Triwulan III", "Rapat Pleno DPB Triwulan IV"),
    ("KPU Kota Semarang Gelar Rapat Pleno", "KPU Kabupaten Semarang Gelar Rapat Pleno"),
    ("Rekapitulasi Pemilih Tahun 2024", "Rekapitulasi Pemilih Tahun 2025"),
    ("Bimtek PPK Gelombang 1", "Bimtek PPK Gelombang 2"),
])
def test_articles_of_a_series_stay_apart_even_with_the_same_text(one: str, other: str) -> None:
    assert not same_article(Version(title=one, text=BODY), Version(title=other, text=BODY))


def test_a_follow_up_on_the_same_event_is_another_article() -> None:
    follow_up = ("Hasil rapat pleno rekapitulasi daftar pemilih diserahkan kepada partai "
                 "politik dan Bawaslu. Salinan berita acara dapat diminta di kantor KPU "
                 "selama jam kerja, kata ketua KPU kepada wartawan.")
    assert not same_article(
        Version(title="KPU Kota Semarang Gelar Rapat Pleno DPB", text=BODY),
        Version(title="Hasil Rapat Pleno DPB Diserahkan ke Partai Politik", text=follow_up))
    assert text_similarity(BODY, follow_up) < 0.5


def test_a_saved_page_is_matched_by_position_then_by_likeness() -> None:
    before = [Version(title="Rapat Pleno Triwulan III", text=BODY),
              Version(title="Sosialisasi Prmilih Pemula", text="Sosialisasi di SMA 1 Kendal.")]
    after = [Version(title="Berita Baru Hari Ini", text="Sama sekali lain isinya."),
             Version(title="Rapat Pleno Triwulan III", text=BODY),
             Version(title="Sosialisasi Pemilih Pemula", text="Sosialisasi di SMA 1 Kendal.")]
    assert match(before, after) == {1: 0, 2: 1}


def test_short_notes_with_the_same_text_are_not_one_article() -> None:
    """A reworded title over a text of a line: the texts are alike by chance."""
    assert not same_article(Version(title="Pengumuman Nanti", text="Isi."),
                            Version(title="Sekarang", text="Isi."))
    assert same_article(Version(title="Sekarang", text="Isi."),
                        Version(title="Sekarang!", text="Isi."))


def test_titles_without_words_are_told_apart_by_their_symbols() -> None:
    party, fire = Version(title="🎉 👩‍💻", text=BODY), Version(title="❤️ 🔥 ✨", text=BODY)
    assert not same_article(party, fire)
    assert same_article(party, Version(title="🎉  👩‍💻", text=BODY))


# Texts from a small vocabulary, so that pairs share many words, in and out of order.
texts = st.lists(st.sampled_from(["kpu", "rapat", "pleno", "dpt", "kota", "2025", "di", "dan"]),
                 max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_the_quick_bounds_never_part_texts_difflib_would_join(one: str, other: str) -> None:
    """The cheap bounds tried before difflib's matching only ever skip pairs below the
    threshold: the verdict is always the one difflib's ratio gives, at both thresholds."""
    ratio = difflib.SequenceMatcher(None, words(one), words(other), autojunk=False).ratio()
    assert same_article(Version(title="Pleno DPT", text=one),
                        Version(title="Pleno DPT", text=other)) == (
        ratio >= SAME_TEXT or not (words(one) and words(other)))
    assert same_article(Version(title="Pleno DPT", text=one),
                        Version(title="Pleno DPK", text=other), elsewhere=True) == (
        ratio >= TYPO_TEXT)
