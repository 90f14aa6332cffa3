"""Keyword categories: an article mentioning any keyword of a category, as a whole word in any
case, gets the category as a tag; one search a category finds what one a keyword found."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.article import Article
from feeder.config import load_config
from feeder.ingest import categorise

CONFIG = load_config(None, {})
ARTICLE = Article(key="k", source="local", title="Judul",
                  published=datetime(2025, 7, 20, tzinfo=UTC),
                  updated=datetime(2025, 7, 20, tzinfo=UTC), content_html="<p>Isi.</p>",
                  summary="Isi.", slug="judul")


def per_keyword(article: Article, categories: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The rule as it was first written: one search for each keyword."""
    text = f"{article.title} {article.summary} {article.content_html}".casefold()
    found = [name for name, words in categories.items()
             if any(re.search(rf"\b{re.escape(w.casefold())}\b", text) for w in words)]
    return tuple(dict.fromkeys([*article.tags, *found]))


def test_keywords_match_whole_words_in_any_case() -> None:
    config = replace(CONFIG, categories={"Pemilu": ("pemilu", "pemilihan umum"),
                                         "Data Pemilih": ("DPT",), "Kosong": ()})
    article = replace(ARTICLE, title="Jadwal PEMILIHAN UMUM", content_html="<p>dpt, pemilunya</p>",
                      tags=("KPU",))
    assert categorise(article, config).tags == ("KPU", "Pemilu", "Data Pemilih")
    assert categorise(replace(article, title="x", content_html="pemilunya"), config).tags == (
        "KPU",)


# Letters, word joiners and separators, regex metacharacters and characters whose casefold
# grows ("ß" is "ss", "ﬁ" is "fi"): what could make one alternation differ from many searches.
PIECES = st.sampled_from(["a", "b", "ab", "A", " ", "-", "_", ".", "*", "(", "|", "\\", "ß",
                          "SS", "ﬁ", "fi", "é", "É", "1", "<p>", "İ", "ı", "\u00a0", "'"])
keyword = st.lists(PIECES, min_size=1, max_size=4).map("".join).filter(str.strip)
categories = st.dictionaries(st.sampled_from(["X", "Y", "Z"]),
                             st.lists(keyword, max_size=4).map(tuple), max_size=3)
texts = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(categories, texts, texts, st.lists(st.sampled_from(["X", "Y", "tag"]), max_size=2))
def test_one_search_a_category_tags_as_one_search_a_keyword(
        cats: dict[str, tuple[str, ...]], title: str, body: str, tags: list[str]) -> None:
    article = replace(ARTICLE, title=f"t {title}", content_html=body,
                      tags=tuple(dict.fromkeys(tags)))
    assert categorise(article, replace(CONFIG, categories=cats)).tags == per_keyword(
        article, cats)
