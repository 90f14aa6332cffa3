"""4. Drop-to-published latency of ``feeder run``: from a file's rename into the drop folder
to its entry in ``GET /rss.xml``, for files one at a time and for a burst.

Files are written to a staging folder on the same filesystem first, then renamed in, as
careful tools do. A poller thread fetches /rss.xml every few milliseconds (conditionally,
so an unchanged feed costs a 304) and notes when each title first appears.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks import corpus
from benchmarks.common import (
    Client,
    FeederService,
    Scale,
    Section,
    corpus_newest,
    file_creation_us,
    ms,
    percentile,
    wait_until,
    write_config,
)
from feeder.config import SETTINGS

TOKEN = re.compile(rb"\((lat-[a-z]+ \d+)\)</title>")
REBUILT = re.compile(r"rebuilt in ([\d.]+) s")
INGESTED = re.compile(r"^(\S+ \S+) INFO +feeder\.ingest[.\w]*: \S+: \d+ article", re.M)
COMPARE_SETTLE = 0.05
DEFAULT_SETTLE = next(s.default for s in SETTINGS if s.key == "service.settle_seconds")
POLL_INTERVAL = 0.005
BURST_P99_TARGET = 1.0
SINGLE_P50_TARGET = 0.25


class FeedPoller(threading.Thread):
    """Polls a feed and records when each token first appears (``perf_counter`` seconds)."""

    def __init__(self, client: Client, path: str = "/rss.xml") -> None:
        super().__init__(name="feed-poller", daemon=True)
        self.client = client
        self.path = path
        self.seen: dict[str, float] = {}
        self.polls = 0
        self.changed = threading.Condition()
        self._halt = threading.Event()

    def run(self) -> None:
        etag = None
        while not self._halt.is_set():
            status, headers, body = self.client.get(
                self.path, {"If-None-Match": etag} if etag else None)
            arrived = time.perf_counter()
            self.polls += 1
            if status == 200:
                etag = headers.get("etag")
                fresh = {t.decode() for t in TOKEN.findall(body)} - self.seen.keys()
                if fresh:
                    with self.changed:
                        self.seen.update(dict.fromkeys(fresh, arrived))
                        self.changed.notify_all()
            self._halt.wait(POLL_INTERVAL)

    def wait_for(self, tokens: set[str], timeout: float) -> bool:
        """Block until every token has been seen; False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: tokens <= self.seen.keys(), timeout)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)
        self.client.close()


def stage(folder: Path, tag: str, count: int) -> list[tuple[str, Path]]:
    """Write *count* one-article news pages to *folder*; return (token, path) pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    day = corpus_newest() + timedelta(days=1)
    staged = []
    for n in range(count):
        path = folder / f"{tag}-{n:05d}.txt"
        path.write_text(corpus.page_text(n, [day], tag=tag), encoding="utf-8")
        staged.append((f"{tag} {n}", path))
    return staged


def singles(poller: FeedPoller, staged: list[tuple[str, Path]], drop: Path,
            timeout: float) -> list[float]:
    """Rename files in one at a time, each after the previous one showed up."""
    latencies = []
    for token, path in staged:
        moved = drop / path.name
        os.rename(path, moved)
        renamed = time.perf_counter()
        if not poller.wait_for({token}, timeout):
            raise TimeoutError(f"{moved.name} not in the feed after {timeout:g} s")
        latencies.append(poller.seen[token] - renamed)
    return latencies


def burst(poller: FeedPoller, staged: list[tuple[str, Path]], drop: Path,
          timeout: float) -> tuple[list[float], float]:
    """Rename all files in at once; return latencies and how long the renames took."""
    renamed: dict[str, float] = {}
    started = time.perf_counter()
    for token, path in staged:
        os.rename(path, drop / path.name)
        renamed[token] = time.perf_counter()
    spread = time.perf_counter() - started
    poller.wait_for(set(renamed), timeout)
    missing = set(renamed) - poller.seen.keys()
    if missing:
        raise TimeoutError(f"{len(missing)} of {len(renamed)} files not in the feed after "
                           f"{timeout:g} s")
    return [poller.seen[t] - renamed[t] for t in renamed], spread


def _built_after_ingest(log: str) -> bool:
    last = max((m.end() for m in INGESTED.finditer(log)), default=0)
    return REBUILT.search(log, last) is not None


def build_times(log: str) -> list[float]:
    return [float(s) for s in REBUILT.findall(log)]


def ingest_window(log: str, since: float) -> tuple[float, float]:
    """Seconds from *since* (wall clock) to the first and the last file ingested, from the
    service log's timestamps (millisecond resolution)."""
    stamps = [datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f").timestamp() - since
              for m in INGESTED.finditer(log)]
    return (min(stamps), max(stamps)) if stamps else (float("nan"), float("nan"))


