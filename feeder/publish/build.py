"""Store → output folder: render what changed since the last build and write it atomically.

A build with nothing changed reads two numbers from the store and writes nothing; otherwise
it renders the feeds (the newest ``max_entries``) and only the article pages that changed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from feeder import __version__, metrics
from feeder import atomic as output
from feeder.article import Article, Picture
from feeder.builder import (
    CHANNEL_FILES,
    Archive,
    Channel,
    SourceSummary,
    archive_path,
    article_path,
    entries_to_make,
    make_entries,
    remember_entries,
    render_archive,
    render_article,
    render_assets,
    render_feeds,
    render_opml,
    templates_digest,
)
from feeder.builder.icons import default_icon, render_icons
from feeder.channel import Channel as Feed
from feeder.config import Config
from feeder.errors import BuildError
from feeder.parallel import IN_PROCESS, Workers, alive, chunked
from feeder.sources import describe
from feeder.store import Store
from feeder.store.entries import Row, channels, undecodable

log = logging.getLogger(__name__)
# A page's slug and its entry's stored row (None: delete the page).
Pending = tuple[str, Row | None]
Broken = tuple[str, str]  # an entry whose row could not be decoded: its key, and why
PAGE_CHUNK = 100  # pages a worker renders per round trip; fewer pending are written here
ENTRY_CHUNK = 100  # feed entries a worker makes per round trip; fewer are made here


@dataclass
class BuildReport:
    skipped: bool = False
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # "kind:name" of channels rendered
    seconds: float = 0.0


def _render_channels(store: Store, config: Config, now: datetime, dirty: Iterable[Feed],
                     workers: Workers) -> tuple[dict[str, bytes], list[str], list[Feed]]:
    """The aggregate's files, and those of the channels that changed (or files to delete);
    and the channels rendered."""
    before = json.loads(store.meta("archive_months") or "[]")
    months = list(store.channels("month"))
    rendered = sorted(set(dirty) | _moved_neighbours(before, months))
    aggregate = store.newest(config.feed_max_entries, now)
    others = [(c, store.newest(config.feed_max_entries, now, c)) for c in rendered
              if c.kind != "month"]
    _make_entries([aggregate, *(entries for _, entries in others)], config, workers)
    counts = store.sources()
    summaries = []
    for key in counts:
        latest = store.newest(1, now, Feed("source", key))
        if latest:  # only sources with something out: an embargo must not show early
            summaries.append(SourceSummary(describe(key, config), latest[0]))
    known = [summary.source for summary in summaries]
    tags = list(store.channels("tag"))
    files = render_feeds(aggregate, config, sources=summaries, tags=tags,
                         archive=months[-1] if months else None)
    files["feeds.opml"] = render_opml(known, tags, config)
    files.update(render_assets(config))
    gone: list[str] = []
    archived = [c.name for c in rendered if c.kind == "month"]
    _render_months(store, config, now, archived, months, workers, files, gone)
    for channel, entries in others:
        target = (Channel.of(describe(channel.name, config)) if channel.kind == "source"
                  else Channel.tag(channel.name, config))
        if entries:
            files.update(render_feeds(entries, config, target))
        else:
            gone += [target.prefix + file for file in CHANNEL_FILES]
    return files, gone, rendered


def _make_entries(lists: list[list[Article]], config: Config, workers: Workers) -> None:
    """After a burst the feeds share many new entries: the workers make them, in chunks,
    for this thread to put into each feed."""
    if workers.count < 1:
        return
    missing = entries_to_make(lists, config)
    if len(missing) < ENTRY_CHUNK:
        return
    chunks = list(chunked(missing, ENTRY_CHUNK))
    jobs = ((chunk, config) for chunk in chunks)
    for chunk, made in zip(chunks, workers.map(make_entries_job, jobs), strict=True):
        remember_entries(chunk, config, made)


def make_entries_job(job: tuple[list[Article], Config]) -> list[tuple[bytes, bytes]]:
    return make_entries(*job)


def _render_months(store: Store, config: Config, now: datetime, dirty: list[str],
                   months: list[str], workers: Workers, files: dict[str, bytes],
                   gone: list[str]) -> None:
    """The archive pages of the *dirty* months: in the workers when there are several
    (a first build renders the whole archive this way), reading one month at a time."""
    links = _neighbours(months)
    kept: list[str] = []

    def jobs() -> Iterator[tuple[list[Row], Config, Archive]]:
        for month in dirty:
            rows = store.latest(-1, now, Feed("month", month)) if month in links else []
            if rows:
                kept.append(month)
                yield rows, config, Archive(month, *links[month])
            else:
                gone.append(archive_path(month))

    runner = workers if len(dirty) > 1 else IN_PROCESS
    for n, made in enumerate(runner.map(render_archive_job, jobs())):
        month = kept[n]
        if isinstance(made, bytes):
            files[archive_path(month)] = made
            continue
        for key, reason in made:  # rows that cannot be decoded: out, then the rest
            store.quarantine(key, reason)
        entries = store.newest(-1, now, Feed("month", month))
        if entries:
            files[archive_path(month)] = render_archive(entries, config,
                                                        Archive(month, *links[month]))
        else:
            gone.append(archive_path(month))


def render_archive_job(job: tuple[list[Row], Config, Archive]
                       ) -> bytes | list[Broken]:
    """A month's archive page from its stored rows: decoded where it is rendered, in a
    worker when there are many months, rather than in feeder's process. Rows that cannot be
    decoded are handed back instead, for feeder's process to quarantine."""
    rows, config, month = job
    articles, broken = _decode(rows)
    return broken if broken else render_archive(articles, config, month)


