"""`feeder run`: watcher → ingest → build on a schedule, with the HTTP server in front.

One APScheduler job does all the work, so two rebuilds never overlap; the watcher and a
safety-net rescan every ``rebuild_interval`` seconds (its own timer, which arrivals never
push back) wake it. APScheduler 3.11 drops a "run now" asked for while the job runs, so
arrivals also raise a dirty flag that the job re-checks before it returns.

Faults are states, not crashes: a store that is busy or on a full disk, a drop folder that
is missing, an output folder that cannot be written. Each is reported (the log, once;
``/healthz``, 503 with the reason) and the work is tried again after 1, 2, 4 … seconds
(up to ``rebuild_interval``), so publishing resumes within seconds of the fault passing.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler

from feeder import atomic as output
from feeder import metrics, publish
from feeder.address import address_url, reaches, served_url
from feeder.clock import Clock, system_clock
from feeder.config import Config
from feeder.errors import BuildError, DropFolderUnavailable, StoreUnavailable
from feeder.ingest.ingestor import Ingestor, drop_folder_problem
from feeder.ingest.watcher import Watcher, quiet_watchdog
from feeder.parallel import Workers, worker_count
from feeder.serve.connections import Limits
from feeder.serve.server import FeedServer, make_config
from feeder.service.health import Health
from feeder.service.websub import Pinger, changed_feeds
from feeder.store.schema import is_corruption
from feeder.store.store import Store

log = logging.getLogger(__name__)
JOB = "cycle"
RESCAN = "rescan"
RETRY = "retry"
CHECK = "check"
RELEASE = "release"
# A burst is published at least this often while it lasts. Longer, fewer builds; shorter,
# the first files of a long burst come out sooner. 1,000 files take about 0.3-0.6 s to
# read on 2 cores: split in two, they were built twice and the last ones came later.
MAX_INGEST_SECONDS = 1.0
CHECK_SECONDS = 2.0  # how often the drop and output folders are looked at
FIRST_RETRY = 1.0  # seconds; doubled after each failure, up to rebuild_interval


class Service:
    """The running publisher: owns the store, the watcher and the scheduler."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or system_clock(config.tz)
        self.health = Health()
        self.stopping = threading.Event()
        self.store: Store | None = None
        self.ingestor: Ingestor | None = None
        self.workers = Workers(worker_count(config.processes))
        self.publisher = publish.Publisher(config, self.workers, self.clock)
        self.watcher: Watcher | None = None
        self.scheduler = BackgroundScheduler(timezone=config.tz, job_defaults={
            # The 1 s default grace would silently drop a run delayed by a long rebuild.
            "misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._lock = threading.Lock()
        self._pending: set[Path] = set()
        self._arrived = threading.Event()  # set by each enqueue
        self._dirty = False
        self._running = False
        self._scan_due = True  # the first cycle scans the whole drop folder
        self._drop_missing = False  # seen missing by check(): watched again when back
        self._retry = FIRST_RETRY
        self.next_release: datetime | None = None
        self.pinger = Pinger(config.websub_hub) if config.websub_hub else None

    @property
    def last_build(self) -> datetime | None:
        return self.health.last_build

    def start(self) -> bool:
        """Open the store (waiting while it is busy or its disk is full), then watch and
        work; False if stopped before the store could be opened."""
        store = self.store or self._open_store()
        if store is None:
            return False
        self._use(store)
        if not self.config.drop_dir.exists() and not store.files():
            # A first run: make the folder. Once files were seen, a missing folder is a
            # fault (an unmounted share), reported, never an empty folder.
            self.config.drop_dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(self.config.tz)
        # The scheduler's own times are the wall clock's (it sleeps by it); what is published
        # when is decided by self.clock.
        self.scheduler.add_job(self.cycle, "interval", id=JOB, next_run_time=now,
                               seconds=self.config.service_rebuild_interval)
        self.scheduler.add_job(self._rescan, "interval", id=RESCAN,
                               seconds=self.config.service_rebuild_interval)
        self.scheduler.add_job(self.check, "interval", id=CHECK, seconds=CHECK_SECONDS)
        # Watch before the first scan, so nothing changing during the scan is missed.
        self._watch()
        self.scheduler.start()
        if self.pinger:
            self.pinger.start()
        return True

    def stop(self) -> None:
        """Stop watching, let a rebuild in progress finish, close the store."""
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.pinger:
            self.pinger.stop()
        self.workers.close()
        if self.store is not None:
            self.store.close()

    def publish_at(self, config: Config) -> None:
        """Publish with *config*: this service's own but for the links, which follow where
        the server turned out to answer (known once it listens, after this service was
        made to answer /healthz). Before start()."""
        assert self.store is None, "publish_at() after start()"
        self.config = config
        self.publisher = publish.Publisher(config, self.workers, self.clock)

    def _use(self, store: Store) -> None:
        if self.store is not store:
            self.store = store
            self.ingestor = Ingestor(store, self.config, self.workers, self.clock,
                                     later=self._later)

    def _open_store(self) -> Store | None:
        delay = FIRST_RETRY
        while not self.stopping.is_set():
            try:
                store = Store(self.config.store_path, clock=self.clock)
            except StoreUnavailable as exc:
                self.health.fail("store", f"the store cannot be opened: {exc.reason}")
                self.stopping.wait(delay)
                delay = min(delay * 2, self.config.service_rebuild_interval)
                continue
            self.health.clear("store")
            return store
        return None

    def _watch(self) -> None:
        """(Re)start the watcher: after the drop folder came back, the old one watches a
        folder that is gone."""
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = Watcher(self.config.drop_dir, self.enqueue,
                               settle_seconds=self.config.service_settle_seconds,
                               close_wait_seconds=self.config.service_close_wait_seconds,
                               polling=self.config.service_polling)
        try:
            self.watcher.start()
        except OSError as exc:
            self.watcher.stop()
            self.watcher = None
            if drop_folder_problem(self.config.drop_dir) is None:  # not merely missing
                log.warning("cannot watch %s (%s): files are found by the rescan every "
                            "%g s", self.config.drop_dir, exc,
                            self.config.service_rebuild_interval)

    def enqueue(self, paths: Iterable[Path]) -> None:
        """Called by the watcher with settled paths; wakes the job unless it is running."""
        with self._lock:
            self._pending.update(paths)
            self._dirty = True
            self._arrived.set()
            if self._running:
                return
        if not self.stopping.is_set():
            self.scheduler.modify_job(JOB, next_run_time=datetime.now(self.config.tz))

    def _rescan(self) -> None:
        self._scan_due = True
        self.enqueue(())

    def _later(self, path: Path, seconds: float) -> None:
        """Report *path* again in *seconds* (an empty file waiting for its writer)."""
        if not self.stopping.is_set():
            self.scheduler.add_job(self.enqueue, "date", args=[[path]], id=f"later:{path}",
                                   replace_existing=True, run_date=datetime.now(
                                       self.config.tz) + timedelta(seconds=seconds))

    def health_response(self) -> tuple[int, str, bytes]:
        return self.health.response()

    def check(self) -> None:
        """Look at the drop and output folders; report what is wrong and, when a fault
        passes, start again at once rather than at the next safety-net scan."""
        problem = drop_folder_problem(self.config.drop_dir)
        if problem:
            self.health.fail("drop", problem)
            self._drop_missing = True
            if self.watcher is not None:  # it would watch a folder moved elsewhere
                self.watcher.stop()
                self.watcher = None
        elif self._drop_missing:  # back: watch it again; the scan clears the problem
            self._drop_missing = False
            self._watch()
            self._rescan()
        if self.ingestor is not None and (back := self.ingestor.changed_rejects()):
            self.enqueue(back)
        problem = output.problem(self.config.output_dir)
        if problem:
            self.health.fail("output", problem)
        elif self.health.problem("output"):
            self.health.clear("output")
            self.enqueue(())
        elif self.last_build and not (self.config.output_dir / "index.html").exists():
            log.warning("index.html is gone from %s; writing everything again",
                        self.config.output_dir)
            self.enqueue(())

    def cycle(self) -> None:
        """Ingest what arrived, rebuild, and repeat while more arrived meanwhile."""
        with self._lock:
            self._running = True
        try:
            while True:
                done = self._work()
                with self._lock:
                    if not done or not self._dirty:
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise

    def _work(self) -> bool:
        """One round of reading and building; False if it failed (a retry is scheduled)."""
        started = time.monotonic()
        while True:
            with self._lock:
                paths, self._pending, self._dirty = self._pending, set(), False
                self._arrived.clear()
            try:
                self._ingest(paths)
            except (StoreUnavailable, DropFolderUnavailable, sqlite3.Error) as exc:
                with self._lock:
                    self._pending |= paths  # read again once the fault has passed
                self._failed(exc)
                return False
            if not self._more_coming(started):
                break
        try:
            wrote = self._build()
        except (BuildError, StoreUnavailable, sqlite3.Error) as exc:
            metrics.BUILD_FAILURES.inc()
            self._failed(exc, "build")
            return False
        self._retry = FIRST_RETRY
        for kind in ("build", "store", "output") if wrote else ("build", "store"):
            self.health.clear(kind)  # what the build just showed to work
        return True

    def _failed(self, exc: Exception, kind: str | None = None) -> None:
        if isinstance(exc, DropFolderUnavailable):
            kind, reason = "drop", exc.reason
        elif isinstance(exc, StoreUnavailable | sqlite3.Error):
            reason = f"the store cannot be used: {getattr(exc, 'reason', exc)}"
            if isinstance(exc, sqlite3.Error) and is_corruption(exc) and self.store:
                self.store.reopen()  # moves the damaged file aside; the rescan refills it
                self._scan_due = True
            kind = kind or "store"
        else:
            reason = str(exc)
        self.health.fail(kind or "build", reason)
        delay, self._retry = self._retry, min(self._retry * 2,
                                              self.config.service_rebuild_interval)
        log.info("trying again in %g s", delay)
        if not self.stopping.is_set():
            self.scheduler.add_job(self.enqueue, "date", args=[()], id=RETRY,
                                   replace_existing=True, run_date=datetime.now(
                                       self.config.tz) + timedelta(seconds=delay))

    def _more_coming(self, started: float) -> bool:
        """Is more of a burst here, or still settling in the watcher? Reading it before
        building makes one build for the burst, not one per watcher batch; but a burst is
        published at least every ``MAX_INGEST_SECONDS``."""
        budget = MAX_INGEST_SECONDS - (time.monotonic() - started)
        if budget <= 0:
            return False
        with self._lock:
            if self._pending:
                return True
        if self.watcher is None or not self.watcher.pending():
            return False
        return self._arrived.wait(min(budget, 2 * self.config.service_settle_seconds))

    def _ingest(self, paths: set[Path]) -> None:
        if self.ingestor is None:  # cycle() without start(), as tests do
            self._use(Store(self.config.store_path, clock=self.clock))
        assert self.ingestor is not None
        self.ingestor.ingest_many(sorted(paths))
        if self._scan_due:
            self._scan_due = False
            try:
                watcher = self.watcher
                self.ingestor.scan(busy=watcher.busy if watcher else lambda path: False)
            except BaseException:
                self._scan_due = True
                raise
            self.health.clear("drop")

    def _build(self) -> bool:
        """Bring the outputs up to date; True if files were written."""
        assert self.store is not None
        now = self.clock()
        report = self.publisher.build(self.store, now=now)
        if rereads := self.store.take_rereads():  # entries quarantined during the build
            self.enqueue(self.config.drop_dir / path for path in rereads)
        self.health.built(now, not report.skipped)
        if not report.skipped:
            feeds = changed_feeds(report.written)
            if self.pinger and feeds:
                self.pinger.publish([self.config.url(name) for name in feeds])
        self._schedule_release(now)
        return not report.skipped

    def _schedule_release(self, now: datetime) -> None:
        """Wake up when the next embargoed article is due; no file event will announce it."""
        assert self.store is not None
        upcoming = self.store.scheduled(now, limit=1)
        due = upcoming[0].published if upcoming else None
        if due == self.next_release:
            return
        self.next_release = due
        if due is None:
            if self.scheduler.get_job(RELEASE):
                self.scheduler.remove_job(RELEASE)
            return
        log.info("next scheduled article %r is due %s", upcoming[0].title, due.isoformat())
        self.scheduler.add_job(self.enqueue, "date", run_date=due, args=[()], id=RELEASE,
                               replace_existing=True)


def make_app(config: Config, service: Service) -> FeedServer:
    """The HTTP app serving *service*'s output: no response is cached past the release of
    the next embargoed article (``Service.next_release``)."""
    return FeedServer(config.output_dir, config.server_cache_control, extra_routes={
        "/healthz": service.health_response, "/metrics": metrics.exposition},
        release=lambda: service.next_release, clock=service.clock)


def serve_forever(config: Config, clock: Clock | None = None) -> int:
    """Run until SIGINT or SIGTERM; return the exit code."""
    quiet_watchdog()
    service = Service(config, clock)
    app = make_app(config, service)
    limits = Limits(idle=config.server_idle_timeout, header=config.server_header_timeout,
                    max_header=config.server_max_header_bytes,
                    max_connections=config.server_max_connections)
    server = uvicorn.Server(make_config(app, config.server_host, config.server_port,
                                        limits=limits))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()
        service.stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    # Before anything serves: Ctrl-C reaches the whole process group, workers included,
    # and must not find them half-started.
    service.workers.warm()
    # The server first, so /healthz can say why the rest is not running yet (a busy store).
    # uvicorn runs in a thread so its own signal handling (which re-raises the signal on
    # exit, turning a clean stop into a non-zero status) stays out of the way.
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    while not server.started and thread.is_alive() and not stop.wait(0.05):
        pass
    if not server.started:
        service.stop()
        if stop.is_set():
            return 0
        log.error("could not start the HTTP server on %s:%s", config.server_host,
                  config.server_port)
        return 1
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    service.publish_at(_links(config, host, port))
    if service.start():
        log.info("serving %s on %s (watching %s)", config.output_dir, address_url(host, port),
                 config.drop_dir)
        stop.wait()
    server.should_exit = True
    thread.join(timeout=5)
    service.stop()
    log.info("stopped")
    return 0


def _links(config: Config, host: str, port: int) -> Config:
    """*config* with links that lead to the server listening on *host* and *port*, when
    ``site.base_url`` is unset; a configured one is kept, with a warning if it does not
    lead there (it may be a reverse proxy's or a CDN's address, which is fine)."""
    if config.base_url_derived:
        config = config.served_at(port)
        log.info("links point at %s (site.base_url is unset: derived from server.host and "
                 "the port)", config.site_base_url)
    elif not reaches(config.site_base_url, config.server_host, port):
        log.warning("site.base_url %s is not where feeder answers, %s: links in the feeds "
                    "and pages use base_url, which is right only if a reverse proxy or CDN "
                    "forwards it here; leave base_url unset for links to %s",
                    config.site_base_url, address_url(host, port),
                    served_url(config.server_host, port))
    return config