def report(section: Section, label: str, values: list[float], target: str = "",
           ok: bool | None = None) -> None:
    section.add(f"{label}: p50 / p99 / max",
                f"{ms(percentile(values, 50))} / {ms(percentile(values, 99))} / "
                f"{ms(max(values))}", target, ok)


@dataclass
class Phases:
    """What one service run measured."""

    single: list[float]
    single_builds: list[float]
    burst: list[float] = field(default_factory=list)
    burst_builds: list[float] = field(default_factory=list)
    burst_ingest: tuple[float, float] = (float("nan"), float("nan"))
    spread: float = 0.0
    polls: int = 0


def measure(root: Path, single_count: int, burst_count: int, settle: float | None) -> Phases:
    """One `feeder run`: files one at a time first (on an empty store), then a burst."""
    service_keys = {} if settle is None else {"settle_seconds": settle}
    config = write_config(root, feed={"max_entries": single_count + burst_count + 100},
                          server={"port": 0}, service=service_keys)
    staged_singles = stage(root / "staging", "lat-s", single_count)
    staged_burst = stage(root / "staging", "lat-b", burst_count)
    with FeederService(config, root / "service.log") as service:
        service.ready(timeout=60)
        poller = FeedPoller(service.client())
        poller.start()
        try:
            logged = len(service.log())
            one = singles(poller, staged_singles, root / "drop", timeout=30)
            # A build logs its time after writing the feeds: let the last one finish, or
            # it counts as one of the burst's.
            wait_until(lambda: _built_after_ingest(service.log()[logged:]), 10)
            phases = Phases(one, build_times(service.log()[logged:]))
            if staged_burst:
                logged = len(service.log())
                wall = time.time()
                phases.burst, phases.spread = burst(poller, staged_burst, root / "drop",
                                                    timeout=120)
                # The feeds are written before the build logs its time: wait for the line.
                wait_until(lambda: _built_after_ingest(service.log()[logged:]), 10)
                text = service.log()[logged:]
                phases.burst_builds = build_times(text)
                phases.burst_ingest = ingest_window(text, wall)
        finally:
            poller.stop()
        phases.polls = poller.polls
    return phases


def run(scale: Scale, root: Path) -> Section:
    """Start `feeder run`, drop files one at a time, then in a burst; report percentiles.
    A second, smaller run with a shorter settle time shows how much of it is the settle."""
    section = Section("4. Drop-to-published latency (feeder run, GET /rss.xml)")
    single_count, burst_count = scale.pick((100, 1000), (5, 50))
    creation = file_creation_us(root / "probe")
    main = measure(root / "default", single_count, burst_count, None)
    fast = measure(root / "settle", single_count // 2, 0, COMPARE_SETTLE)
    one, many = main.single, main.burst
    report(section, f"one at a time ({len(one)} files)", one,
           f"p50 < {ms(SINGLE_P50_TARGET)}", percentile(one, 50) < SINGLE_P50_TARGET)
    report(section, f"burst ({len(many)} files)", many, f"p99 < {ms(BURST_P99_TARGET)}",
           percentile(many, 99) < BURST_P99_TARGET)
    section.add("one at a time: builds, median build time",
                f"{len(main.single_builds)}, {ms(percentile(main.single_builds, 50))}")
    first, last = main.burst_ingest
    section.add("burst: rename to first / last file ingested (service log)",
                f"{ms(first)} / {ms(last)}")
    section.add("burst: builds, median / max build time",
                f"{len(main.burst_builds)}, {ms(percentile(main.burst_builds, 50))} / "
                f"{ms(max(main.burst_builds, default=float('nan')))}")
    section.add("file creation on this disk just before (create + 5 KB + rename)",
                f"{creation:.0f} µs")
    report(section, f"for comparison: one at a time, settle_seconds {COMPARE_SETTLE:g} "
           f"({len(fast.single)} files)", fast.single)
    section.notes.append(
        f"Default service settings (settle_seconds {DEFAULT_SETTLE:g}) unless stated; "
        f"feed.max_entries "
        f"{single_count + burst_count + 100} so every entry stays visible. Each file is one "
        f"news page of one article. The one-at-a-time phase runs first, on an empty store, "
        f"then the burst (its {burst_count} renames took {ms(main.spread)}). A title counts "
        f"as published when a poll (every {POLL_INTERVAL * 1000:g} ms, conditional GET) "
        f"returns a feed holding it ({main.polls} polls).")
    return section
