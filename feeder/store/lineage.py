"""Which stored entry an article with a key never stored continues: a corrected version.

A key is made of what an article says (its source, date and title), so a corrected title
makes a new key. Before such an article becomes a new entry, the store looks for the one it
corrects (``identity``'s rule), first among what the same file carried before, by position on
the page, then across files among the stored entries of the same source and day. A match
takes the old entry's key and slug: the same guid and URL, so readers update the item they
have instead of showing a second one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import replace
from functools import lru_cache

from feeder.article import Article
from feeder.store.batch import Batch, day_prefix, stored_rows
from feeder.store.entries import Entry, decode, encode
from feeder.store.identity import Version, match, same_article, version

log = logging.getLogger(__name__)
CANDIDATES = 50  # stored entries of one source and day an article is compared with


def predecessors(db: sqlite3.Connection, writes: Batch, entries: Sequence[Entry],
                 new: Collection[str], left: Collection[str]) -> dict[str, Article]:
    """The stored articles that those of *entries* whose keys are *new* (never stored)
    continue, by their new keys. *left*: the keys the file carried before and carries no
    more, in any order. Each stored entry is continued at most once."""
    firsts = {e.article.key: e.article for e in entries if e.article.key in new}
    if not firsts:
        return {}
    found: dict[str, Article] = {}
    if left:
        found.update(_in_file(db, writes, list(firsts.values()), left))
    # What this file carries, under whichever key, is no other article's predecessor.
    claimed = {e.article.key for e in entries} | set(left) | {a.key for a in found.values()}
    for key, article in firsts.items():
        if key not in found and not article.draft:
            old = _across_files(db, writes, article, claimed)
            if old is not None:
                found[key] = old
                claimed.add(old.key)
    for key, old in found.items():
        log.debug("%s continues entry %s", key, old.key)
    return found


def adopt(entry: Entry, old: Article) -> Entry:
    """*entry* under *old*'s key and slug: its guid and URL."""
    return encode(replace(entry.article, key=old.key, slug=old.slug))


def _in_file(db: sqlite3.Connection, writes: Batch, after: list[Article],
             left: Collection[str]) -> dict[str, Article]:
    writes.before_read(db, keys=left)
    before = []
    for _, data in stored_rows(db, sorted(left)).values():
        try:
            before.append(decode(data))
        except Exception:  # undecodable: retracted, and quarantined, as the file's gone keys
            continue
    before.sort(key=lambda a: (a.line or 0, a.key))  # page order
    pairs = match([version(a) for a in before], [version(a) for a in after])
    return {after[new].key: before[old] for new, old in pairs.items()}


def _across_files(db: sqlite3.Connection, writes: Batch, article: Article,
                  claimed: Collection[str]) -> Article | None:
    """A stored entry of *article*'s source and day that it is a version of.

    Only for an article with a date of its own, which its key then carries
    (``source/YYYY-MM-DD/title``, ``day_prefix``): an undated one is dated by its arrival,
    and every file of a day's import would be compared with every other. The candidates are
    the keys with the same prefix, a range of the primary key; a source publishes a few
    articles a day, so the first ``CANDIDATES`` of them are looked at, stored or still in
    the batch (the batch's version of an entry is its newest). The batch is written first
    only when one of its articles is the one, or when it retracts one of the day's (which
    entry, only the store can tell): a large import seldom writes early, and a burst of a
    thousand files of one day compares each with a few dozen, not with the thousand.
    """
    prefix = day_prefix(article)
    if not article.key.startswith(prefix):
        return None
    if None in writes.pending(prefix):
        writes.flush(db)
    waiting = {a.key: a for a in writes.pending(prefix) if a is not None and not a.draft}
    rows = dict(db.execute(
        "SELECT key, data FROM entries WHERE key >= ? AND key < ? AND draft = 0 "
        "ORDER BY key LIMIT ?", (prefix, prefix[:-1] + "0", CANDIDATES)).fetchall())
    current = version(article)
    for key in sorted(rows.keys() | waiting.keys())[:CANDIDATES]:
        if key in claimed:
            continue
        if (new := waiting.get(key)) is not None:
            if same_article(version(new), current, elsewhere=True):
                writes.flush(db)  # what follows reads the entry it continues from the store
                return new
            continue
        try:
            old = _stored_version(rows[key])
        except Exception:  # undecodable: quarantined when it is next read
            continue
        if same_article(old, current, elsewhere=True):
            return decode(rows[key])
    return None


# By the stored row: each new article of a day reads the same rows, and decoding them again
# for each would cost more than comparing them.
@lru_cache(maxsize=512)
def _stored_version(data: bytes) -> Version:
    return Version.of(decode(data))
