"""A generated corpus of hostile drop-folder files: what users really drop, and worse.

Not hand-picked examples: every *payload* (a hostile piece of text) is put in every
*container* (a plain-text article, a news page, Markdown front matter, a Markdown heading)
and written in every *encoding* it fits (UTF-8, with BOM, UTF-16 with BOM, Windows-1252,
Latin-1, CRLF and lone-CR line ends). Beside them come raw byte cases that are no text at
all (empty, binary, NUL bytes, truncated UTF-8, bad YAML, a YAML alias bomb, YAML with
python tags, a 1 MB line) and hostile file names. Everything is deterministic: the random
bytes come from a seeded RNG.

``corpus()`` yields ``(name, bytes)``; ``cases()`` yields the same files as :class:`Case`,
which also says what must become of each file.
"""

from __future__ import annotations

import codecs
import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from feeder.text import xml_safe

Outcome = Literal["entry", "rejected", "either"]

# U+0000–U+001F except tab, LF and CR, plus the two non-characters: XML 1.0 forbids them.
CONTROLS = "".join(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + "\ufffe\uffff"

PAYLOADS: dict[str, str] = {
    "plain": "Rapat Pleno Terbuka KPU Kota Semarang",
    "script": "<script>alert(1)</script> Berita",
    "img-onerror": '<img src=x onerror="alert(1)"> Foto',
    "cdata-end": "Akhir ]]> <![CDATA[ bukan CDATA ]]> juga",
    "ampersand": "Tom & Jerry & Co <b>",
    "entities": "&amp;lt; &#0; &lt;b&gt; &#x41; &nbsp; &unknown; &",
    "rtl": "مرحبا بالعالم שלום עולם \u202eRLO\u202c mixed",
    "emoji": "🎉 👩\u200d💻 🇮🇩",  # no letter or digit at all
    "emoji-2": "❤️ 🔥 ✨",  # ... and a different title of the same kind
    "controls": f"awal {CONTROLS} akhir",
    "separators": "satu\x85dua\u2028tiga\u2029empat\x7flima",
    "legacy": "Café “kutipan” – €5 ’Ünïcode’",
    "long-title": "Judul yang sangat panjang sekali " * 320,  # 10 KB
}

# Text that survives exactly: the same words (whitespace runs may collapse, as HTML and
# the feed formats collapse them) without the characters XML 1.0 cannot carry.


def visible(text: str) -> str:
    """What "survives exactly" compares: XML-illegal characters deleted, spaces collapsed."""
    return " ".join(xml_safe(text).split())


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    outcome: Outcome
    title: str | None = None  # text the entry's title must carry, if an entry
    body: str | None = None  # text the entry's content must carry, if an entry
    controls: bool = False  # had XML-illegal characters, so a warning must say so


@dataclass(frozen=True)
class _Made:
    suffix: str
    text: str
    title: str
    body: str
    outcome: Outcome = "entry"


def titled(line: str) -> str:
    """The title a line gives: itself, or, too long for a title (a paragraph with no title
    above it), its first ten words."""
    words = visible(line).split()
    if len(visible(line)) <= 250 and len(words) <= 30:
        return line
    return " ".join(words[:10]) + "…"


def _single(payload: str) -> _Made:
    # A plain .txt article: the first line is the title (or, too long for one, a paragraph).
    return _Made(".txt", f"{payload}\n\nIsi: {payload}\n", titled(payload), f"Isi: {payload}")


def _page(payload: str) -> _Made:
    body = f"Kamis (4/12) {payload} isi berita."
    text = (f"BERITA TERKINI\n\n{payload}\n\nSemarang, kota-semarang.kpu.go.id – {body} "
            "(ana/ed. Foto: awh/KPU Kota Semarang)\n")
    return _Made(".txt", text, titled(payload), body)


# The Markdown containers name an `id`: a plain-text article and a Markdown file with the
# same title (and no date) are otherwise one entry, whose body is the last one read.
def _front_matter(payload: str) -> _Made:
    text = (f"---\nid: front-{_digest(payload)}\ntitle: {_yaml_quote(payload)}\n"
            f"tags: [hostile]\n---\n\nIsi {payload}.\n")
    return _Made(".md", text, payload, "Isi")


def _heading(payload: str) -> _Made:
    text = f"---\nid: heading-{_digest(payload)}\n---\n# {payload}\n\nIsi berita biasa.\n"
    return _Made(".md", text, payload, "Isi berita biasa.")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


CONTAINERS: dict[str, Callable[[str], _Made]] = {
    "single": _single, "page": _page, "front": _front_matter, "heading": _heading,
}


def _encodings(text: str) -> Iterator[tuple[str, bytes]]:
    yield "utf8", text.encode("utf-8", "surrogatepass")
    yield "utf8-bom", codecs.BOM_UTF8 + text.encode("utf-8")
    yield "utf16le-bom", codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    yield "utf16be-bom", codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    yield "crlf", text.replace("\n", "\r\n").encode("utf-8")
    yield "cr", text.replace("\n", "\r").encode("utf-8")
    # Legacy encodings only where they change something and can say everything.
    if not text.isascii():
        for name, codec in (("cp1252", "cp1252"), ("latin1", "latin-1")):
            try:
                data = text.encode(codec)
            except UnicodeEncodeError:
                continue
            # Latin-1 C1 controls are read back as Windows-1252 punctuation: skip those.
            if codec == "latin-1" and any(0x80 <= b <= 0x9F for b in data):
                continue
            yield name, data


def _yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar, escaping only what YAML cannot hold as it is."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\u2028\u2029":  # YAML line breaks, folded to spaces unless escaped
            out.append(f"\\u{code:04x}")
        elif code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0x7E or (
                0xA0 <= code <= 0xD7FF) or 0xE000 <= code <= 0xFFFD or code >= 0x10000:
            out.append(char)
        else:
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
    return '"' + "".join(out) + '"'


def _generated() -> Iterator[Case]:
    for pname, payload in PAYLOADS.items():
        for cname, container in CONTAINERS.items():
            made = container(payload)
            for ename, data in _encodings(made.text):
                # A NUL byte near the start of a file without a BOM marks it as binary.
                binary = not ename.endswith("bom") and b"\x00" in data[:8192]
                yield Case(f"{cname}-{pname}-{ename}{made.suffix}", data,
                           "rejected" if binary else made.outcome, made.title, made.body,
                           controls=payload != xml_safe(payload))


def _billion_laughs(last: str) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + f"\n{last}\n---\n\nIsi.\n"


def _raw(rng: random.Random) -> Iterator[Case]:
    text = "Judul Berkas Mentah\n\nIsi berita.\n"
    yield Case("empty.txt", b"", "rejected")
    yield Case("empty.md", b"", "rejected")
    yield Case("whitespace.txt", b" \n\t\r\n   \r\n\n", "rejected")
    yield Case("whitespace-unicode.md", "\u00a0\u3000\u2003\n".encode(), "rejected")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    yield Case("png-header.txt", png + bytes(rng.randrange(256) for _ in range(512)), "rejected")
    yield Case("random.txt", bytes(rng.randrange(256) for _ in range(4096)), "rejected")
    noisy = bytes(rng.randrange(1, 256) for _ in range(4096))
    yield Case("random-no-nul.txt", noisy, "either")
    yield Case("random-no-nul.md", noisy, "either")
    yield Case("nul-bytes.txt", b"\x00" * 64, "rejected")
    yield Case("nul-in-text.txt", b"Judul\x00 NUL\n\nIsi\x00 berita.\n", "rejected")
    # A NUL past the binary sniff is a control character like any other.
    late = "Judul NUL Akhir\n\n" + "kata " * 2000 + "\x00akhir\n"
    yield Case("nul-late.txt", late.encode(), "entry", "Judul NUL Akhir", "kata kata akhir",
               controls=True)
    whole = "Judul Terpotong ü\n\nIsi café ü".encode()
    yield Case("truncated-utf8.txt", whole[:-1], "entry", "Judul Terpotong ü",
               "Isi café \ufffd")
    yield Case("truncated-utf8-bom.md", codecs.BOM_UTF8 + ("# Judul BOM Terpotong\n\nIsi é"
               .encode())[:-1], "entry", "Judul BOM Terpotong", "Isi \ufffd")
    yield Case("utf16-odd-length.txt", codecs.BOM_UTF16_LE + "Judul Ganjil\n\nIsi."
               .encode("utf-16-le") + b"\x41", "entry", "Judul Ganjil", "Isi.\ufffd")
    yield Case("utf16-without-bom.txt", text.encode("utf-16-le"), "rejected")
    yield Case("utf16-bom-garbage.txt", codecs.BOM_UTF16_LE + b"\x00\xdc\x41\x00" * 8,
               "rejected")
    surrogates = "Judul \ud800 Surrogat\n\nIsi \udfff akhir.\n"
    yield Case("surrogates-utf8.txt", surrogates.encode("utf-8", "surrogatepass"), "either")
    yield Case("surrogates-utf16.txt", codecs.BOM_UTF16_LE
               + surrogates.encode("utf-16-le", "surrogatepass"), "rejected")
    yield Case("surrogates-front-matter.md", b'---\ntitle: "Judul \\ud800 \\udfff Surrogat"\n'
               b"---\n\nIsi.\n", "entry", "Judul Surrogat", "Isi.", controls=True)
    # One line of 1 MB: alone (a paragraph, too long for a title), as a body, and as runs of
    # spaces where a backtracking regex would never finish.
    mega = "kata " * (2**20 // 5)
    yield Case("one-mb-line.txt", mega.encode(), "entry", titled(mega), "kata kata kata")
    yield Case("one-mb-body.txt", f"Judul Satu Mega\n\n{mega}\n".encode(), "entry",
               "Judul Satu Mega", "kata kata kata")
    spaces = " " * 2**20
    yield Case("one-mb-spaces-page.txt", (
        f"BERITA\n\nJudul Spasi Panjang\n\nSemarang, kpu.go.id – Kamis{spaces}x 1{spaces}y "
        f"(ana/{spaces}x\n").encode(), "entry", "Judul Spasi Panjang", "Kamis x 1 y")
    yield Case("one-mb-spaces-heading.md", f"# a{spaces}b\n\nIsi.\n".encode(), "entry",
               "a b", "Isi.")
    paragraph = "kata " * (2**17 // 5)
    yield Case("one-mb-paragraphs-page.txt", (
        "BERITA\n\nJudul Banyak Paragraf\n\nSemarang, kpu.go.id – Kamis (4/12) awal "
        + f"{paragraph}\u00a0 " * 8 + "akhir (ana/ed)\n").encode(), "entry",
        "Judul Banyak Paragraf", "kata akhir")
    yield Case("invalid-yaml.md", b"---\ntitle: [unclosed\nfoo: : :\n---\n\nIsi.\n", "rejected")
    yield Case("yaml-not-mapping.md", b"---\n- a\n- b\n---\n\nIsi.\n", "rejected")
    yield Case("yaml-deep.md", b"---\ntitle: " + b"[" * 20000 + b"\n---\n\nIsi.\n", "rejected")
    yield Case("yaml-huge-int.md", b"---\ntitle: T\nn: " + b"9" * 5000 + b"\n---\n\nIsi.\n",
               "rejected")
    yield Case("yaml-year-zero.md", b"---\ntitle: T\ndate: 0000-01-01\n---\n\nIsi.\n",
               "rejected")
    yield Case("yaml-ancient-date.md", b"---\ntitle: Judul Kuno\ndate: 0001-01-01\n---\n\n"
               b"Isi.\n", "entry", "Judul Kuno", "Isi.")
    yield Case("yaml-odd-keys.md", b"---\ntitle: Judul Kunci Aneh\n1: a\nnull: b\n2025-01-01: c"
               b"\n---\n\nIsi.\n", "entry", "Judul Kunci Aneh", "Isi.")
    yield Case("yaml-bomb-tags.md", _billion_laughs("title: Judul Bom\ntags: *i").encode(),
               "entry", "Judul Bom", "Isi.")
    yield Case("yaml-bomb-date.md", _billion_laughs("title: Judul Bom Tanggal\ndate: *i")
               .encode(), "entry", "Judul Bom Tanggal", "Isi.")
    yield Case("yaml-bomb-title.md", _billion_laughs("title: *i").encode(), "rejected")
    for n, tag in enumerate((
            '!!python/object/apply:os.system ["echo pwned > pwned.txt"]',
            "!!python/object/apply:subprocess.check_output [[touch, pwned.txt]]",
            "!!python/name:os.system",
            '!!python/object/new:type {args: ["x", !!python/tuple [], {}]}')):
        yield Case(f"yaml-python-tag-{n}.md", f"---\ntitle: {tag}\n---\n\nIsi.\n".encode(),
                   "rejected")
    yield Case("markdown-script-only.md", b"# Judul Skrip\n\n<script>alert(1)</script>\n",
               "entry", "Judul Skrip", "Judul Skrip")
    yield Case("markdown-html.md", b'# Judul HTML\n\n<a href="javascript:alert(1)">klik</a> '
               b"<iframe src=//evil></iframe> <style>body{}</style> <b onclick=x>tebal</b>\n",
               "entry", "Judul HTML", "klik tebal")


def _names() -> Iterator[Case]:
    for n, name in enumerate((
            "with spaces in it.txt", "ünïcödé 日本語 عربي.txt", "-rf.txt", "--help.md",
            "new\nline.txt", "tab\tname.txt", "$(id);`id`.txt", "quote'\"name.md",
            "back\\slash.txt", "\u202egnp.txt", "…dots….txt")):
        title = f"Judul Nama Berkas {n}"
        text = f"# {title}\n\nIsi.\n" if name.endswith(".md") else f"{title}\n\nIsi.\n"
        yield Case(name, text.encode(), "entry", title, "Isi.")


def cases(seed: int = 4) -> Iterator[Case]:
    """Every file of the corpus with what must become of it."""
    rng = random.Random(seed)
    yield from _generated()
    yield from _raw(rng)
    yield from _names()


def corpus(seed: int = 4) -> Iterator[tuple[str, bytes]]:
    """Every file of the corpus as ``(name, bytes)``."""
    for case in cases(seed):
        yield case.name, case.data
