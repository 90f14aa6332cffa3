"""The article pages a build writes: in a thread feeding the worker processes when there
are many, so the build's own thread renders the feeds meanwhile."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from feeder import atomic as output
from feeder.article import Article, images_of
from feeder.builder import Templates, article_path, render_article
from feeder.config import Config
from feeder.parallel import Map, chunked
from feeder.store.entries import Row, undecodable

CHUNK = 100  # pages a worker renders per round trip; fewer pending are written here
Pending = tuple[str, Row | None]  # a page's slug and its entry's row (None: delete it)
Broken = tuple[str, str]  # an entry whose row could not be decoded: its key, and why
Page = tuple[str, bytes, tuple[str, ...]]  # file name, its bytes, its images' names
# A worker process's templates, compiled on its first chunk of pages.
_WORKER_TEMPLATES = Templates()


@dataclass
class Written:
    """What the pages of a build came to."""

    done: list[str] = field(default_factory=list)  # slugs written or deleted
    written: list[str] = field(default_factory=list)  # files written (not already there)
    gone: list[str] = field(default_factory=list)  # files to delete
    broken: list[Broken] = field(default_factory=list)  # rows to quarantine


class Pages:
    """Writes the *pending* pages with *writer*: here when they are few, else in a thread
    that has *spread*'s workers render them (``start``, then ``finish``)."""

    def __init__(self, pending: Iterator[Pending], config: Config, templates: Templates,
                 spread: Map, writer: output.Writer) -> None:
        self._pending = pending
        self._config = config
        self._templates = templates
        self._spread = spread
        self._writer = writer
        self._result = Written()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        first = list(itertools.islice(self._pending, CHUNK))
        if len(first) < CHUNK or not self._spread.parallel:
            self._write_here(itertools.chain(first, self._pending))
            return
        self._thread = threading.Thread(target=self._write_in_workers, args=(first,),
                                        name="feeder-pages", daemon=True)
        self._thread.start()

    def finish(self) -> Written:
        """Wait for the pages; what they came to."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._result

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _write_here(self, pending: Iterable[Pending]) -> None:
        for slug, row in pending:
            self._take([(slug, row)])
            if row is None:
                continue
            articles, broken = decode([row])
            self._result.broken += broken
            for article in articles:
                self._result.written += write_page(
                    self._writer, self._config,
                    *render_page(article, self._config, self._templates))

    def _write_in_workers(self, first: list[Pending]) -> None:
        """The workers render; this thread writes. Several processes creating files at
        once contend in the kernel, so one writer is faster."""
        try:
            jobs = ((self._config, [row for _, row in self._take(chunk) if row])
                    for chunk in itertools.chain([first], chunked(self._pending, CHUNK)))
            for pages, broken in self._spread(render_pages, jobs):
                for page in pages:
                    self._result.written += write_page(self._writer, self._config, *page)
                self._result.broken += broken
        except BaseException as exc:  # handed to finish(), in the build's thread
            self._error = exc

    def _take(self, chunk: list[Pending]) -> list[Pending]:
        self._result.done += [slug for slug, _ in chunk]
        self._result.gone += [f"articles/{slug}.html" for slug, row in chunk if row is None]
        return chunk


def render_pages(job: tuple[Config, list[Row]]) -> tuple[list[Page], list[Broken]]:
    """Render a chunk of article pages from their stored rows (in a worker process); the
    rows that cannot be decoded are handed back to be quarantined."""
    config, rows = job
    articles, broken = decode(rows)
    return [render_page(article, config, _WORKER_TEMPLATES) for article in articles], broken


def decode(rows: Iterable[Row]) -> tuple[list[Article], list[Broken]]:
    """The articles of *rows*, and the rows that cannot be decoded, with why."""
    articles: list[Article] = []
    broken: list[Broken] = []
    for row in rows:
        try:
            articles.append(row.article())
        except Exception as exc:  # whatever is wrong with the row, it is this row's fault
            broken.append((row.key, undecodable(exc)))
    return articles, broken


def render_page(article: Article, config: Config, templates: Templates) -> Page:
    return (article_path(article), render_article(article, config, templates),
            images_of(article))


def write_page(writer: output.Writer, config: Config, name: str, page: bytes,
               images: tuple[str, ...]) -> list[str]:
    """Write an article's page and images; the names written (those not already there)."""
    written = [name] if writer.write(name, page, durable=False) else []
    for image in images:
        cleaned = config.media_dir / image
        path = f"images/{image}"
        if cleaned.is_file() and writer.write(path, cleaned.read_bytes(), durable=False):
            written.append(path)
    return written
