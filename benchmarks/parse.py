"""1. Parse throughput: ``feeder.parser.parse`` called directly on generated files."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

from benchmarks import corpus
from benchmarks.common import TIMEZONE, Scale, Section, corpus_newest
from feeder.ingest.scan import PARSE_CHUNK
from feeder.parallel import Workers, chunked, worker_count
from feeder.parser import Context, Parsed, parse

Corpus = list[tuple[str, bytes]]


def news_pages(files: int, newest: date) -> Corpus:
    """Seed-style pages of five articles each."""
    return [(name, text.encode()) for name, text in
            corpus.pages(files * corpus.ARTICLES_PER_PAGE, newest)]


def plain_texts(files: int, newest: date) -> Corpus:
    return [(f"single-{n:05d}.txt", corpus.single_text(n, newest).encode())
            for n in range(files)]


def markdowns(files: int, newest: date) -> Corpus:
    return [(f"article-{n:05d}.md", corpus.markdown_text(n, newest).encode())
            for n in range(files)]


KINDS: dict[str, Callable[[int, date], Corpus]] = {
    "news pages (.txt, 5 articles each)": news_pages,
    "single articles (.txt)": plain_texts,
    "Markdown with front matter (.md)": markdowns,
}


def throughput(files: Corpus, seconds: float, rounds: int = 1) -> tuple[float, float, float]:
    """Parse *files* over and over for about *seconds*, *rounds* times; return the best
    round's (articles/s, files/s, MB/s)."""
    return max(_throughput(files, seconds) for _ in range(rounds))


def _throughput(files: Corpus, seconds: float) -> tuple[float, float, float]:
    received = datetime.now(TIMEZONE)
    contexts = [(data, Context(path=name, received=received)) for name, data in files]
    for data, ctx in contexts[:20]:  # warm up regex and template caches
        parse(data, ctx)
    articles = parsed = size = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for data, ctx in contexts:
            articles += len(parse(data, ctx).articles)
            parsed += 1
            size += len(data)
    elapsed = time.perf_counter() - started
    return articles / elapsed, parsed / elapsed, size / elapsed / 1e6


def throughput_on_all_cores(files: Corpus, seconds: float, rounds: int = 1
                            ) -> tuple[float, int]:
    """Articles/s with the files parsed as a scan parses them: in chunks, by feeder's worker
    processes (one a core), results sent back to this process (the best of *rounds* rounds
    of *seconds*); and how many workers."""
    received = datetime.now(TIMEZONE)
    chunks = list(chunked([(data, Context(path=name, received=received))
                           for name, data in files], PARSE_CHUNK))
    with Workers(worker_count(0)) as workers:
        workers.warm()
        list(workers.map(parse_jobs, chunks[:2 * max(workers.count, 1)]))  # warm caches
        best = 0.0
        for _ in range(rounds):
            articles = 0
            started = time.perf_counter()
            deadline = started + seconds
            while time.perf_counter() < deadline:
                for results in workers.map(parse_jobs, chunks):
                    articles += sum(len(r.articles) for r in results)
            best = max(best, articles / (time.perf_counter() - started))
    return best, workers.count


def parse_jobs(chunk: list[tuple[bytes, Context]]) -> list[Parsed]:
    """A chunk parsed in a worker, as the scan's ``read_chunk`` does after reading."""
    return [parse(data, ctx) for data, ctx in chunk]


TARGET_PER_SECOND = 20_000


def run(scale: Scale) -> Section:
    """Articles per second for each kind of file, one core."""
    section = Section("1. Parse throughput")
    files = scale.pick(400, 60)
    # Noise on a shared VM only ever slows a round down: the best of a few is the figure.
    seconds, rounds = scale.pick((2.0, 3), (0.4, 1))
    newest = corpus_newest()
    pages_label = next(iter(KINDS))
    # The target is for seed-style pages on the whole (2-core) machine.
    shared, workers = throughput_on_all_cores(news_pages(files, newest), seconds, rounds)
    section.add(f"{pages_label}, all cores ({workers} workers): articles/s", f"{shared:,.0f}",
                f">= {TARGET_PER_SECOND:,}", shared >= TARGET_PER_SECOND)
    rates = {}
    for label, make in KINDS.items():
        per_article, per_file, mb = throughput(make(files, newest), seconds, rounds)
        rates[label] = per_article
        section.add(f"{label}, one core: articles/s", f"{per_article:,.0f}")
        section.add(f"{label}, one core: files/s, MB/s", f"{per_file:,.0f}, {mb:.1f}")
    pages, markdown = rates[pages_label], rates[list(KINDS)[2]]
    section.notes.append(
        f"{files} distinct files per kind, parsed repeatedly for {seconds:g} s each, best of "
        f"{rounds} round(s), "
        "in-process (no I/O): on one core by `feeder.parser.parse`, and on all cores the way "
        f"a scan parses them (chunks of {PARSE_CHUNK} files to feeder's worker processes, "
        f"results back to the calling process). Markdown parses at {markdown / pages:.2f}x "
        "the rate of news-page articles.")
    return section
