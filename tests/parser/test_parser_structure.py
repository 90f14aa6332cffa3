"""How a copied page splits into articles: datelines, chrome, credits, bylines, single
articles one paragraph per line, and the warnings that name what was ambiguous."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from feeder.errors import ParseError
from feeder.ingest import Ingestor
from feeder.parser import Context, Parsed, parse
from feeder.parser.credits import find_credit
from feeder.parser.dateline import find_dateline
from feeder.store import Store
from tests.support import ARRIVAL


def read(text: str, path: str = "page.txt") -> Parsed:
    return parse(text.encode(), Context(path=path, received=ARRIVAL))


@pytest.mark.parametrize(("opening", "place", "site"), [
    ("Semarang, kota-semarang.kpu.go.id – ", "Semarang", "kota-semarang.kpu.go.id"),
    ("Kendal – ", "Kendal", None),
    ("KENDAL — ", "KENDAL", None),
    ("Semarang— ", "Semarang", None),
    ("Jakarta - ", "Jakarta", None),
    ("Kendal, kab-kendal.kpu.go.id - ", "Kendal", "kab-kendal.kpu.go.id"),
    ("Semarang, 1 Desember 2025- ", "Semarang", None),
    ("Demak (1/12) - ", "Demak", None),
    ("Sleman (13/09) - ", "Sleman", None),
    ("Kab-jepara.kpu.go.id – ", None, "kab-jepara.kpu.go.id"),
    ("Brebes Rabu (6/10), ", "Brebes", None),
    ("Magelang, kota-magelang. kpu.go.id. ", "Magelang", "kota-magelang.kpu.go.id"),
    ("KOTA MUNGKID_ ", "KOTA MUNGKID", None),
])
def test_dateline_forms(opening: str, place: str | None, site: str | None) -> None:
    found = find_dateline(opening + "KPU Kabupaten menggelar rapat pleno terbuka.")
    assert found is not None and (found.place, found.site) == (place, site)


@pytest.mark.parametrize("text", [
    "KPU Kabupaten Kendal menggelar rapat pada 1 - 3 Desember di aula.",
    "Rapat pleno – yang digelar kemarin – berjalan lancar.",
    "Dalam rangka sosialisasi, KPU hadir - bersama Bawaslu.",
])
def test_sentences_with_dashes_are_not_datelines(text: str) -> None:
    assert find_dateline(text) is None


@pytest.mark.parametrize(("tail", "author", "photo"), [
    ("(ana/ed. Foto: awh/KPU Kota Semarang)", "ana", "awh/KPU Kota Semarang"),
    ("(rhd/ed: Foto rap/KPU Kota Semarang)", "rhd", "rap/KPU Kota Semarang"),
    ("(ana, ed. Foto: dok KPU)", "ana", "dok KPU"),
    ("(HumasKPUKendal)", "HumasKPUKendal", None),
    ("(HumasKPUKendal/NMI)", "NMI", None),
    ("(Tim)", "Tim", None),
    ("(Humas KPU RI)", "Humas KPU RI", None),
    ("(syp_ed sks)", "syp", None),
    ("(SHD-Red)", "SHD", None),
    ("(MC Batang, Jateng/Roza/Jumadi)", "Roza", None),
    ("[Humas KPU Kota Palu, cml/ft andika/ed rudy]", "cml", "andika"),
    ("(humas/Gresik)", "humas/Gresik", None),
    ("(***/RED)", "RED", None),
    ("(*) #KPUBrebes #KPUMelayani", None, None),
])
def test_credit_forms(tail: str, author: str | None, photo: str | None) -> None:
    credit = find_credit(f"Kegiatan berjalan lancar. {tail}")
    assert credit is not None and (credit.author, credit.photo) == (author, photo)


def test_a_closing_parenthetical_is_not_a_credit() -> None:
    assert find_credit("Rapat digelar di aula (lantai 2)") is None
    assert find_credit("Rapat dihadiri Bawaslu (Badan Pengawas Pemilu)") is None


LISTING = """Berita Terkini

75

KPU Kendal Gelar Rapat Pleno Daftar Pemilih

