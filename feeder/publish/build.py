"""Store → output folder: render what changed since the last build and write it atomically.

A build with nothing changed reads two numbers from the store and writes nothing; otherwise
it renders the feeds (the newest ``max_entries``) and only the article pages that changed.
A ``Publisher`` keeps, from one build to the next, what makes the next one cheap: the
compiled templates and the feed entries already made.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from feeder import __version__, metrics
from feeder import atomic as output
from feeder.builder import (
    CHANNEL_FILES,
    Archive,
    Channel,
    SourceSummary,
    Templates,
    archive_path,
    render_archive,
    render_assets,
    render_feeds,
    render_opml,
)
from feeder.builder.icons import default_icon, render_icons
from feeder.channel import Channel as Feed
from feeder.clock import Clock, system_clock
from feeder.config import Config
from feeder.errors import BuildError
from feeder.parallel import IN_PROCESS, Map, alive, chunked
from feeder.publish.entries import EntryCache
from feeder.publish.pages import Broken, Pages, decode
from feeder.sources import describe
from feeder.store import Store
from feeder.store.entries import Row, channels

log = logging.getLogger(__name__)
MONTHS_AT_ONCE = 4  # archive months handed to the workers together (see Publisher._months)


@dataclass
class BuildReport:
    skipped: bool = False
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # "kind:name" of channels rendered
    seconds: float = 0.0


@dataclass
class _Files:
    """What rendering the feeds came to: files to write, files to delete."""

    write: dict[str, bytes] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)


def build(store: Store, config: Config, *, now: datetime | None = None, force: bool = False,
          workers: Map = IN_PROCESS) -> BuildReport:
    """One build by a fresh ``Publisher`` (see ``Publisher.build``)."""
    return Publisher(config, workers).build(store, now=now, force=force)


class Publisher:
    """Brings *config*'s output folder up to date with a store, build after build; the
    work of a large build is spread over *workers*."""

    def __init__(self, config: Config, workers: Map = IN_PROCESS,
                 clock: Clock | None = None) -> None:
        self.config = config
        self.workers = workers
        self.clock = clock or system_clock(config.tz)
        self.templates = Templates()
        self.entries = EntryCache()
        self._swept = False
        self._templates_digest: str | None = None

    def build(self, store: Store, *, now: datetime | None = None,
              force: bool = False) -> BuildReport:
        """Bring the output folder up to date with *store* as of *now*; raise BuildError.

        When it fails, files already replaced are complete new versions and the rest are
        the previous ones; the same changes are retried by the next build. Embargoed
        entries whose time has come since the last build are published now.
        """
        config = self.config
        started = time.perf_counter()
        now = now or self.clock()
        self._sweep_once(store)
        look = self._fingerprint()
        # A lost output folder (or a changed look) needs every page again, not just new ones.
        missing = not (config.output_dir / "index.html").exists()
        fresh = force or missing or store.meta("render_fingerprint") != look
        if fresh:
            store.mark_all_pages_pending()
            store.set_meta("render_fingerprint", look)
        generation = store.generation()
        last = store.meta("built_at")
        released = store.released(datetime.fromisoformat(last) if last else None, now)
        cutoff = complete_before(now, config)
        if (str(generation) == store.meta("built_generation") and not released
                and store.meta("archive_cutoff") == cutoff):
            return BuildReport(skipped=True, seconds=time.perf_counter() - started)
        for due in released:
            log.info("publishing scheduled article %r (due %s)", due.title,
                     due.published.isoformat())
        dirty = [*store.dirty_channels(), *(c for a in released for c in channels(a))]
        writer = output.Writer(config.output_dir)
        pages = Pages(store.pending(now), config, self.templates, self.workers, writer)
        report = BuildReport()
        try:
            # The workers write the pages while this thread renders the feeds.
            pages.start()
            pages_now = _pages(list(store.channels("month")), cutoff)
            rendered = self._channels(store, dirty, pages_now)
            files = self._render(store, now, rendered, pages_now, writer)
            if fresh:  # the icons change only with the look
                files.write.update(_icons(config))
            # Pages and images first, feeds last: a reader never meets a link to a page or
            # an image not yet written.
            done = pages.finish()
            report.written = list(done.written)
            unused = store.unused_images()  # a retracted article's photo goes with its page
            report.deleted = [name for name in [*done.gone, *files.delete,
                                                *(f"images/{image}" for image in unused)]
                              if writer.remove(name)]
            for image in unused:
                (config.media_dir / image).unlink(missing_ok=True)
            report.written += writer.commit()  # the months' archives, which feeds link to
            report.written += [name for name, data in files.write.items()
                               if writer.write(name, data)]
            writer.finish()
        except OSError as exc:
            raise BuildError(f"writing {config.output_dir} failed: {exc}; the previous "
                             "feeds stay in place") from exc
        finally:
            pages.join()  # should rendering the feeds fail, no page is still being written
            writer.discard()
        report.channels = [c.text() for c in rendered]
        store.mark_built(generation, done.done, rendered, now, unused)
        store.set_meta("archive_pages", _pages_json(pages_now))
        store.set_meta("archive_cutoff", cutoff)
        # After marking: the page of an entry taken out is then still due to be deleted.
        for key, reason in done.broken:
            store.quarantine(key, reason)
        report.seconds = time.perf_counter() - started
        metrics.REBUILD_SECONDS.observe(report.seconds)
        metrics.LAST_BUILD.set(now.timestamp())
        log.info("rebuilt in %.3f s: %d file(s) written, %d deleted", report.seconds,
                 len(report.written), len(report.deleted))
        return report

    def _channels(self, store: Store, dirty: Iterable[Feed],
                  pages: dict[str, Archive]) -> list[Feed]:
        """The channels to render: those that changed, and the months whose page changed
        its links or became complete."""
        before = json.loads(store.meta("archive_pages") or "{}")
        changed = {m for m, page in pages.items() if _page_json(page) != before.get(m)}
        gone = before.keys() - pages.keys()
        return sorted(set(dirty) | {Feed("month", m) for m in changed | gone})

    def _render(self, store: Store, now: datetime, rendered: list[Feed],
                pages: dict[str, Archive], writer: output.Writer) -> _Files:
        """The aggregate's files, the corrections feed's, and those of the *rendered*
        channels (or files to delete); the months' archives are staged with *writer*."""
        config, templates, entries = self.config, self.templates, self.entries
        aggregate = store.newest(config.feed_max_entries, now)
        others = [(c, store.newest(config.feed_max_entries, now, c)) for c in rendered
                  if c.kind != "month"]
        entries.make_ahead([aggregate, *(feed for _, feed in others)], config, self.workers)
        summaries = []
        for key in store.sources():
            latest = store.newest(1, now, Feed("source", key))
            if latest:  # only sources with something out: an embargo must not show early
                summaries.append(SourceSummary(describe(key, config), latest[0]))
        known = [summary.source for summary in summaries]
        tags = list(store.channels("tag"))
        months = list(pages)
        files = _Files(render_feeds(aggregate, config, templates, sources=summaries,
                                    tags=tags, archive=pages[months[-1]] if months else None,
                                    entries=entries))
        # Every build: the feed is as short as the others, and a newsroom can subscribe to
        # it before its first correction.
        since = max((a.updated for a in aggregate), default=None)
        files.write.update(render_feeds(store.newest_corrected(config.feed_max_entries, now),
                                        config, templates, Channel.corrections(config, since),
                                        entries=entries))
        files.write["feeds.opml"] = render_opml(known, tags, config)
        files.write.update(render_assets(config, templates))
        files.delete += self._months(store, now, [c.name for c in rendered
                                                  if c.kind == "month"], pages, writer)
        for channel, feed in others:
            target = (Channel.of(describe(channel.name, config)) if channel.kind == "source"
                      else Channel.tag(channel.name, config))
            if feed:
                files.write.update(render_feeds(feed, config, templates, target,
                                                entries=entries))
            else:
                files.delete += [target.prefix + file for file in CHANNEL_FILES]
        return files

    def _months(self, store: Store, now: datetime, dirty: list[str],
                links: dict[str, Archive], writer: output.Writer) -> list[str]:
        """Stage the archive pages of the *dirty* months with *writer*, one at a time as
        they come (a first build renders the whole archive, too large to hold), in the
        workers when there are several; the archives to delete."""
        config = self.config
        kept: list[str] = []
        delete: list[str] = []

        def jobs(months: list[str]) -> Iterator[tuple[list[Row], Config, Archive]]:
            for month in months:
                rows = store.latest(-1, now, Feed("month", month)) if month in links else []
                if rows:
                    kept.append(month)
                    yield rows, config, links[month]
                else:
                    delete.append(archive_path(month))

        spread = self.workers if len(dirty) > 1 else IN_PROCESS
        # A few months at a time: the map keeps several batches of jobs in flight, and a
        # month's rows, their pickled copy and its archive are each as large as the month.
        made_all = itertools.chain.from_iterable(
            spread(render_archive_job, jobs(months))
            for months in chunked(dirty, MONTHS_AT_ONCE))
        for n, made in enumerate(made_all):
            month = kept[n]
            if isinstance(made, bytes):
                writer.stage(archive_path(month), made)
                continue
            for key, reason in made:  # rows that cannot be decoded: out, then the rest
                store.quarantine(key, reason)
            feed = store.newest(-1, now, Feed("month", month))
            if feed:
                writer.stage(archive_path(month), render_archive(feed, config, links[month],
                                                                 self.entries))
            else:
                delete.append(archive_path(month))
        return delete

    def _sweep_once(self, store: Store) -> None:
        """On this publisher's first build: remove the temporary files a killed feeder
        left in the output and media folders (hidden, so never served, but they would pile
        up). On a store's first build since images are tracked, every image in those
        folders is looked at too: those no entry shows (left by articles retracted before)
        are deleted with this build's."""
        if self._swept:
            return
        self._swept = True
        folders = (Path(self.config.output_dir), Path(self.config.media_dir))
        for folder in folders:
            for path in output.remove_stale_temps(folder, alive):
                log.info("removed %s, left half-written by a killed feeder", path)
        if store.meta("images_swept") is None:
            store.look_at_images(sorted({path.name for folder in (folders[0] / "images",
                                                                   folders[1])
                                         if folder.is_dir() for path in folder.iterdir()
                                         if path.is_file() and not path.name.startswith(".")}))
            store.set_meta("images_swept", "1")

    def _fingerprint(self) -> str:
        """What, besides the articles, shapes the output; a change re-renders every page."""
        config = self.config
        if self._templates_digest is None:  # installed with feeder: fixed while it runs
            self._templates_digest = self.templates.digest()
        parts = (__version__, self._templates_digest,
                 hashlib.sha256(_icon(config)).hexdigest(),
                 config.site_title, config.site_description,
                 config.site_language, config.site_base_url, config.feed_max_entries,
                 sorted(config.authors.items()),
                 sorted((k, sorted(v.items())) for k, v in config.sources.items()),
                 str(Path(config.output_dir)))
        return hashlib.sha256(repr(parts).encode()).hexdigest()


