"""Watcher tests against real folders and the real watchdog observers (no fixed sleeps)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feeder.ingest.watcher import Watcher
from tests.support import wait_for

SETTLE = 0.1
MakeWatcher = Callable[..., tuple[Watcher, "Collector"]]


class Collector:
    """Records every on_settled call; optionally reads contents or raises inside the call."""

    def __init__(self, read: bool = False) -> None:
        self.calls: list[list[Path]] = []
        self.contents: dict[Path, list[str | None]] = {}
        self.read = read
        self.fail_next = False
        self.cond = threading.Condition()

    def __call__(self, paths: list[Path]) -> None:
        with self.cond:
            self.calls.append(list(paths))
            if self.read:
                for path in paths:
                    text = path.read_text() if path.exists() else None
                    self.contents.setdefault(path, []).append(text)
            self.cond.notify_all()
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("callback failure")

    def reported(self) -> list[Path]:
        with self.cond:
            return [p for call in self.calls for p in call]

    def count(self, path: Path) -> int:
        return self.reported().count(path)

    def wait_reported(self, *paths: Path, timeout: float = 5.0) -> None:
        def seen() -> bool:
            got = set(self.reported())
            return all(p in got for p in paths)

        with self.cond:
            assert self.cond.wait_for(seen, timeout), f"not reported: {paths}, got {self.calls}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    return drop


@pytest.fixture
def make_watcher(root: Path) -> Iterator[MakeWatcher]:
    started: list[Watcher] = []

    def make(collector: Collector | None = None, **kwargs: object) -> tuple[Watcher, Collector]:
        collector = collector or Collector()
        kwargs.setdefault("settle_seconds", SETTLE)
        watcher = Watcher(root, collector, **kwargs)  # type: ignore[arg-type]
        watcher.start()
        started.append(watcher)
        return watcher, collector

    yield make
    for watcher in started:
        watcher.stop()


def test_created_file_reported_once(root: Path, make_watcher: MakeWatcher) -> None:
    _, got = make_watcher()
    article = root / "a.txt"
    article.write_text("hello")
    got.wait_reported(article)
    sentinel = root / "later.md"
    sentinel.write_text("later")
    got.wait_reported(sentinel)
    assert got.count(article) == 1


def test_files_in_subfolders(root: Path, make_watcher: MakeWatcher) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    _, got = make_watcher()
    old_dir = root / "sub" / "deeper" / "a.md"
    old_dir.write_text("in an existing folder")
    new_dir = root / "fresh" / "b.txt"
    new_dir.parent.mkdir()
    new_dir.write_text("in a new folder")
    got.wait_reported(old_dir, new_dir)
    assert root / "sub" not in got.reported() and root / "fresh" not in got.reported()


def test_slow_writer_reported_complete(root: Path, make_watcher: MakeWatcher) -> None:
    watcher, got = make_watcher(Collector(read=True), settle_seconds=0.3)
    article = root / "slow.txt"
    with article.open("w") as f:
        f.write("first half, ")
        f.flush()
        assert wait_for(lambda: watcher.pending() == 1, timeout=5.0, interval=0.01)
        f.write("second half")
    got.wait_reported(article)
    assert got.contents[article] == ["first half, second half"]


def test_stat_change_without_events_delays_settling(root: Path) -> None:
    now = [0.0]
    got = Collector()
    watcher = Watcher(root, got, settle_seconds=1.0, clock=lambda: now[0])  # not started
    article = root / "a.txt"
    article.write_text("part")
    watcher._record(str(article))
    now[0] = 1.0
    assert watcher._settle_pass() == []  # first look
    with article.open("a") as f:  # a writer whose events were lost
        f.write(" and more")
    now[0] = 2.0
    assert watcher._settle_pass() == []  # size changed: look again later
    now[0] = 2.5
    assert watcher._settle_pass() == []  # unchanged, but not for long enough
    now[0] = 3.0
    assert watcher._settle_pass() == [article]
    assert watcher.pending() == 0


def test_rename_into_place_reports_dest_only(root: Path, make_watcher: MakeWatcher) -> None:
    _, got = make_watcher()
    tmp, final = root / "x.tmp", root / "x.txt"
    tmp.write_text("atomic")
    os.rename(tmp, final)
    got.wait_reported(final)
    assert tmp not in got.reported()


def test_swap_and_hidden_files_ignored(root: Path, make_watcher: MakeWatcher) -> None:
    _, got = make_watcher()
    junk = [root / ".x.swp", root / "x~", root / ".#x", root / "#x#", root / ".hidden" / "a.txt"]
    (root / ".hidden").mkdir()
    for path in junk:
        path.write_text("junk")
    sentinel = root / "real.txt"
    sentinel.write_text("real")
    got.wait_reported(sentinel)
    assert got.reported() == [sentinel]


def test_deletions_reported(root: Path, tmp_path: Path, make_watcher: MakeWatcher) -> None:
    doomed, moved_out = root / "doomed.txt", root / "moved.txt"
    doomed.write_text("bye")
    moved_out.write_text("bye too")
    _, got = make_watcher(Collector(read=True))
    doomed.unlink()
    os.rename(moved_out, tmp_path / "elsewhere.txt")
    got.wait_reported(doomed, moved_out)
    assert got.contents[doomed] == [None] and got.contents[moved_out] == [None]


def test_burst_coalesces(root: Path, make_watcher: MakeWatcher) -> None:
    _, got = make_watcher()
    paths = [root / f"burst-{i:03}.txt" for i in range(200)]
    for path in paths:
        path.write_text(path.name)
    got.wait_reported(*paths)
    reported = got.reported()
    assert sorted(reported) == paths  # every path exactly once
    assert len(got.calls) <= 20


def test_failing_callback_does_not_kill_watcher(
    root: Path, make_watcher: MakeWatcher, caplog: pytest.LogCaptureFixture
) -> None:
    collector = Collector()
    collector.fail_next = True
    _, got = make_watcher(collector)
    first, second = root / "first.txt", root / "second.txt"
    with caplog.at_level(logging.ERROR, logger="feeder.ingest.watcher"):
        first.write_text("boom")
        got.wait_reported(first)
        second.write_text("still alive")
        got.wait_reported(second)
    assert any("on_settled failed" in r.message for r in caplog.records)


def test_polling_mode(root: Path, make_watcher: MakeWatcher) -> None:
    _, got = make_watcher(polling=True, poll_interval=0.1)
    article = root / "polled.md"
    article.write_text("over NFS")
    got.wait_reported(article)


def test_stop_is_idempotent_and_fast(root: Path) -> None:
    Watcher(root, Collector()).stop()  # never started
    for polling in (False, True):
        watcher = Watcher(root, Collector(), polling=polling)
        watcher.start()
        (root / "pending.txt").write_text("x")
        began = time.monotonic()
        watcher.stop()
        watcher.stop()
        assert time.monotonic() - began < 2.5
        with pytest.raises(RuntimeError):
            watcher.start()
