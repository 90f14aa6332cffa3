"""3. Rebuild cost against archive size, in-process with a Store.

For each archive size: a build with nothing changed, and the cost of one new article
(write one file, ``Ingestor.ingest`` it, ``Publisher.build`` by one publisher, as the
service keeps one). A build must cost the feed's size, not the archive's, so the ratio of
the largest archive to the smallest is the figure.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from benchmarks import corpus
from benchmarks.common import (
    Scale,
    Section,
    corpus_newest,
    count,
    median,
    ms,
    timed,
    write_config,
)
from feeder import publish
from feeder.config import Config, load_config
from feeder.ingest import Ingestor
from feeder.store import Store

MAX_RATIO = 1.5
NO_CHANGE_TARGET = 0.005


@dataclass
class Costs:
    """Median seconds for one archive size."""

    articles: int
    no_change: float
    no_change_max: float
    ingest: float
    build: float

    @property
    def one_new(self) -> float:
        return self.ingest + self.build


def build_archive(root: Path, articles: int) -> Path:
    """A drop folder of *articles*, scanned and built in-process; return its config."""
    config_path = write_config(root)
    corpus.write_pages(root / "drop", articles, corpus_newest())
    config = load_config(config_path)
    store = Store(config.store_path)
    try:
        Ingestor(store, config).scan()
        publish.build(store, config)
    finally:
        store.close()
    return config_path


def measure(config_path: Path, no_change_runs: int, new_runs: int) -> Costs:
    """Median costs of a no-change build and of one new article, on an existing archive."""
    # The feeds are fsynced: with the gigabyte the cold import just wrote still being
    # written back, each fsync would wait for it, and the 100k figure would measure that.
    os.sync()
    config = load_config(config_path)
    store = Store(config.store_path)
    try:
        ingestor = Ingestor(store, config)
        # One publisher for every build, as the service keeps one: its caches stay warm, and
        # its first build alone sweeps the output folder for a killed writer's leftovers.
        publisher = publish.Publisher(config)
        publisher.build(store)  # settle: anything left over from before
        articles = store.count()
        idle = [timed(lambda: publisher.build(store))[0] for _ in range(no_change_runs)]
        ingests, builds = [], []
        for run in range(new_runs):
            ingest, build = _one_new_article(config, store, ingestor, publisher, run)
            ingests.append(ingest)
            builds.append(build)
    finally:
        store.close()
    return Costs(articles, median(idle), max(idle), median(ingests), median(builds))


def _one_new_article(config: Config, store: Store, ingestor: Ingestor,
                     publisher: publish.Publisher, run: int) -> tuple[float, float]:
    """Drop one single-article page dated after the archive; time ingest and build."""
    path = config.drop_dir / f"new-{time.time_ns()}.txt"
    day = corpus_newest() + timedelta(days=1)
    path.write_text(corpus.page_text(10_000_000 + run, [day], tag="baru"), encoding="utf-8")
    started = time.perf_counter()
    changes = ingestor.ingest(path)
    ingested = time.perf_counter()
    report = publisher.build(store)
    built = time.perf_counter()
    if not changes.added or "rss.xml" not in report.written:
        raise RuntimeError(f"the new article did not reach the feed: {changes}, {report}")
    return ingested - started, built - ingested


def run(scale: Scale, roots: list[Path], largest: Path | None) -> Section:
    """Build archives in *roots* (plus the cold-import one, *largest*) and compare them."""
    section = Section("3. Rebuild cost vs archive size (in-process)")
    sizes = scale.pick([1_000, 10_000], [100, 500])
    no_change_runs, new_runs = scale.pick((30, 7), (10, 3))
    logging.getLogger("feeder").setLevel(logging.WARNING)
    configs = [build_archive(root, size) for root, size in zip(roots, sizes, strict=False)]
    if largest is not None:
        configs.append(largest / "feeder.toml")
    results = [measure(path, no_change_runs, new_runs) for path in configs]
    for costs in results:
        label = f"{count(costs.articles)} articles"
        section.add(f"{label}: one new article (ingest + build)", ms(costs.one_new))
        section.add(f"{label}: of which build", ms(costs.build))
        section.add(f"{label}: nothing changed (median / max)",
                    f"{ms(costs.no_change)} / {ms(costs.no_change_max)}",
                    f"< {ms(NO_CHANGE_TARGET)}", costs.no_change < NO_CHANGE_TARGET)
    small, big = results[0], results[-1]
    ratio = big.one_new / small.one_new
    section.add(f"ratio {count(big.articles)} / {count(small.articles)} (one new article)",
                f"{ratio:.2f}", f"<= {MAX_RATIO}", ratio <= MAX_RATIO)
    section.notes.append(
        f"Medians of {new_runs} new articles (each one file of one article dated after the "
        f"archive, so every feed changes) and of {no_change_runs} builds with nothing "
        "changed. Each archive was scanned and built once first (not timed); the largest "
        "is the cold-import store. Default configuration (max_entries 50).")
    return section