def render_archive_job(job: tuple[list[Row], Config, Archive]) -> bytes | list[Broken]:
    """A month's archive page from its stored rows: decoded where it is rendered, in a
    worker when there are many months, rather than in feeder's process. Rows that cannot be
    decoded are handed back instead, for feeder's process to quarantine."""
    rows, config, month = job
    articles, broken = decode(rows)
    return broken if broken else render_archive(articles, config, month)


def complete_before(now: datetime, config: Config) -> str:
    """The first month (``YYYY-MM``) not complete at *now*: earlier months ended, in the
    site's time zone, at least ``feed.archive_after_days`` ago, so no late file is
    expected for them any more."""
    edge = now.astimezone(config.tz) - timedelta(days=config.feed_archive_after_days)
    return f"{edge:%Y-%m}"


def _pages(months: list[str], cutoff: str) -> dict[str, Archive]:
    """Each of *months*' page (oldest first): complete before *cutoff*, linked to the
    months before and after it (``Archive``)."""
    pages = {}
    for i, month in enumerate(months):
        previous = months[i - 1] if i else None
        after = months[i + 1] if i + 1 < len(months) else None
        pages[month] = Archive(month, previous, after if after and after < cutoff else None,
                               complete=month < cutoff,
                               previous_complete=previous is None or previous < cutoff)
    return pages


def _page_json(page: Archive) -> list[object]:
    return [page.previous, page.next, page.complete, page.previous_complete]


def _pages_json(pages: dict[str, Archive]) -> str:
    """What the next build compares its pages with, to render those that changed."""
    return json.dumps({month: _page_json(page) for month, page in pages.items()})


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
