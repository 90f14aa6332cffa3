"""Where the articles of a copied page begin and end.

An article is a title line, then its text; between articles and after them, the site's
chrome. A title is a short line that is not a sentence; the first text after it that
is a sentence starts its body. Before the first title stand the page heading and its
counters. After the first article, a title-like line starts a new article only when
something besides its looks says so:

- strong: the text after it opens with a dateline, a date line stands under it, the
  article above ended with a credit, listing chrome ("Selengkapnya", a counter, a share
  row) stands between them, or the page is a listing's rhythm: it opened with listing
  chrome (or two articles did so before), and every article so far was a title over one
  long block (listings run each article's paragraphs into one block);
- medium: it is written in capitals or title case; the text after it has a date of its
  own in its first sentences; the article above is one long block followed by a blank
  line, as on a listing page.

One strong sign or two medium ones make a new article (the medium-only split is a warning
to check); otherwise the line is a subheading or a list item of the article above, with a
warning when it looks like a title. A title with no text after it (a page copied to its
middle) is dropped with a warning, and so is text after a sidebar or footer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from feeder.parser.common import Problem
from feeder.parser.credits import find_credit
from feeder.parser.dateline import find_dateline
from feeder.parser.dates import own_date
from feeder.parser.lines import (
    Kind,
    Line,
    classify,
    ends_sentence,
    short,
    shouted,
    title_cased,
    title_like,
)

LISTING_BODY = 300  # characters: a listing's article body, all in one block


@dataclass
class Draft:
    title: Line | None
    body: list[Line] = field(default_factory=list)
    meta: list[Line] = field(default_factory=list)


def split_lines(text: str) -> list[Line]:
    """The non-blank lines of *text*, stripped and classified."""
    lines, gap = [], False
    for number, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip().strip("\ufeff\u200b").strip()
        if not stripped:
            gap = True
            continue
        lines.append(classify(number, stripped, gap))
        gap = False
    return lines


def segment(lines: list[Line], path: str, problems: list[Problem]) -> list[Draft]:
    """The articles of a page, in page order."""
    return _Segmenter(lines, path, problems).run()


class _Segmenter:
    def __init__(self, lines: list[Line], path: str, problems: list[Problem]) -> None:
        self.lines = lines
        self.path = path
        self.problems = problems
        self.drafts: list[Draft] = []
        self.pending: list[Line] = []  # title-like lines waiting for a body
        self.held: list[Line] = []  # meta lines under a pending title
        self.broke = False  # listing chrome since the current article's last text
        self.ended = False  # a sidebar or footer began
        self.headed = False  # the page opened with chrome (a listing's "Berita Terkini")
        texts = [line for line in lines if line.kind is Kind.TEXT]
        self.first = texts[0] if texts else None

    def warn(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(path=self.path, line=line, message=message))

    def run(self) -> list[Draft]:
        for index, line in enumerate(self.lines):
            if line.kind in (Kind.CHROME, Kind.BREAK):
                self.broke |= line.kind is Kind.BREAK and bool(self.drafts)
                self.headed |= not self.drafts
            elif line.kind is Kind.END:
                self.ended = True
            elif line.kind is Kind.META:
                if self.pending or not self.drafts:
                    self.held.append(line)
                else:
                    self.drafts[-1].meta.append(line)
            elif (title_like(line.text) and (not ends_sentence(line.text)
                                             or title_cased(line.text))
                  and not self._wrapped(index)):
                # A title may end with a full stop; a sentence is not in title case.
                self.pending.append(line)
            else:
                self._body_line(index, line)
        self._finish()
        return self.drafts

    def _body_line(self, index: int, line: Line) -> None:
        if not self.drafts:
            if self.pending:
                self._start(self.pending[-1], heading=self.pending[:-1])
            elif line is self.first and short(line.text) and self._text_follows(index):
                self._start(line, heading=[])
                return  # the title itself, though it ends with a full stop
            else:
                self.warn(line.number, "no title line above this text; titled with its "
                          "first words")
                self._start(None, heading=[])
        elif self.pending and self._new_article(line):
            self._start(self.pending[-1], heading=self.pending[:-1])
        elif self.ended:
            self._drop(line, "text after the page's sidebar or footer; ignored")
            return
        elif self.pending:
            self._glue()
        self.drafts[-1].body.append(line)
        self.broke = False

    def _wrapped(self, index: int) -> bool:
        """Whether the line goes on in the next one, in lower case: a wrapped paragraph."""
        after = self.lines[index + 1] if index + 1 < len(self.lines) else None
        return (after is not None and after.kind is Kind.TEXT and not after.gap_before
                and after.text[0].islower())

    def _text_follows(self, index: int) -> bool:
        return any(line.kind is Kind.TEXT for line in self.lines[index + 1:index + 8])

    def _start(self, title: Line | None, heading: list[Line]) -> None:
        for line in heading:
            if self.drafts or line is not self.first:
                self.warn(line.number, "a short line that is neither a title followed by "
                          "text nor listing chrome; ignored")
            else:
                self.warn(line.number, "taken as the page's heading, not an article; "
                          "ignored")
        self.drafts.append(Draft(title, meta=self.held))
        self.pending, self.held, self.broke, self.ended = [], [], False, False

    def _new_article(self, body: Line) -> bool:
        title = self.pending[-1]
        above = self.drafts[-1].body
        dateline = find_dateline(body.text)
        # Listing rhythm: every article so far was a title over one long block.
        rhythm = title.gap_before and len(above) == 1 and len(above[0].text) >= LISTING_BODY
        listing = rhythm and all(len(d.body) == 1 for d in self.drafts) and (
            len(self.drafts) >= 2 or self.headed)
        strong = (
            (dateline is not None and (dateline.end > 0 or dateline.site is not None))
            or any(m.date is not None for m in self.held)
            or (bool(above) and find_credit(above[-1].text) is not None)
            or self.broke or listing
        )
        if strong:
            return True
        if self.ended:
            return False
        date = own_date(body.text)
        signs = {
            "it looks like a title": shouted(title.text),
            "the text after it has a date of its own": date is not None and (
                date.weekday is not None or date.year is not None),
            # A listing's rhythm: the article above is one long block, then a blank line.
            "the article above is one block, as on a listing": rhythm,
        }
        if sum(signs.values()) < 2:
            return False
        self.warn(title.number, "starts a new article, though no dateline, credit or listing "
                  f"chrome marks it ({' and '.join(s for s, on in signs.items() if on)}); "
                  "check the split")
        return True

    def _glue(self) -> None:
        """Title-like lines that start no article: the article above's subheadings."""
        draft = self.drafts[-1]
        looks = [line for line in self.pending if shouted(line.text)]
        if looks:
            self.warn(looks[0].number, f"{len(looks)} line(s) from here look like titles, "
                      "but nothing else marks a new article (no dateline, date, credit or "
                      "listing chrome); kept in the article above")
        draft.body.extend(self.pending)
        draft.meta.extend(self.held)
        self.pending, self.held = [], []

    def _drop(self, line: Line, why: str) -> None:
        self.warn(line.number, why)
        self.pending, self.held = [], []

    def _finish(self) -> None:
        if not self.drafts and self.pending:
            # Only short lines: a title, perhaps with a line or two of text.
            title, *rest = self.pending
            self.drafts.append(Draft(title, body=rest, meta=self.held))
            return
        if self.drafts and not self.drafts[-1].body:
            self.drafts[-1].body.extend(self.pending)  # a title, then short lines of text
            self.pending = []
        for line in self.pending:
            self.warn(line.number, "a title with no text after it (was the page copied "
                      "only in part?); ignored")
        if self.held and self.drafts and not self.pending:
            self.drafts[-1].meta.extend(self.held)  # a byline or date at the very end
