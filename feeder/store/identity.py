"""When two versions are one article: a correction keeps its entry.

Press offices correct what they published: a typo in a headline ("prmilih"), a wrong name,
a changed figure, a reworded title. The corrected version must update the entry it
corrects, never come back as a second item. But two articles of one day can look alike
("Rapat Pleno Triwulan III" and "… Triwulan IV", "KPU Kota …" and "KPU Kabupaten …", a
follow-up on the same event), and those must stay apart. The rule, on titles and texts
normalised (case, accents and punctuation aside):

1. Titles that differ only by typos are one article: the same words but for one or two
   words each within ``TYPO_EDITS`` letters of its counterpart (and at most a third of its
   length), none of them a number or a roman numeral ("2024"/"2025", "III"/"IV" are
   different articles, however close).
2. Otherwise, if the titles differ by one word swapped for another ("Kota"/"Kabupaten"),
   they are different articles, whatever the texts: that is how a series tells its
   articles apart.
3. Otherwise (a reworded title, or the same title), the texts decide: one article if at
   least ``SAME_TEXT`` of their words are the same, in the same order (a corrected name or
   figure changes a few; a follow-up shares its subject, not its sentences). Under a
   reworded title both texts must have ``MIN_TEXT`` words: two notes of one line ("Isi.")
   are alike by chance, not by descent.

Across files, where nothing but the source and the day ties two versions together, a title
within typos of the other (rule 1) also needs ``TYPO_TEXT`` of the text in common: "Pleno
DPB" and "Pleno DPT" are one letter apart and two registers of voters.

What readers are told was corrected (``corrections``): the title, when its words changed
(case, spacing and punctuation aside, as the entry's key sees them), and the text, when its
words changed. Markup, spacing, case and punctuation alone are no correction, and neither is
a text that only grew or shrank at its end (a page copied only to its middle, completed by a
later copy).
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from rapidfuzz.distance import Indel

from feeder.article import Article, Correction

TYPO_EDITS = 2  # letters changed in a word a typo fix touches
TYPO_WORDS = 2  # words a typo fix touches in a title
SAME_TEXT = 0.8  # share of words, in order, two versions of one text have in common
MIN_TEXT = 30  # words each text needs to tie two differently titled versions together
TYPO_TEXT = 0.5  # the same, for a typo-fixed title in another file (see the module's rule)
_WORD = re.compile(r"\w+")
_ROMAN = re.compile(r"(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})")  # i to xxxix: quarters, periods
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Version:
    """What identity is judged on: an article's title and plain text."""

    title: str
    text: str

    @classmethod
    def of(cls, article: Article) -> Version:
        """*article*'s title and the plain text of its content."""
        return cls(title=article.title, text=plain(article.content_html))

    @cached_property
    def title_words(self) -> list[str]:
        return words(self.title)

    @cached_property
    def text_words(self) -> list[str]:
        return words(self.text)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self.text_words)



# A stored entry is compared with each new article of its day, and a day has a few: the
# cache holds a few days' worth, not an import's (a version's words outweigh its article).
@lru_cache(maxsize=512)
def version(article: Article) -> Version:
    """``Version.of``, kept while the day's articles are compared."""
    return Version.of(article)


def plain(markup: str) -> str:
    """The words of sanitised HTML, tags left out (enough to compare texts by)."""
    return html.unescape(_TAG.sub(" ", markup))


def _symbols(title: str) -> str:
    return "".join(unicodedata.normalize("NFKC", title).casefold().split())


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def same_article(a: Version, b: Version, *, elsewhere: bool = False) -> bool:
    """Whether *a* and *b* are versions of one article (see the module's rule); *elsewhere*:
    they come from different files."""
    title_a, title_b = a.title_words, b.title_words
    if title_a == title_b:
        if not title_a and _symbols(a.title) != _symbols(b.title):
            return False  # titles of no words ("🎉", "❤️ 🔥"): their symbols tell them apart
        return _similarity(a, b, SAME_TEXT) >= SAME_TEXT or not (a.text_words and b.text_words)
    verdict = _titles(title_a, title_b)
    if verdict is True and elsewhere:
        return _similarity(a, b, TYPO_TEXT) >= TYPO_TEXT
    if verdict is not None:
        return verdict
    if min(len(a.text_words), len(b.text_words)) < MIN_TEXT:
        return False
    return _similarity(a, b, SAME_TEXT) >= SAME_TEXT


