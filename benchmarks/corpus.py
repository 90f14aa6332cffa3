"""Synthetic article files made by varying the two sample pages in ``examples/drop/``.

Every generated article keeps the samples' shape (dateline, Indonesian date mention, paragraph
breaks marked by a no-break space, credit tail) but gets a unique title, its own date (with
a matching weekday, so the parser has nothing to warn about) and a varied length. Everything
is deterministic for a given article number and reference day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from feeder.parser.credits import find_credit
from feeder.parser.dateline import find_dateline
from feeder.parser.dates import WEEKDAY_NAMES, find_date

SAMPLES = Path(__file__).resolve().parent.parent / "examples" / "drop"
MONTH_NAMES = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
               "September", "Oktober", "November", "Desember")
ARTICLES_PER_PAGE = 5
# Sentence ends; the whitespace after one is kept, since " \u00a0" marks a paragraph break.
_SENTENCE_END = re.compile(r"(?<=[.!?\"”])(\s+)")
_BLOCK_BREAK = re.compile(r"\n[ \t\u00a0]*\n")


@dataclass(frozen=True)
class Sample:
    """One sample article cut into the parts the generator recombines."""

    title: str
    dateline: str  # "Semarang, kota-semarang.kpu.go.id – "
    lead: str  # text up to the end of the sentence holding the date, with "{date}" in it
    rest: tuple[str, ...]  # the following sentences, each with its trailing whitespace
    credit: str  # "(ana/ed. Foto: awh/KPU Kota Semarang)"


@lru_cache(maxsize=1)
def samples() -> tuple[Sample, ...]:
    """The twelve sample articles of ``examples/drop/``."""
    found: list[Sample] = []
    for path in sorted(SAMPLES.glob("*.txt")):
        blocks = [b.strip() for b in _BLOCK_BREAK.split(path.read_text(encoding="utf-8"))]
        pairs = zip(blocks[1::2], blocks[2::2], strict=False)  # blocks[0] is the heading
        found.extend(_cut(title, body) for title, body in pairs)
    return tuple(found)


def _cut(title: str, body: str) -> Sample:
    dateline = find_dateline(body)
    credit = find_credit(body)
    if dateline is None or credit is None:
        raise ValueError(f"sample article {title!r} lacks a dateline or a credit tail")
    middle = body[dateline.end:credit.start].rstrip()
    mention = find_date(middle)
    if mention is None:
        raise ValueError(f"sample article {title!r} has no date")
    end = mention.offset + len(mention.text)
    middle = middle[:mention.offset] + "{date}" + middle[end:]
    pieces = _SENTENCE_END.split(middle)
    sentences = ["".join(pieces[i:i + 2]) for i in range(0, len(pieces), 2)]
    cut = next(i for i, s in enumerate(sentences) if "{date}" in s) + 1
    return Sample(title=title, dateline=body[:dateline.end], lead="".join(sentences[:cut]),
                  rest=tuple(sentences[cut:]), credit=body[credit.start:].strip())


def date_mention(day: date, style: int) -> str:
    """The date as the pages write it: 0 ``Jumat (18/7/2025)``, 1 ``Jumat (18/7)``,
    2 ``Jumat, 18 Juli 2025``."""
    weekday = WEEKDAY_NAMES[day.weekday()]
    if style == 0:
        return f"{weekday} ({day.day}/{day.month}/{day.year})"
    if style == 1:
        return f"{weekday} ({day.day}/{day.month})"
    return f"{weekday}, {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def article_text(n: int, day: date, *, style: int = 0, tag: str = "") -> tuple[str, str]:
    """Title and body of generated article number *n*, dated *day*.

    The length varies with *n* from the lead sentence alone up to about twice the sample.
    """
    all_samples = samples()
    sample = all_samples[n % len(all_samples)]
    other = all_samples[(n * 7 + 3) % len(all_samples)]
    pool = (*sample.rest, *other.rest)
    extra = (n * 5) % (len(pool) + 1)
    body = "".join((sample.dateline, sample.lead.replace("{date}", date_mention(day, style)),
                    *pool[:extra])).rstrip()
    title = f"{sample.title} ({tag or 'seri'} {n})"
    return title, f"{body} {sample.credit}"


def page_text(first: int, days: list[date], *, tag: str = "", yearless_ok: bool = True) -> str:
    """A news page of ``len(days)`` articles numbered from *first*, newest first.

    The first article's date carries its year (the page's anchor); later ones vary the
    style, leaving the year out only when *yearless_ok* (dates under a few years old).
    """
    parts = ["Berita Terkini"]
    for offset, day in enumerate(days):
        n = first + offset
        style = 0 if offset == 0 else (n % 3 if yearless_ok else 2 * (n % 2))
        title, body = article_text(n, day, style=style, tag=tag)
        parts += [title, body]
    return "\n\n".join(parts) + "\n"


def page_days(first: int, count: int, newest: date, per_day: int = 15) -> list[date]:
    """Dates for articles *first*..*first+count-1*: *per_day* a day, going back from
    *newest*, so the corpus is newest first as a whole and within each page."""
    return [newest - timedelta(days=(first + i) // per_day) for i in range(count)]


def pages(total_articles: int, newest: date,
          per_page: int = ARTICLES_PER_PAGE) -> Iterator[tuple[str, str]]:
    """(file name, text) of news pages holding *total_articles* articles in all."""
    for page, first in enumerate(range(0, total_articles, per_page)):
        count = min(per_page, total_articles - first)
        days = page_days(first, count, newest)
        recent = (newest - days[-1]).days < 3 * 365
        yield f"page-{page:06d}.txt", page_text(first, days, yearless_ok=recent)


def write_pages(folder: Path, total_articles: int, newest: date,
                per_page: int = ARTICLES_PER_PAGE) -> int:
    """Write the pages of :func:`pages` into *folder* (in subfolders of 1,000 files at most,
    as a real archive would be kept); return the number of files written."""
    count = 0
    for name, text in pages(total_articles, newest, per_page):
        sub = folder / f"batch-{count // 1000:03d}"
        if count % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / name).write_text(text, encoding="utf-8")
        count += 1
    return count


def single_text(n: int, day: date) -> str:
    """A single-article plain-text file: title line, then paragraphs separated by blank
    lines (no dateline, so it is not read as a news page)."""
    title, body = article_text(n, day)
    sample = samples()[n % len(samples())]
    text = body[len(sample.dateline):]
    paragraphs = [p.strip() for p in re.split(r" \u00a0|\u00a0 |(?<=\.) (?=[A-Z\"])", text)]
    grouped = [" ".join(paragraphs[i:i + 3]) for i in range(0, len(paragraphs), 3)]
    return title + "\n\n" + "\n\n".join(p for p in grouped if p) + "\n"


def markdown_text(n: int, day: date, *, tag: str = "") -> str:
    """A Markdown article with front matter and a little of every common construct.

    *day* may be a datetime: the front matter then gives the time too, which orders
    articles of one day."""
    title, body = article_text(n, day, tag=tag)
    sample = samples()[n % len(samples())]
    sentences = [s.strip() for s in _SENTENCE_END.split(body[len(sample.dateline):])
                 if s.strip()]
    half = max(1, len(sentences) // 2)
    tags = ", ".join(f'"{t}"' for t in ("KPU", "Semarang", f"seri-{n % 17}"))
    return (
        f"---\ntitle: \"{title.replace(chr(34), '')}\"\ndate: {day.isoformat()}\n"
        f"author: ana\ntags: [{tags}]\nsource: kota-semarang.kpu.go.id\n---\n\n"
        f"{' '.join(sentences[:half])}\n\n## Rincian\n\n"
        f"- **Tempat:** Semarang\n- *Tanggal:* {day.isoformat()}\n"
        f"- Sumber: [KPU Kota Semarang](https://kota-semarang.kpu.go.id/)\n\n"
        f"{' '.join(sentences[half:])}\n\n> {sentences[0][:120]}\n"
    )
