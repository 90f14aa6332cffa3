"""6. Memory: peak RSS (VmHWM) of ``feeder run`` on the cold-import archive, after its start-up
scan, serving every feed, and publishing one new file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import corpus
from benchmarks.common import (
    FeederService,
    Scale,
    Section,
    corpus_newest,
    count,
    mib,
    ms,
    wait_until,
    write_config,
)

TARGET_KIB = 150 * 1024
FILES = ("/rss.xml", "/atom.xml", "/feed.json", "/", "/feeds.opml")


def exercise(service: FeederService, drop: Path) -> float:
    """Fetch the feeds (plain and gzip), then publish one new article; return its latency."""
    client = service.client()
    try:
        for path in FILES:
            for headers in (None, {"Accept-Encoding": "gzip"}):
                client.get(path, headers)
        staging = drop.parent / "staging"
        staging.mkdir(exist_ok=True)
        day = corpus_newest() + timedelta(days=1)
        staged = staging / "memory-probe.txt"
        staged.write_text(corpus.page_text(0, [day], tag="mem"), encoding="utf-8")
        os.rename(staged, drop / staged.name)
        renamed = time.perf_counter()
        wait_until(lambda: b"(mem 0)</title>" in client.get("/rss.xml")[2], 60, interval=0.01)
        return time.perf_counter() - renamed
    finally:
        client.close()


def run(scale: Scale, root: Path) -> Section:
    """Start the service on *root* (the cold-import workspace) and read its peak RSS."""
    section = Section("6. Memory of feeder run (VmHWM)")
    config = write_config(root, server={"port": 0})  # the import's folders, any free port
    started = time.perf_counter()
    with FeederService(config, root / "memory-service.log") as service:
        service.ready(timeout=scale.pick(300, 60))
        startup = time.perf_counter() - started
        after_start = service.status()
        latency = exercise(service, root / "drop")
        status = service.status()
        helpers = [service.status(pid).get("VmHWM", 0) for pid in service.descendants()]
    articles = _articles(root)
    peak = status.get("VmHWM", 0)
    ok = peak < TARGET_KIB if not scale.quick else None
    section.add(f"peak RSS with {count(articles)} articles stored", mib(peak),
                f"< {mib(TARGET_KIB)}", ok)
    section.add("its child processes (resource tracker, fork server, workers): peak RSS",
                ' / '.join(mib(kib) for kib in helpers) or '-')
    section.add("RSS after start-up scan / at the end",
                f"{mib(after_start.get('VmRSS', 0))} / {mib(status.get('VmRSS', 0))}")
    section.add("start-up until /healthz is ok (includes the scan of the drop folder)",
                f"{startup:.1f} s")
    section.add("one new file, rename to visible in /rss.xml", ms(latency))
    section.notes.append(
        "`feeder run` started on the store, drop folder and outputs left by the cold import "
        "(default config); each feed and the index fetched plain and gzipped, then one "
        "new article dropped and awaited. VmHWM and VmRSS come from /proc/PID/status. The "
        "target is read on the service's own process; its worker processes (see the "
        "`processes` setting) are separate processes, listed on their own row.")
    return section


def _articles(root: Path) -> int:
    """Entries in the store, read without importing feeder's Store into this process."""
    with contextlib.closing(sqlite3.connect(root / "state" / "feeder.sqlite3")) as db:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])
