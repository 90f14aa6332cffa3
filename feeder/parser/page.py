"""Plain-text files: news pages of several articles, or one article (first line = title).

A page is blocks separated by blank lines: an optional heading, then for each article a
one-line title block and a body block opening with a dateline
(``Semarang, kota-semarang.kpu.go.id – ``) and closing with a credit tail
(``(ana/ed. Foto: awh/KPU Kota Semarang)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from feeder.article import Article
from feeder.errors import ParseError
from feeder.parser.common import Context, Parsed, Problem, make_slug
from feeder.parser.dates import oldest_first, own_date, resolve_years
from feeder.text import normalise_title, paragraphs_html, summarise

DATELINE = re.compile(
    r"^(?P<place>[^\s,][^,\n]{0,60}?)\s*,\s*(?P<site>[a-z0-9-]+(?:\.[a-z0-9-]+)+)\s*[–—-]{1,2}\s",
    re.IGNORECASE,
)
# Every optional part carries its own trailing whitespace, so no two ``\s*`` stand side by
# side: adjacent ones split a run of spaces in polynomially many ways when the match fails.
CREDIT = re.compile(
    r"\(\s*(?P<author>[a-z]{1,8})\s*/\s*(?:ed(?:it)?\b\.?\s*)?(?:[.,;]\s*)?"
    r"(?:foto\s*(?::\s*)?(?P<photo>[^()]*?)\s*)?(?:(?P<close>\))\s*)?$",
    re.IGNORECASE,
)
# The source pages mark a paragraph break as a no-break space beside an ordinary space.
_BREAK_PAIRS = (" \u00a0", "\u00a0 ")
_SPACES = re.compile(r"\s+")
BLOCK_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")
_BLOCK_SPLIT = re.compile(f"({BLOCK_BREAK.pattern})")


@dataclass
class _Block:
    line: int
    text: str


@dataclass
class _Draft:
    title: _Block
    body: list[_Block]
    dateline: re.Match[str]


def parse_text(text: str, ctx: Context) -> Parsed:
    """Parse a plain-text file: a multi-article page if it has datelines, else one article."""
    blocks = _blocks(text)
    if not blocks:
        raise ParseError(ctx.path, None, "empty file: no text to publish")
    drafts, parsed = _group(blocks, ctx)
    if drafts:
        _build_page(drafts, ctx, parsed)
    else:
        _build_single(blocks, ctx, parsed)
    return parsed


def _blocks(text: str) -> list[_Block]:
    # split() with the separator captured: pieces and separators alternate, found in C.
    pieces = _BLOCK_SPLIT.split(text)
    blocks, line = [], 1
    for index in range(0, len(pieces), 2):
        piece = pieces[index]
        stripped = piece.strip()
        if stripped:
            lead = piece.count("\n", 0, len(piece) - len(piece.lstrip()))
            blocks.append(_Block(line + lead, stripped.replace("\n", " ")))
        line += piece.count("\n")
        if index + 1 < len(pieces):
            line += pieces[index + 1].count("\n")
    return blocks


def _group(blocks: list[_Block], ctx: Context) -> tuple[list[_Draft], Parsed]:
    parsed, drafts, strays = Parsed(), [], []
    # A dateline has a comma: most titles do not, and are refused without the regex.
    datelines = [DATELINE.match(b.text) if "," in b.text else None for b in blocks]
    datelines.append(None)
    i = 0
    while i < len(blocks):
        block, match = blocks[i], datelines[i + 1]
        if match and not datelines[i]:
            drafts.append(_Draft(block, [blocks[i + 1]], match))
            i += 2
            continue
        if drafts:
            # A blank line inside a body: keep the text as a further paragraph.
            drafts[-1].body.append(block)
        elif i > 0 or datelines[i]:
            strays.append(block)  # the first block is the page heading, expected
        i += 1
    if drafts:
        parsed.problems.extend(Problem(path=ctx.path, line=b.line, message=(
            "text before the first article (not a title followed by a dateline); ignored"))
            for b in strays)
    return drafts, parsed


def _build_page(drafts: list[_Draft], ctx: Context, parsed: Parsed) -> None:
    mentions = [own_date(d.body[0].text) for d in drafts]
    resolved = resolve_years(mentions, ctx.received, ctx.tolerance)
    newest_first = not oldest_first([m for m in mentions if m])
    days = _fill_gaps([r.day for r in resolved])
    previous = date.max
    for index, (draft, found, day) in enumerate(zip(drafts, resolved, days, strict=True)):
        line = draft.body[0].line
        parsed.problems.extend(Problem(path=ctx.path, line=line, message=n) for n in found.notes)
        if found.day is None:
            parsed.problems.append(Problem(path=ctx.path, line=line, message=(
                "no usable date (weekday and day/month) in the dateline's sentence; using "
                + (f"{day.isoformat()}, the date of the article next to it" if day
                   else "the file's arrival date"))))
        day = day or ctx.received.date()
        if newest_first and index and day > previous:
            parsed.problems.append(Problem(path=ctx.path, line=line, message=(
                f"{day.isoformat()} is newer than the article above it, but pages list the "
                "newest first: is the date a typo?")))
        previous = day
        # Articles of one day keep page order (newest first) as minutes after midnight.
        published = _at(day, ctx, minutes=len(drafts) - index)
        parsed.articles.append(_article(draft, published, found.explicit, ctx, parsed))


def _fill_gaps(days: list[date | None]) -> list[date | None]:
    """An undated article takes the date of the nearest dated one above it (it is no newer
    than that), else below it: never the arrival, which would put it at the top."""
    filled = list(days)
    for order in (range(len(days)), range(len(days) - 1, -1, -1)):
        last = None
        for i in order:
            if filled[i] is None:
                filled[i] = last
            last = filled[i]
    return filled


def _article(draft: _Draft, published: datetime, scheduled: bool, ctx: Context,
             parsed: Parsed) -> Article:
    site = draft.dateline["site"].lower()
    title = draft.title.text
    paragraphs = [p for b in draft.body for p in split_paragraphs(b.text) if p]
    author, photo = _credit(paragraphs[-1], ctx, draft.body[-1].line, parsed)
    day = published.date().isoformat()
    key = f"{site}/{day}/{normalise_title(title)}"
    first = paragraphs[0][draft.dateline.end():]
    return Article(
        key=key,
        source=site,
        title=title,
        published=published,
        updated=published,
        content_html=paragraphs_html(paragraphs),
        summary=summarise(first or paragraphs[0]),
        slug=make_slug(key, day, title),
        author=author,
        photo_credit=photo,
        place=draft.dateline["place"].strip(),
        line=draft.title.line,
        scheduled=scheduled,
    )


def _credit(last: str, ctx: Context, line: int, parsed: Parsed) -> tuple[str | None, str | None]:
    # CREDIT matches no "(" after its first character and runs to the end, so it can only
    # start at the last "(": matching there spares a search trying every earlier one.
    tail = last[-200:]
    start = tail.rfind("(")
    match = CREDIT.match(tail, start) if start >= 0 else None
    if not match:
        parsed.problems.append(Problem(path=ctx.path, line=line, message=(
            "no credit tail like '(ana/ed. Foto: awh/KPU Kota Semarang)' at the end; "
            "author and photo credit unknown")))
        return None, None
    if match["close"] is None:
        parsed.problems.append(Problem(path=ctx.path, line=line, message=(
            "credit tail lacks its closing parenthesis")))
    photo = (match["photo"] or "").strip() or None
    return match["author"].lower(), photo


def split_paragraphs(text: str) -> list[str]:
    """*text* cut at every whitespace run holding a no-break space beside a space.

    Looks only around each no-break space, measuring the whitespace on either side in C,
    so it is linear in the length of *text* (a regex like ``\\s*(?: \\u00a0|\\u00a0 )\\s*``
    retries from every position of a long run of spaces and takes quadratic time on a 1 MB
    line) and fast on ordinary text.
    """
    pieces, start, pos = [], 0, 0
    while (nbsp := text.find("\u00a0", pos)) != -1:
        low = pos + len(text[pos:nbsp].rstrip())
        spaces = _SPACES.match(text, nbsp)  # always matches: the no-break space at least
        high = spaces.end() if spaces else nbsp + 1
        run = text[low:high]
        if _BREAK_PAIRS[0] in run or _BREAK_PAIRS[1] in run:
            pieces.append(text[start:low])
            start = high
        pos = high
    pieces.append(text[start:])
    return pieces


def _build_single(blocks: list[_Block], ctx: Context, parsed: Parsed) -> None:
    title, body = blocks[0], blocks[1:]
    if len(title.text) > 300:
        raise ParseError(ctx.path, title.line, "first line is too long to be a title "
                         f"({len(title.text)} characters)")
    paragraphs = [b.text for b in body] or [title.text]
    if not body:
        parsed.problems.append(Problem(path=ctx.path, line=title.line, message=(
            "only a title, no body; the title is used as the body")))
    source = ctx.source
    key = f"{source}/{normalise_title(title.text)}"
    (found,) = resolve_years([own_date(paragraphs[0])], ctx.received, ctx.tolerance)
    parsed.problems.extend(Problem(path=ctx.path, line=body[0].line if body else title.line,
                                   message=n) for n in found.notes)
    # Without a date of its own, the article is as new as its arrival.
    published = _at(found.day, ctx, minutes=1) if found.day else ctx.received
    parsed.articles.append(Article(
        key=key,
        source=source,
        title=title.text,
        published=published,
        updated=published,
        content_html=paragraphs_html(paragraphs),
        summary=summarise(paragraphs[0]),
        slug=make_slug(key, published.date().isoformat(), title.text),
        line=title.line,
        scheduled=found.explicit,
    ))


def _at(day: date, ctx: Context, minutes: int) -> datetime:
    midnight = datetime.combine(day, time(0), tzinfo=ctx.received.tzinfo)
    return midnight + timedelta(minutes=minutes)
