"""How a file of the drop folder is read: what the parser is told about it, and what its
articles take from where the file is (a subfolder's source) and from the configuration
(categories). One rule for the scan and ``feeder check``, so check shows what ingest stores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache

from feeder.article import Article
from feeder.config import Config, subfolder
from feeder.parser import Context


def parse_context(relative: str, received: datetime, config: Config) -> Context:
    """What the parser is told about the file at *relative* (POSIX, in the drop folder):
    its articles' source, unless they name one, is the subfolder's name ("local" at the
    top)."""
    return Context(path=relative, received=received, source=subfolder(relative) or "local",
                   tolerance=timedelta(hours=config.parse_future_tolerance_hours))


def finish(articles: Sequence[Article], relative: str, config: Config) -> list[Article]:
    """*articles* as the store keeps them: a subfolder's forced source
    (``[folders."NAME"] source``) and the configured categories they mention."""
    folder = subfolder(relative)
    forced = config.folders.get(folder, {}).get("source") if folder else None
    return [categorise(replace(a, source=forced) if forced else a, config) for a in articles]


def categorise(article: Article, config: Config) -> Article:
    """*article* with the configured categories whose keywords it mentions, as tags."""
    if not config.categories:
        return article
    text = f"{article.title} {article.summary} {article.content_html}".casefold()
    categories = tuple((name, tuple(words)) for name, words in config.categories.items())
    found = [name for name, mentions in _keywords(categories) if mentions(text)]
    tags = tuple(dict.fromkeys([*article.tags, *found]))
    return article if tags == article.tags else replace(article, tags=tags)


@lru_cache(maxsize=8)
def _keywords(categories: tuple[tuple[str, tuple[str, ...]], ...]
              ) -> list[tuple[str, Callable[[str], object]]]:
    """Each category with a test of whether a casefolded text mentions one of its keywords
    as a whole word: one search for all of them (at each place the search tries every
    keyword, each between its own word boundaries, so it finds what one search per keyword
    finds). Built once per configuration, not once per article."""
    return [(name, re.compile(r"\b(?:" + "|".join(re.escape(w.casefold()) for w in words)
                              + r")\b").search)
            for name, words in categories if words]
