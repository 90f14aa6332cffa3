"""What each line of a copied web page is: the article's text, the site's chrome, or a
meta line (a date, a byline) that belongs to an article without being part of its text.

The ~500 KPU offices share one CMS, so its chrome is one vocabulary (FORMAT.md lists what
copies carry): view counters, "Selengkapnya", "Baca juga", share rows, "Dibaca N kali",
pagination, sidebars such as "Berita Populer", footers. Other sites use the same words.
Only short lines are looked at: a line of article text is never chrome, however long.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from feeder.parser.dates import Mention, find_dates

CHROME_REACH = 160  # longer lines are text, never chrome or meta


class Kind(enum.Enum):
    TEXT = "text"
    CHROME = "chrome"  # dropped: counters, "Selengkapnya", share rows ...
    BREAK = "break"  # chrome that ends a listing's article: "Selengkapnya", a counter
    END = "end"  # a sidebar or footer: what follows is not the listing
    META = "meta"  # a date line or a byline: data for the article, not its text


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    kind: Kind
    gap_before: bool  # a blank line stands above it
    date: Mention | None = None  # a meta line's date
    byline: str | None = None  # a meta line's writer ("Penulis: …", "Oleh …")
    editor: bool = False  # an "Editor: …" line


def _full(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{pattern})\Z", re.IGNORECASE)


_COUNTER = (r"(?:telah\s+)?(?:dibaca|dilihat|views?|hits?|viewed)\s*:?\s*\d[\d.,]*\s*"
            r"(?:kali|x|times)?")
_BREAKS = _full("|".join([
    r"\d[\d.,]*",  # a view counter alone
    _COUNTER,
    r"\d[\d.,]*\s*(?:kali\s+)?(?:dibaca|dilihat|views?|hits?)",
    r"(?:baca\s+|lihat\s+)?selengkapnya\W*|read\s+more\W*|lanjut(?:kan)?\s+membaca\W*",
]))
_CHROME = _full("|".join([
    r"baca\s+(?:juga|pula)\b.*",
    r"(?:bagikan|share|sebarkan|bagikan\s+ke)\b.{0,80}",
    r"(?:(?:facebook|twitter|whatsapp|telegram|linkedin|e-?mail|instagram|youtube|tiktok|"
    r"line|pinterest|print|cetak|salin\s+tautan|copy\s+link|x)\b\W*){2,}",
    r"(?:halaman|page)\s+\d+\s+(?:dari|of)\s+\d+",
    r"[«‹<]*\s*(?:(?:first|prev(?:ious)?|sebelumnya|pertama|next|berikutnya|selanjutnya|"
    r"last|terakhir|\d+)\s*[»›>«‹<]*\s*){1,12}",
    r"(?:#[\w-]+[\s,]*)+",  # hashtags
    r"[?\s]*\?\?[?\s]*",  # emoji lost in the copy
    r"(?:tags?|label|kata\s+kunci|kategori|category|posted\s+in|diposting\s+(?:di|dalam))"
    r"\s*:.{0,120}",
    r"(?:berita|artikel)\s+terkini|beritaterkini",
    r"(?:lompat|langsung)\s+ke\s+(?:isi|konten)(?:\s+utama)?|skip\s+to\s+(?:main\s+)?content",
    r"(?:\\[nrt]|[\s\"'`.,:;*_=~+|/<>-])+",  # escapes and punctuation a broken copy left
]))
_END = _full("|".join([
    r"(?:berita|artikel|postingan|tulisan|info)\s+(?:populer|terpopuler|terbaru|terkait|"
    r"lainnya|lain|pilihan|sebelumnya)\s*:?",
    r"(?:arsip|tautan|link)(?:\s+(?:terkait|berita|lainnya))?\s*:?|statistik\s+pengunjung\s*:?",
    r"(?:©|\(c\)|copyright\b|hak\s+cipta\b).*",
    r"(?:ikuti\s+kami|media\s+sosial|hubungi\s+kami|kontak\s+kami|alamat\s+kantor)\s*:?",
]))
# "Penulis: Budi", "Pewarta : Ana", "Oleh MC KAB BATANG", "By kpukabpati".
_BYLINE = re.compile(r"(?:penulis|pewarta|reporter|wartawan|kontributor|ditulis\s+oleh|"
                     r"posted\s+by|diposting\s+oleh|oleh|by)\b\s*:?\s*(?P<name>.*)",
                     re.IGNORECASE)
_EDITOR = re.compile(r"(?:editor|redaktur|penyunting|penyelaras)\b\s*:?\s*.*", re.IGNORECASE)
_PHOTO = re.compile(r"(?:foto|fotografer|photo)\s*:\s*.+", re.IGNORECASE)
# What may stand beside the date of a date line: a time, its zone, separators, a counter.
_DATE_LINE_REST = re.compile(
    r"(?:\s|[|•·,:/–—-]|pukul|jam|wib|wita|wit|\d{1,2}[:.]\d{2}(?:[:.]\d{2})?|"
    r"admin(?:istrator)?|diposting|dipublikasikan|published|posted|" + _COUNTER + r")*"
    r"(?:(?:oleh|by|penulis)\s*:?\s*(?P<name>[\w.'’ -]{1,40}?))?\s*",
    re.IGNORECASE)
_BULLET = re.compile(r"[-•·*]\s+")
_NAME_END = re.compile(r"\s*(?:[,|]|\s[-–—]\s|\d{1,2}\s+\w+\s+\d{4}).*")


def classify(number: int, text: str, gap_before: bool) -> Line:
    """One non-blank line, stripped, as what it is."""
    if len(text) > CHROME_REACH:
        return Line(number, text, Kind.TEXT, gap_before)
    bare = _BULLET.sub("", text, count=1) if _BULLET.match(text) else text
    for pattern, kind in ((_BREAKS, Kind.BREAK), (_END, Kind.END), (_CHROME, Kind.CHROME)):
        if pattern.match(bare):
            return Line(number, text, kind, gap_before)
    if _EDITOR.fullmatch(bare):
        return Line(number, text, Kind.META, gap_before, editor=True)
    if _PHOTO.fullmatch(bare):
        return Line(number, text, Kind.META, gap_before)
    byline = _BYLINE.fullmatch(bare)
    if byline and _names_someone(bare, name := _NAME_END.sub("", byline["name"]).strip(" .:-")):
        dates = find_dates(bare)
        return Line(number, text, Kind.META, gap_before, date=dates[0] if dates else None,
                    byline=name)
    dated = _date_line(bare)
    if dated is not None:
        return Line(number, text, Kind.META, gap_before, date=dated[0], byline=dated[1])
    return Line(number, text, Kind.TEXT, gap_before)


def _names_someone(line: str, name: str) -> bool:
    """Whether a line opening like a byline gives a name: "Oleh karena itu, …" does not."""
    if not 0 < len(name) <= 60 or len(name.split()) > 6 or ends_sentence(line):
        return False
    keyword = line.split(None, 1)[0].lower()
    return keyword not in ("oleh", "by") or name[0].isupper() or len(line.split()) <= 3


def _date_line(text: str) -> tuple[Mention, str | None] | None:
    """The date (and writer) of a line that is a date and nothing more: a time, "| Dibaca
    5 kali", "| By kpukabpati"."""
    dates = find_dates(text)
    if len(dates) != 1:
        return None
    date = dates[0]
    rest = _DATE_LINE_REST.fullmatch(text[:date.offset] + " "
                                     + text[date.offset + len(date.text):])
    return (date, rest["name"]) if rest else None