def _decode(rows: Iterable[Row]) -> tuple[list[Article], list[Broken]]:
    articles: list[Article] = []
    broken: list[Broken] = []
    for row in rows:
        try:
            articles.append(row.article())
        except Exception as exc:  # whatever is wrong with the row, it is this row's fault
            broken.append((row.key, undecodable(exc)))
    return articles, broken


def _moved_neighbours(before: list[str], months: list[str]) -> set[Feed]:
    """Archive months whose previous or next month changed since the last build."""
    old, new = _neighbours(before), _neighbours(months)
    return {Feed("month", m) for m in old.keys() | new.keys() if old.get(m) != new.get(m)}


def _neighbours(months: list[str]) -> dict[str, tuple[str | None, str | None]]:
    return {m: (months[i - 1] if i else None, months[i + 1] if i + 1 < len(months) else None)
            for i, m in enumerate(months)}


def build(store: Store, config: Config, *, now: datetime | None = None,
          force: bool = False, workers: Workers = IN_PROCESS) -> BuildReport:
    """Bring the output folder up to date with the store as of *now*; raise BuildError.

    When it fails, files already replaced are complete new versions and the rest are the
    previous ones; the same changes are retried by the next build. Embargoed entries whose
    time has come since the last build are published now.
    """
    started = time.perf_counter()
    now = now or datetime.now(config.tz)
    _sweep_once(config)
    look = _render_fingerprint(config)
    # A lost output folder (or a changed look) needs every page again, not just new ones.
    missing = not (config.output_dir / "index.html").exists()
    fresh = force or missing or store.meta("render_fingerprint") != look
    if fresh:
        store.mark_all_pages_pending()
        store.set_meta("render_fingerprint", look)
    generation = store.generation()
    last = store.meta("built_at")
    released = store.released(datetime.fromisoformat(last) if last else None, now)
    if str(generation) == store.meta("built_generation") and not released:
        return BuildReport(skipped=True, seconds=time.perf_counter() - started)
    for due in released:
        log.info("publishing scheduled article %r (due %s)", due.title, due.published.isoformat())
    report = BuildReport()
    dirty = [*store.dirty_channels(), *(c for a in released for c in channels(a))]
    writer = output.Writer(config.output_dir)
    pages = Pages(store, config, now, workers, writer)
    try:
        # The workers write the pages while this thread renders the feeds.
        pages.start()
        files, gone, rendered = _render_channels(store, config, now, dirty, workers)
        report.channels = [c.text() for c in rendered]
        if fresh:  # the icons change only with the look
            files.update(_icons(config))
        # Pages and images first, feeds last: a reader never meets a link to a page or an
        # image not yet written.
        done = pages.finish(report, gone)
        report.deleted = [name for name in gone if writer.remove(name)]
        for name, data in files.items():
            if writer.write(name, data):
                report.written.append(name)
        writer.finish()
    except OSError as exc:
        raise BuildError(f"writing {config.output_dir} failed: {exc}; the previous feeds "
                         "stay in place") from exc
    finally:
        pages.join()  # should rendering the feeds fail, no page is still being written
    store.mark_built(generation, done, rendered, now)
    store.set_meta("archive_months", json.dumps(list(store.channels("month"))))
    report.seconds = time.perf_counter() - started
    metrics.REBUILD_SECONDS.observe(report.seconds)
    metrics.LAST_BUILD.set(now.timestamp())
    log.info("rebuilt in %.3f s: %d file(s) written, %d deleted", report.seconds,
             len(report.written), len(report.deleted))
    return report


_swept: set[tuple[Path, Path]] = set()  # output and media folders swept by this process