KENDAL — KPU Kabupaten Kendal menggelar rapat pleno rekapitulasi daftar pemilih, Senin \
(1/12). Rapat dihadiri Bawaslu dan partai politik. (HumasKPUKendal/NMI)


Selengkapnya »
100

Sosialisasi Pemilih Pemula di SMA 1 Kendal

Kendal - KPU Kendal menyapa pemilih pemula di SMA 1 Kendal, Jumat (28/11). Siswa antusias \
bertanya tentang cek DPT online.
Bagikan: Facebook Twitter WhatsApp
Telah dilihat 706 kali

Rapat Koordinasi Tanpa Dateline

Senin, 24 November 2025 | Dibaca 123 kali

KPU Kendal menggelar rapat koordinasi persiapan pemilu dengan pemerintah daerah. Rapat \
membahas anggaran. (Tim)

Berita Populer
Judul Lain Yang Populer
Judul Lain Lagi
© 2025 KPU Kabupaten Kendal"""


def test_a_listing_splits_into_its_articles_and_drops_its_chrome() -> None:
    parsed = read(LISTING)
    got = [(a.title, a.published.date().isoformat(), a.author) for a in parsed.articles]
    assert got == [
        ("KPU Kendal Gelar Rapat Pleno Daftar Pemilih", "2025-12-01", "NMI"),
        ("Sosialisasi Pemilih Pemula di SMA 1 Kendal", "2025-11-28", None),
        ("Rapat Koordinasi Tanpa Dateline", "2025-11-24", "Tim"),
    ]
    for article in parsed.articles:
        for chrome in ("Selengkapnya", "Bagikan", "dilihat", "Dibaca", "Populer", "©",
                       "Berita Terkini", ">75<", ">100<"):
            assert chrome not in article.content_html, (article.title, chrome)
    assert parsed.articles[0].place == "KENDAL"


def test_single_article_copied_one_paragraph_per_line() -> None:
    text = ("KPU Dan SMAN 1 Kendal Siapkan Gen Z Sebagai Pemilih Cerdas\n"
            "Senin, 1 Desember 2025 14:30 WIB\n"
            "Penulis: Budi Santoso\n"
            + "Kendal — KPU Kabupaten Kendal menggelar sosialisasi pendidikan pemilih bagi "
            "siswa. " * 6 + "\n"
            "Acara dibuka anggota KPU Kabupaten Kendal. Narasumber memaparkan materi.\n"
            "Editor: Ana\n")
    parsed = read(text, "artikel.txt")
    (article,) = parsed.articles
    assert article.title == "KPU Dan SMAN 1 Kendal Siapkan Gen Z Sebagai Pemilih Cerdas"
    assert article.published.isoformat() == "2025-12-01T14:30:00+07:00"
    assert article.author == "Budi Santoso"
    assert article.content_html.count("<p>") == 2
    assert "Penulis" not in article.content_html and "Editor" not in article.content_html


def test_a_wrapped_paragraph_is_joined_not_taken_for_titles() -> None:
    parsed = read("Rapat Pleno\n\nParagraf satu\nberlanjut.\n\nParagraf dua.")
    (article,) = parsed.articles
    assert article.title == "Rapat Pleno"
    assert article.content_html == "<p>Paragraf satu berlanjut.</p><p>Paragraf dua.</p>"


def test_a_subheading_stays_in_its_article_with_a_warning() -> None:
    text = ("Judul Utama Rapat Pleno\n\nKendal – KPU menggelar rapat pleno, Senin (1/12). "
            "Rapat berjalan lancar.\nHasil Rapat Pleno\nRapat menetapkan jumlah pemilih "
            "sebanyak 828.899 jiwa.")
    parsed = read(text)
    (article,) = parsed.articles
    assert "<p>Hasil Rapat Pleno</p>" in article.content_html
    assert any(p.line == 4 and "look like titles" in p.message for p in parsed.problems)


def test_the_page_heading_is_never_a_title_and_page_text_never_one_blob() -> None:
    first = ("KPU Kabupaten Bantul pada hari Sabtu (24/6/2023) menyerahkan hasil verifikasi "
             "administrasi. " * 4)
    text = ("Berita KPU BANTUL\n\nKPU BANTUL SERAHKAN HASIL VERMIN\n\n" + first
            + "\n\nKPU BANTUL ADAKAN FGD PEMUNGUTAN SUARA\n\nKPU Kabupaten Bantul pada hari "
            "Kamis (22/6/2023) menggelar diskusi kelompok terpumpun.")
    parsed = read(text)
    assert [a.title for a in parsed.articles] == ["KPU BANTUL SERAHKAN HASIL VERMIN",
                                                  "KPU BANTUL ADAKAN FGD PEMUNGUTAN SUARA"]
    assert any(p.line == 1 and "heading" in p.message for p in parsed.problems)


def test_a_title_cut_off_at_the_end_of_a_page_is_dropped_with_a_warning() -> None:
    parsed = read(LISTING.split("Berita Populer")[0] + "Judul Terpotong Di Akhir Halaman")
    assert len(parsed.articles) == 3
    assert any("no text after it" in p.message for p in parsed.problems)


def test_a_file_of_chrome_only_is_rejected() -> None:
    with pytest.raises(ParseError, match="no article found"):
        read("Berita Terkini\n\n75\n\nSelengkapnya »\n\n© 2025 KPU")


def test_different_pages_never_share_an_identity(
        config: object, store: Store, drop: Callable[..., Path]) -> None:
    """Five pages of two articles each, no dateline on any: ten entries, none merged."""
    for n in range(5):
        page = "\n\n".join(
            ["Berita Terkini", *(f"Kegiatan KPU Nomor {n}{k} Berjalan Lancar\n\nKPU Kabupaten "
                                 f"menggelar kegiatan ke-{n}{k} pada Senin ({k + 1}/12). "
                                 "Kegiatan berjalan lancar dan tertib. (Tim)"
                                 for k in range(2))])
        drop(f"halaman-{n}.txt", page)
    changes = Ingestor(store, config).scan()  # type: ignore[arg-type]
    assert (changes.added, store.count()) == (10, 10)


@pytest.mark.parametrize(("tail", "author"), [
    ("Acara berjalan optimal.(Humas/KPU Polewali Mandar).", "Humas"),
    ("Siswa antusias. (Kontributor : Heru/Editor: Adi Tri H / foto: Farid).", "Heru"),
    ("Rapat selesai. (*/red/ZD)", "ZD"),
    ("Rapat selesai. (RM.dkk)", "RM.dkk"),
    ("Rapat selesai. [FG | Media Center KIP Aceh]", "FG"),
    ("Rapat ditutup. (humasKPUKotaKendari:Sr/foto:Dm)", "Sr"),
    ("Rapat ditutup. (Humas KPU Kota Kendari: Sr)", "Sr"),
])
def test_more_credit_forms(tail: str, author: str) -> None:
    credit = find_credit(tail)
    assert credit is not None and credit.author == author


def test_a_bracket_closing_a_sentence_is_not_a_credit() -> None:
    assert find_credit("Pemilu Lokal meliputi (Pemilihan Kepala Daerah, serta DPRD Provinsi "
                       "dan Kab/Kota).") is None


def test_a_listing_without_credits_or_chrome_splits_on_its_rhythm() -> None:
    body = "Isi berita yang panjang tanpa tanggal dan tanpa kredit apa pun. " * 6
    text = "\n\n".join(["Berita Terkini", "Judul Pertama Di Halaman", body.strip(),
                        "Judul kedua tanpa huruf besar", body.strip(),
                        "judul ketiga juga kecil", body.strip()])
    assert [a.title for a in read(text).articles] == [
        "Judul Pertama Di Halaman", "Judul kedua tanpa huruf besar", "judul ketiga juga kecil"]


def test_skip_links_and_escapes_a_broken_copy_left_are_chrome() -> None:
    text = ("Lompat ke isi utama\n\nJudul Berita Bawaslu\n\\n\n\nBANJARMASIN - Rabu (11/3/2020), "
            "Bawaslu menggelar rapat koordinasi.\n\\n\\n\\n")
    (article,) = read(text).articles
    assert article.title == "Judul Berita Bawaslu"
    assert "\\n" not in article.content_html