def _titles(a: list[str], b: list[str]) -> bool | None:
    """True: a typo fix; False: one word swapped (a series); None: the texts decide."""
    if len(a) != len(b):
        return None
    changed = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if any(_meaningful(x) or _meaningful(y) for x, y in changed):
        return False  # a number or a numeral changed: another article of a series
    if len(changed) <= TYPO_WORDS and all(_typo(x, y) for x, y in changed):
        return True
    if len(changed) == 1:
        return False
    return None


def _meaningful(word: str) -> bool:
    return word.isdigit() or bool(_ROMAN.fullmatch(word))


def _typo(a: str, b: str) -> bool:
    edits = _distance(a, b)
    return edits <= TYPO_EDITS and edits * 3 <= max(len(a), len(b))


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (words are short: the plain table is quick enough)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def text_similarity(a: str, b: str) -> float:
    """How much of the two texts' words, in order, they share: 0 to 1 (difflib's ratio on
    words; a corrected figure in an article of 300 words leaves 0.99)."""
    return _similarity(Version(title="", text=a), Version(title="", text=b), 0.0)


def _similarity(a: Version, b: Version, floor: float) -> float:
    """``text_similarity``, or an upper bound of it when that is already below *floor*."""
    words_a, words_b = a.text_words, b.text_words
    if not words_a or not words_b:
        return 1.0 if words_a == words_b else 0.0
    # Upper bounds first, cheapest first: the lengths; the shorter text's length less one
    # for each of its distinct words the longer lacks (a set difference); the longest
    # common subsequence of the words (difflib's matching blocks are one, not always the
    # longest; rapidfuzz finds it bit-parallel, in C). Most pairs of a day's articles are
    # told apart by them, well before difflib's quadratic matching.
    total = len(words_a) + len(words_b)
    shorter, longer = (a, b) if len(words_a) <= len(words_b) else (b, a)
    bound = 2 * len(shorter.text_words) / total
    if bound < floor:
        return bound
    bound = 2 * (len(shorter.text_words) - len(shorter.vocabulary - longer.vocabulary)) / total
    if bound < floor:
        return bound
    bound = Indel.normalized_similarity(words_a, words_b)  # 2 * LCS / total
    if bound < floor:
        return bound
    return difflib.SequenceMatcher(None, words_a, words_b, autojunk=False).ratio()


def match(before: Sequence[Version], after: Sequence[Version]) -> dict[int, int]:
    """Which of *after* (a file's articles now) are which of *before* (what it held):
    ``{index in after: index in before}``. An article is matched at most once, first with
    the one at its own position on the page, then with any other."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for index, current in enumerate(after):
        if index < len(before) and same_article(before[index], current):
            matched[index] = index
            taken.add(index)
    for index, current in enumerate(after):
        if index in matched:
            continue
        for old, earlier in enumerate(before):
            if old not in taken and same_article(earlier, current):
                matched[index] = old
                taken.add(old)
                break
    return matched


def corrections(old: Article, new: Article, at: datetime) -> tuple[Correction, ...]:
    """What readers are told changed from *old* to *new* at *at* (see the module's rule):
    nothing, the title (with the one it replaced), the text, or both."""
    found = []
    before, after = version(old), version(new)
    if before.title_words != after.title_words:
        found.append(Correction(at=at, what="title", before=old.title))
    if text_changed(before.text_words, after.text_words):
        found.append(Correction(at=at, what="text"))
    return tuple(found)


def text_changed(before: Sequence[str], after: Sequence[str]) -> bool:
    """Whether the words of a text changed, beyond growing or shrinking at its end."""
    shorter, longer = sorted((before, after), key=len)
    return list(longer[:len(shorter)]) != list(shorter)
