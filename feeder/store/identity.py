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
   figure changes a few; a follow-up shares its subject, not its sentences).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

TYPO_EDITS = 2  # letters changed in a word a typo fix touches
TYPO_WORDS = 2  # words a typo fix touches in a title
SAME_TEXT = 0.8  # share of words, in order, two versions of one text have in common
_WORD = re.compile(r"\w+")
_ROMAN = re.compile(r"(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})")  # i to xxxix: quarters, periods


@dataclass(frozen=True)
class Version:
    """What identity is judged on: an article's title and plain text."""

    title: str
    text: str


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def same_article(a: Version, b: Version) -> bool:
    """Whether *a* and *b* are versions of one article (see the module's rule)."""
    title_a, title_b = words(a.title), words(b.title)
    if title_a == title_b:
        return text_similarity(a.text, b.text) >= SAME_TEXT or not (a.text and b.text)
    verdict = _titles(title_a, title_b)
    if verdict is not None:
        return verdict
    return text_similarity(a.text, b.text) >= SAME_TEXT


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
    words_a, words_b = words(a), words(b)
    if not words_a or not words_b:
        return 1.0 if words_a == words_b else 0.0
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    if matcher.real_quick_ratio() < SAME_TEXT or matcher.quick_ratio() < SAME_TEXT:
        return matcher.quick_ratio()  # an upper bound, already too low
    return matcher.ratio()


def match(before: Sequence[Version], after: Sequence[Version]) -> dict[int, int]:
    """Which of *after* (a file's articles now) are which of *before* (what it held):
    ``{index in after: index in before}``. An article is matched at most once, first with
    the one at its own position on the page, then with any other."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for index, version in enumerate(after):
        if index < len(before) and same_article(before[index], version):
            matched[index] = index
            taken.add(index)
    for index, version in enumerate(after):
        if index in matched:
            continue
        for old, earlier in enumerate(before):
            if old not in taken and same_article(earlier, version):
                matched[index] = old
                taken.add(old)
                break
    return matched
