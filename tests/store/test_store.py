"""The store keeps entries, their channels and the per-channel counts in step."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeder.article import Article
from feeder.channel import Channel
from feeder.store import FileRecord, Store
from tests.support import ARRIVAL

NOW = ARRIVAL + timedelta(days=400)


def article(key: str, *, tags: tuple[str, ...] = (), month: int = 1, title: str = "") -> Article:
    when = datetime(2025, month, 5, 9, 0, tzinfo=ARRIVAL.tzinfo)
    return Article(key=key, source="s", title=title or f"Judul {key}", published=when,
                   updated=when, content_html="<p>isi</p>", summary="isi", slug=f"{key}-x",
                   tags=tags)


def record(path: str, n: int = 0) -> FileRecord:
    return FileRecord(path, n, n, f"{n:064x}", ARRIVAL)


def test_an_entry_twice_in_one_file_is_stored_once_as_its_last_version(store: Store) -> None:
    first = article("k", tags=("pemilu",), month=1)
    second = article("k", tags=("rapat",), month=2, title="Judul baru")
    changes = store.put_file(record("a.txt"), [first, second], ARRIVAL)
    assert (changes.added, changes.updated) == (1, 1)
    assert [a.title for a in store.newest(10, NOW)] == ["Judul baru"]
    assert store.channels("tag") == {"rapat": 1}
    assert store.channels("month") == {"2025-01": 1}  # an entry keeps its first date


# What a file carries: (key, tag or "", month); an empty list deletes the file.
carried = st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["", "x", "y"]),
                             st.integers(1, 3)), max_size=4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), carried), max_size=8))
def test_counts_always_match_the_entries(
        tmp_path_factory: pytest.TempPathFactory,
        steps: list[tuple[int, list[tuple[str, str, int]]]]) -> None:
    store = Store(tmp_path_factory.mktemp("store") / "s.sqlite3")
    try:
        for n, (path, carried) in enumerate(steps):
            articles = [article(k, tags=(t,) if t else (), month=m) for k, t, m in carried]
            if articles:
                store.put_file(record(f"{path}.txt", n), articles, ARRIVAL)
            else:
                store.remove_file(f"{path}.txt")
        entries = store.newest(-1, NOW)
        tags = [t for a in entries for t in a.tags]
        assert store.channels("tag") == {t: tags.count(t) for t in set(tags)}
        months = [f"{a.published:%Y-%m}" for a in entries]
        assert store.channels("month") == {m: months.count(m) for m in set(months)}
        for month in store.channels("month"):
            assert len(store.newest(-1, NOW, Channel("month", month))) == months.count(month)
    finally:
        store.close()


def _tables(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every row but the generation number (one bump a batch instead of one a change)."""
    db = store._db  # a dump for comparing two stores; nothing else reads it this way
    names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: sorted(db.execute(f"SELECT * FROM {n}"), key=repr) for n in names
            if n != "meta"}


# Steps on one store: put (path, carried, keep), remove (path, keep) or look a file up.
steps_of_a_batch = st.lists(st.one_of(
    st.tuples(st.just("put"), st.integers(0, 3), carried, st.booleans()),
    st.tuples(st.just("remove"), st.integers(0, 3), st.just([]), st.booleans()),
    st.tuples(st.just("file"), st.integers(0, 3), st.just([]), st.just(False))), max_size=10)


@settings(max_examples=60, deadline=None)
@given(steps_of_a_batch)
def test_a_batch_stores_what_the_same_changes_one_by_one_store(
        tmp_path_factory: pytest.TempPathFactory,
        steps: list[tuple[str, int, list[tuple[str, str, int]], bool]]) -> None:
    folder = tmp_path_factory.mktemp("batch")
    stores = [Store(folder / "one.sqlite3"), Store(folder / "batched.sqlite3")]
    try:
        results: list[list[object]] = [[], []]
        for store, seen in zip(stores, results, strict=True):
            before = store.generation()
            with store.batch() if store is stores[1] else nullcontext():
                for n, (action, path, carried, keep) in enumerate(steps):
                    name = f"{path}.txt"
                    if action == "put":
                        articles = [article(k, tags=(t,) if t else (), month=m)
                                    for k, t, m in carried]
                        seen.append(store.put_file(record(name, n), articles, ARRIVAL,
                                                   keep=keep))
                    elif action == "remove":
                        seen.append(store.remove_file(name, keep=keep))
                    else:
                        seen.append(store.file(name))
            seen.append(store.generation() != before)
        assert results[0] == results[1]
        assert _tables(stores[0]) == _tables(stores[1])
    finally:
        for store in stores:
            store.close()
