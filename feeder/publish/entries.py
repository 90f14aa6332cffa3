"""The feed entries a publisher made, kept for the next feeds and the next builds.

A build re-renders every feed an article is in (the aggregate, its source, topics and
month) with mostly the same entries, and feedgen and lxml are the slow part of a build. An
``Article`` is a frozen value, so it and what else shapes its entry make the key. After a
burst, the entries not made yet are made on the other cores first (``make_ahead``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from feeder.article import Article
from feeder.builder import author_name, feed_safe, make_entries, make_entry
from feeder.config import Config
from feeder.parallel import Map, chunked

SIZE = 4096  # entries of both formats: a few full channels
CHUNK = 100  # entries a worker makes per round trip; fewer are made in this process
# The article, the base URL, its author's name, RSS (or Atom), the language of its notes.
Key = tuple[Article, str, str | None, bool, str]


class EntryCache:
    """``builder.Entries``: makes an entry once per version of its article, then hands out
    what it made (least recently used entries go first)."""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._made: OrderedDict[Key, bytes] = OrderedDict()

    def __call__(self, article: Article, config: Config, rss: bool) -> bytes:
        key = _key(article, config, rss)
        data = self._made.get(key)
        if data is None:
            return self._remember(key, make_entry(article, config, rss))
        self._made.move_to_end(key)
        return data

    def make_ahead(self, feeds: Iterable[Sequence[Article]], config: Config,
                   spread: Map) -> None:
        """Have *spread*'s workers make the entries of *feeds* not made yet, in chunks,
        when there are enough of them to be worth the round trips."""
        if not spread.parallel:
            return
        unique = dict.fromkeys(feed_safe(a) for articles in feeds for a in articles)
        missing = [a for a in unique if _key(a, config, True) not in self._made]
        if len(missing) < CHUNK:
            return
        chunks = list(chunked(missing, CHUNK))
        made = spread(make_entries_job, ((chunk, config) for chunk in chunks))
        for chunk, entries in zip(chunks, made, strict=True):
            for article, (item, entry) in zip(chunk, entries, strict=True):
                self._remember(_key(article, config, True), item)
                self._remember(_key(article, config, False), entry)

    def _remember(self, key: Key, data: bytes) -> bytes:
        self._made[key] = data
        if len(self._made) > self._size:
            self._made.popitem(last=False)
        return data


def make_entries_job(job: tuple[list[Article], Config]) -> list[tuple[bytes, bytes]]:
    return make_entries(*job)


def _key(article: Article, config: Config, rss: bool) -> Key:
    return article, config.site_base_url, author_name(article, config), rss, config.site_language