def _sweep_once(config: Config) -> None:
    """On this process's first build: remove the temporary files a killed feeder left in
    the output and media folders (hidden, so never served, but they would pile up)."""
    folders = (Path(config.output_dir), Path(config.media_dir))
    if folders in _swept:
        return
    _swept.add(folders)
    for folder in folders:
        for path in output.remove_stale_temps(folder, alive):
            log.info("removed %s, left half-written by a killed feeder", path)


class Pages:
    """The article pages a build writes: in a thread feeding the worker processes when
    there are many, so the calling thread renders the feeds meanwhile."""

    def __init__(self, store: Store, config: Config, now: datetime, workers: Workers,
                 writer: output.Writer) -> None:
        # Stored rows: the workers decode what they render (a first build has 100,000).
        self._store = store
        self._pending = store.pending(now)
        self._config = config
        self._workers = workers
        self._writer = writer
        self._done: list[str] = []
        self._gone: list[str] = []
        self._written: list[str] = []
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        first = list(itertools.islice(self._pending, PAGE_CHUNK))
        if len(first) < PAGE_CHUNK or self._workers.count < 1:
            self._write_here(itertools.chain(first, self._pending))
            return
        self._thread = threading.Thread(target=self._write_in_workers, args=(first,),
                                        name="feeder-pages", daemon=True)
        self._thread.start()

    def finish(self, report: BuildReport, gone: list[str]) -> list[str]:
        """Wait for the pages; return the slugs done, and note what was written or goes."""
        self.join()
        if self._error is not None:
            raise self._error
        report.written += self._written
        gone += self._gone
        return self._done

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _write_here(self, pending: Iterable[Pending]) -> None:
        for slug, row in pending:
            self._take([(slug, row)])
            if row is not None:
                for article in self._store.articles([row]):
                    self._written += write_page(self._writer, self._config,
                                                *render_page(article, self._config))

    def _write_in_workers(self, first: list[Pending]) -> None:
        """The workers render; this thread writes. Several processes creating files at
        once contend in the kernel (on ext4, two writers took 4x as long as one)."""
        try:
            jobs = ((self._config, [row for _, row in self._take(chunk) if row])
                    for chunk in itertools.chain([first], chunked(self._pending, PAGE_CHUNK)))
            for pages, broken in self._workers.map(render_pages, jobs):
                for page in pages:
                    self._written += write_page(self._writer, self._config, *page)
                for key, reason in broken:
                    self._store.quarantine(key, reason)
        except BaseException as exc:  # handed to finish(), in the build's thread
            self._error = exc

    def _take(self, chunk: list[Pending]) -> list[Pending]:
        self._done += [slug for slug, _ in chunk]
        self._gone += [f"articles/{slug}.html" for slug, row in chunk if row is None]
        return chunk


Page = tuple[str, bytes, Picture | None]  # file name, its bytes, the article's image


def render_pages(job: tuple[Config, list[Row]]) -> tuple[list[Page], list[Broken]]:
    """Render a chunk of article pages from their stored rows (in a worker process); the
    rows that cannot be decoded are handed back to be quarantined."""
    config, rows = job
    articles, broken = _decode(rows)
    return [render_page(article, config) for article in articles], broken


def render_page(article: Article, config: Config) -> Page:
    return article_path(article), render_article(article, config), article.image


def write_page(writer: output.Writer, config: Config, name: str, page: bytes,
               image: Picture | None) -> list[str]:
    """Write an article's page and image; the names written (those not already there)."""
    written = [name] if writer.write(name, page, durable=False) else []
    if image is None:
        return written
    cleaned = config.media_dir / image.name
    if cleaned.is_file() and writer.write(image.path, cleaned.read_bytes(), durable=False):
        written.append(image.path)
    return written


def _icons(config: Config) -> dict[str, bytes]:
    try:
        return render_icons(_icon(config))
    except (OSError, ValueError) as exc:  # not an image Pillow can read
        log.warning("site.icon %s is not an image (%s); using feeder's own", config.site_icon,
                    exc)
        return render_icons(default_icon())


def _icon(config: Config) -> bytes:
    """The configured icon's bytes, or feeder's own (a missing file is a warning)."""
    if config.site_icon:
        try:
            return Path(config.site_icon).read_bytes()
        except OSError as exc:
            log.warning("site.icon %s cannot be read (%s); using feeder's own", config.site_icon,
                        exc)
    return default_icon()


def _render_fingerprint(config: Config) -> str:
    """What, besides the articles, shapes the output; a change re-renders every page."""
    parts = (__version__, templates_digest(), hashlib.sha256(_icon(config)).hexdigest(),
             config.site_title, config.site_description,
             config.site_language, config.site_base_url, config.feed_max_entries,
             sorted(config.authors.items()),
             sorted((k, sorted(v.items())) for k, v in config.sources.items()),
             str(Path(config.output_dir)))
    return hashlib.sha256(repr(parts).encode()).hexdigest()
