"""`feeder run`: watcher → ingest → build on a schedule, with the HTTP server in front.

One APScheduler job does all the work, so two rebuilds never overlap. It runs every
``rebuild_interval`` seconds as a safety net (with a full rescan of the drop folder: the
watcher lowers latency but is never the only way a file is found) and is woken as soon as
the watcher reports settled files. APScheduler 3.11 drops a "run now" asked for while the
job runs, so arrivals also raise a dirty flag that the job re-checks before it returns.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import FrameType

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler

from feeder import metrics, publish
from feeder.clock import Clock, system_clock
from feeder.config import Config
from feeder.errors import BuildError
from feeder.ingest import Ingestor
from feeder.parallel import Workers, worker_count
from feeder.server import FeedServer, make_config
from feeder.store import Store
from feeder.watcher import Watcher
from feeder.websub import Pinger, changed_feeds

log = logging.getLogger(__name__)
JOB = "cycle"
# A burst is published at least this often while it lasts. Longer, fewer builds; shorter,
# the first files of a long burst come out sooner. 1,000 files take about 0.3-0.6 s to
# read on 2 cores: split in two, they were built twice and the last ones came later.
MAX_INGEST_SECONDS = 1.0
RELEASE = "release"


class Service:
    """The running publisher: owns the store, the watcher and the scheduler."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or system_clock(config.tz)
        self.store = Store(config.store_path)
        self.workers = Workers(worker_count(config.processes))
        self.ingestor = Ingestor(self.store, config, self.workers, self.clock)
        self.watcher = Watcher(config.drop_dir, self.enqueue,
                               settle_seconds=config.service_settle_seconds,
                               polling=config.service_polling)
        self.scheduler = BackgroundScheduler(timezone=config.tz, job_defaults={
            # The 1 s default grace would silently drop a run delayed by a long rebuild.
            "misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._lock = threading.Lock()
        self._pending: set[Path] = set()
        self._arrived = threading.Event()  # set by each enqueue
        self._dirty = False
        self._running = False
        self._last_scan = float("-inf")
        self.last_build: datetime | None = None
        self.next_release: datetime | None = None
        self.builds = 0
        self.pinger = Pinger(config.websub_hub) if config.websub_hub else None

    def start(self) -> None:
        self.config.drop_dir.mkdir(parents=True, exist_ok=True)
        # The scheduler's own times are the wall clock's (it sleeps by it); what is published
        # when is decided by self.clock.
        self.scheduler.add_job(self.cycle, "interval", id=JOB,
                               next_run_time=datetime.now(self.config.tz),
                               seconds=self.config.service_rebuild_interval)
        self.workers.warm()
        # Watch before the first scan, so nothing changing during the scan is missed.
        self.watcher.start()
        self.scheduler.start()
        if self.pinger:
            self.pinger.start()

    def stop(self) -> None:
        """Stop watching, let a rebuild in progress finish, close the store."""
        self.watcher.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.pinger:
            self.pinger.stop()
        self.workers.close()
        self.store.close()

    def enqueue(self, paths: Iterable[Path]) -> None:
        """Called by the watcher with settled paths; wakes the job unless it is running."""
        with self._lock:
            self._pending.update(paths)
            self._dirty = True
            self._arrived.set()
            if self._running:
                return
        self.scheduler.modify_job(JOB, next_run_time=datetime.now(self.config.tz))

    def health(self) -> tuple[int, str, bytes]:
        body = {"status": "ok" if self.last_build else "starting",
                "last_build": self.last_build.isoformat() if self.last_build else None,
                "builds": self.builds}
        return (200 if self.last_build else 503), "application/json", json.dumps(body).encode()

    def cycle(self) -> None:
        """Ingest what arrived, rebuild, and repeat while more arrived meanwhile."""
        with self._lock:
            self._running = True
        try:
            while True:
                started = time.monotonic()
                while True:
                    with self._lock:
                        paths, self._pending, self._dirty = self._pending, set(), False
                        self._arrived.clear()
                    self._ingest(paths)
                    if not self._more_coming(started):
                        break
                self._build()
                with self._lock:
                    if not self._dirty:
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise

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
        if not self.watcher.pending():
            return False
        return self._arrived.wait(min(budget, 2 * self.config.service_settle_seconds))

    def _ingest(self, paths: set[Path]) -> None:
        self.ingestor.ingest_many(sorted(paths))
        if time.monotonic() - self._last_scan >= self.config.service_rebuild_interval:
            self._last_scan = time.monotonic()
            self.ingestor.scan()

    def _build(self) -> None:
        now = self.clock()
        try:
            report = publish.build(self.store, self.config, now=now, workers=self.workers)
        except BuildError as exc:
            log.error("%s", exc)
            return
        self.last_build = now
        if not report.skipped:
            self.builds += 1
            feeds = changed_feeds(report.written)
            if self.pinger and feeds:
                self.pinger.publish([self.config.url(name) for name in feeds])
        self._schedule_release(now)

    def _schedule_release(self, now: datetime) -> None:
        """Wake up when the next embargoed article is due; no file event will announce it."""
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


def serve_forever(config: Config, clock: Clock | None = None) -> int:
    """Run until SIGINT or SIGTERM; return the exit code."""
    service = Service(config, clock)
    app = FeedServer(config.output_dir, config.server_cache_control,
                     extra_routes={"/healthz": service.health, "/metrics": metrics.exposition})
    server = uvicorn.Server(make_config(app, config.server_host, config.server_port))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    service.start()
    # uvicorn runs in a thread so its own signal handling (which re-raises the signal on
    # exit, turning a clean stop into a non-zero status) stays out of the way.
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    while not server.started and thread.is_alive() and not stop.wait(0.05):
        pass
    if not server.started:
        service.stop()
        log.error("could not start the HTTP server on %s:%s", config.server_host,
                  config.server_port)
        return 1
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    log.info("serving %s on http://%s:%s/ (watching %s)", config.output_dir, host, port,
             config.drop_dir)
    stop.wait()
    server.should_exit = True
    thread.join(timeout=5)
    service.stop()
    log.info("stopped")
    return 0
