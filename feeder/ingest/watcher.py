"""Drop folder watcher: turns watchdog events into *settled* paths for a callback.

Events are hints, not facts, so nothing here trusts a single event (watchdog 7.1 on Linux):

- A path settles when it has been quiet for ``settle_seconds`` *and* two stats
  ``settle_seconds`` apart agree on (size, mtime_ns); the stat comparison also catches a slow
  writer that appends without producing events.
- A file written to (``FileModifiedEvent``, inotify's IN_MODIFY) is also waited for until its
  writer closes it (``FileClosedEvent``, IN_CLOSE_WRITE): a writer that pauses mid-file
  longer than the settle time is not read half-written. "Closed" alone does not mean
  complete (a killed writer closes too, and a writer may open and close many times), so it
  only ends the wait; the quiet time still applies. A file written but never closed (a
  writer that keeps it open, or the polling observer, which sees no closes) is read once it
  has been quiet for ``close_wait_seconds``. Files moved or linked in were complete before
  they arrived (no write happens here) and are not waited for.
- A file ``mv``'d in gives only ``FileCreatedEvent``, and an atomic rename (``x.tmp`` ->
  ``x.txt``) only a ``FileMovedEvent`` whose ``dest_path`` is the real name; so every event
  kind is just "look at this path later", and moves record both ends (the src as a
  possible deletion). Deletions are reported too; downstream checks existence.
- Since watchdog 7.0 a pattern like ``*.txt`` matches nothing, so we filter names ourselves
  with ``is_ignored`` on the root-relative POSIX path.
- Paths are looked at with ``lstat``: a link is reported as itself, never followed.
- watchdog logs a warning per folder it cannot watch (a deep or unreadable tree can make
  thousands); those are rate-limited (``_RateLimit``) so they cannot flood the log.
- Opened/closed-without-write events are not subscribed to: ingestion reads every reported
  file, and those reads would otherwise re-trigger the watcher forever.
- inotify queue overflow drops events with only a log line; the periodic full rescan covers
  it, and ingestion is idempotent, so reporting a path twice is harmless.

The observer thread only records (path -> last event time) under a lock; all file I/O and the
callback run on our own settle thread, which works in ticks of ``settle_seconds / 2`` while
anything is pending, so a burst of files is delivered in a few large batches.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from feeder.ingest.names import is_ignored as ignored

log = logging.getLogger(__name__)

_EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileAttribEvent, FileClosedEvent, FileMovedEvent,
    FileDeletedEvent,
]
_IGNORED_TYPES = frozenset({"opened", "closed_no_write"})

Stat = tuple[int, int] | None  # (size, mtime_ns), None when the path does not exist


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        # An exception here would kill watchdog's dispatcher thread, so never let one out.
        try:
            if event.is_directory or event.event_type in _IGNORED_TYPES:
                return
            kind = event.event_type
            # The source of a move was left, and the destination arrived complete.
            self._watcher._record(event.src_path, writing=kind == "modified",
                                  closed=kind in ("closed", "moved", "deleted"))
            if event.dest_path:
                self._watcher._record(event.dest_path, closed=True)
        except Exception:
            log.exception("watcher: could not record %r", event)


class _RateLimit(logging.Filter):
    """Lets through at most *burst* records a *period* per logger, then one saying how many
    were left out: watchdog warns once per folder it cannot watch."""

    def __init__(self, burst: int = 5, period: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._burst, self._period, self._clock = burst, period, clock
        self._lock = threading.Lock()
        self._window = float("-inf")
        self._passed = self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            now = self._clock()
            if now - self._window >= self._period:
                if self._dropped:
                    record.msg = (f"{record.msg} ({self._dropped} similar message(s) left out "
                                  f"in the last {self._period:g} s)")
                self._window, self._passed, self._dropped = now, 0, 0
            if self._passed < self._burst:
                self._passed += 1
                return True
            self._dropped += 1
            return False


_WATCHDOG_LIMIT = _RateLimit()
for _name in ("watchdog.observers.inotify", "watchdog.observers.inotify_c",
              "watchdog.observers.inotify_buffer", "watchdog.observers.polling",
              "watchdog.observers.api", "py.warnings"):
    logging.getLogger(_name).addFilter(_WATCHDOG_LIMIT)


def quiet_watchdog() -> None:
    """For the service: Python warnings go to the log (rate-limited, escaped), and the one
    watchdog repeats for every folder of every level of a deep tree (its watch callbacks)
    is dropped: each distinct text would also be remembered by the warnings module for
    good, which is how a deep tree once took hundreds of MB."""
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", message="Callback with id .* already exists",
                            category=RuntimeWarning, module="watchdog")


class Watcher:
    """Reports files under ``root`` to ``on_settled`` once they stop changing."""

    def __init__(self, root: Path, on_settled: Callable[[list[Path]], None], *,
                 settle_seconds: float = 0.25, close_wait_seconds: float = 5.0,
                 polling: bool = False, poll_interval: float = 1.0,
                 is_ignored: Callable[[str], bool] = ignored,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.root = Path(root)
        self._on_settled = on_settled
        self._settle = settle_seconds
        # The polling observer sees no closes: there the quiet time alone must do.
        self._close_wait = settle_seconds if polling else max(close_wait_seconds,
                                                                settle_seconds)
        self._tick = max(settle_seconds / 2, 0.01)
        self._polling = polling
        self._poll_interval = poll_interval
        self._is_ignored = is_ignored
        self._clock = clock
        self._lock = threading.Lock()
        self._events: dict[Path, float] = {}  # guarded by _lock
        self._writing: set[Path] = set()  # written to and not closed since; guarded by _lock
        self._checks: dict[Path, tuple[Stat, float]] = {}  # settle thread only
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._observer is not None or self._stopping.is_set():
            raise RuntimeError("a Watcher can be started only once")
        observer: BaseObserver = (PollingObserver(timeout=self._poll_interval) if self._polling
                                  else Observer())
        observer.schedule(_Handler(self), str(self.root), recursive=True,
                          event_filter=_EVENT_FILTER)
        self._observer = observer
        self._thread = threading.Thread(target=self._run, name="feeder-watcher", daemon=True)
        self._thread.start()
        observer.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None and self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=2)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def pending(self) -> int:
        with self._lock:
            return len(self._events)

    def busy(self, path: Path) -> bool:
        """Has *path* events not settled yet (being written, or just arrived)?"""
        with self._lock:
            return path in self._events

    def _record(self, raw: bytes | str, *, writing: bool = False, closed: bool = False) -> None:
        path = Path(os.fsdecode(raw))
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return
        if self._is_ignored(relative):
            return
        with self._lock:
            self._events[path] = self._clock()
            if writing:
                self._writing.add(path)
            elif closed:
                self._writing.discard(path)
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self.pending():
                self._stopping.wait(self._tick)  # fixed ticks, so a burst settles in batches
            else:
                self._wake.wait()
                self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                settled = self._settle_pass()
            except Exception:
                log.exception("watcher: settle pass failed")
                continue
            if settled:
                try:
                    self._on_settled(settled)
                except Exception:
                    log.exception("watcher: on_settled failed for %d paths", len(settled))

    def _settle_pass(self) -> list[Path]:
        with self._lock:
            snapshot = dict(self._events)
            writing = set(self._writing)
        now = self._clock()
        settled: list[Path] = []
        for path, last_event in snapshot.items():
            check = self._checks.get(path)
            fresh = check is not None and check[1] >= last_event  # taken after the last event
            quiet = self._close_wait if path in writing else self._settle
            if now - last_event < quiet:
                if not fresh:  # a first look now lets the path settle one tick sooner
                    self._checks[path] = (_stat(path), now)
                continue
            current = _stat(path)
            if current is None:
                settled.append(path)
            elif check is not None and fresh and check[0] == current:
                if now - check[1] >= min(quiet, self._settle):
                    settled.append(path)
            else:
                self._checks[path] = (current, now)
        with self._lock:
            # A path with an event since the snapshot stays pending and is looked at again.
            settled = [p for p in settled if self._events.get(p) == snapshot[p]]
            for path in settled:
                del self._events[path]
                self._writing.discard(path)
        for path in settled:
            self._checks.pop(path, None)
        return sorted(settled)


def _stat(path: Path) -> Stat:
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)