# Title lines: short, no sentence inside, not ending as a clause does.
TITLE_REACH = 250
# A sentence's end, perhaps followed by a credit in brackets ("… kata dia. (MC Batang)").
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?:\s*[(\[][^()\[\]]{0,80}[)\]])?\Z")
# A sentence ends inside: after a word of four letters or more ("Kab. Kendal" does not).
_INNER_SENTENCE = re.compile(r"\w{4}[.!?]\s+[A-Z\"“]")
_OPENS_BRACKET = re.compile(r"[(\[]")


def ends_sentence(text: str) -> bool:
    if "#" in text[-60:]:
        text = _TAGS_AT_END.sub("", text)
    return bool(_SENTENCE_END.search(text))


_TAGS_AT_END = re.compile(r"(?:\s+#[\w-]+)+\s*\Z")


def short(text: str) -> bool:
    """One line short enough for a title, with no sentence ending inside it (a title in
    title case may hold an abbreviation: "Kabid. Polmas Kesbangpol …")."""
    return (len(text) <= TITLE_REACH and len(text.split()) <= 30
            and (not _INNER_SENTENCE.search(text) or title_cased(text)))


def title_like(text: str) -> bool:
    """Whether *text* can be a title: one short line, not a sentence of a body."""
    return (short(text) and text[-1] not in ",;:" and not _OPENS_BRACKET.match(text)
            and any(c.isalpha() for c in text))


# Words a title in title case still writes in lower case.
_SMALL_WORDS = frozenset((
    "dan", "di", "ke", "dari", "untuk", "dengan", "yang", "dalam", "pada", "bagi", "serta",
    "atau", "akan", "oleh", "sebagai", "tentang", "kepada", "terhadap", "melalui", "antara",
    "hingga", "sampai", "bersama", "jadi", "agar", "demi", "atas"))


def title_cased(text: str) -> bool:
    """Every longer word capitalised, small words aside: a title ending with a full stop
    ("… Hari Sumpah Pemuda ke-95."), not a sentence full of names ("Di halaman Kantor KPU
    … menggelar Upacara …")."""
    words: list[str] = re.findall(r"[^\W\d_][\w’'-]*", text)
    return bool(words) and all(w[0].isupper() or w.lower() in _SMALL_WORDS or len(w) <= 2
                               or any(c.isdigit() for c in w) for w in words)


def shouted(text: str) -> bool:
    """Written in capitals, or in title case: how titles look, unlike sentences."""
    found: list[str] = re.findall(r"[^\W\d_][\w’'-]*", text)
    words = [w for w in found if len(w) > 3]
    if not words:
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.6
