"""WebSub publisher pings: tell the hub which feeds changed, in the background.

WebSub (W3C Recommendation, §7 "Publishing") has the publisher notify its hub when a topic
changes, so the hub fetches the feed and pushes it to subscribers within seconds instead of
their next poll. A hub is somebody else's server and may be slow, down or hanging, so
pinging must never hold up publishing: `Pinger.publish` only queues the URLs, and one
worker thread POSTs them (``hub.mode=publish&hub.url=…``, one URL per request, which every
hub understands) with short timeouts and exponential backoff. A URL already waiting in the
queue is not queued twice; the hub fetches the latest version whenever it is told.
"""

from __future__ import annotations

import http.client
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable

from feeder import __version__
from feeder.builder import FEEDS

log = logging.getLogger(__name__)
FEED_NAMES = frozenset(FEEDS)  # what subscribers follow: rss.xml, atom.xml, feed.json


def changed_feeds(written: Iterable[str]) -> list[str]:
    """The feed files among output names like ``rss.xml`` or ``sources/x/atom.xml``."""
    return [name for name in written if name.rsplit("/", 1)[-1] in FEED_NAMES]


class Pinger:
    """Notifies one hub from a worker thread; `sent`/`failed` count URLs, not attempts."""

    def __init__(self, hub: str, *, retries: int = 5, backoff: float = 1.0,
                 max_backoff: float = 60.0, timeout: float = 5.0) -> None:
        self.hub = hub
        self.retries = max(1, retries)  # attempts per URL, the first included
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self._cond = threading.Condition()
        self._queue: dict[str, None] = {}  # insertion-ordered set: FIFO without duplicates
        self._current: str | None = None
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None and not self._halt.is_set():
            self._thread = threading.Thread(target=self._run, name="websub", daemon=True)
            self._thread.start()

    def publish(self, urls: Iterable[str]) -> None:
        """Queue a ping for each URL not already queued; never blocks on the hub."""
        with self._cond:
            if self._halt.is_set():
                return
            self._queue.update(dict.fromkeys(urls))
            self._cond.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker; pings not yet sent are dropped. Safe to call twice."""
        with self._cond:
            if self._halt.is_set():
                return
            self._halt.set()
            dropped = len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        if dropped:
            log.info("websub: dropping %d unsent ping(s) to %s", dropped, self.hub)
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being sent; False if *timeout* ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._current is None,
                                       timeout)

    def _run(self) -> None:
        while (url := self._next()) is not None:
            try:
                self._deliver(url)
            finally:
                with self._cond:
                    self._current = None
                    self._cond.notify_all()

    def _next(self) -> str | None:
        with self._cond:
            self._cond.wait_for(lambda: self._queue or self._halt.is_set())
            if self._halt.is_set():
                return None
            self._current = next(iter(self._queue))
            del self._queue[self._current]
            return self._current

    def _deliver(self, url: str) -> None:
        for attempt in range(1, self.retries + 1):
            if attempt > 1 and self._halt.wait(self._delay(attempt)):
                log.info("websub: stopping; %s not pinged", url)
                return
            outcome = self._attempt(url, attempt)
            if outcome is not None:
                if outcome:
                    self.sent += 1
                else:
                    self.failed += 1
                return
        self.failed += 1
        log.error("websub: giving up pinging %s for %s after %d attempts", self.hub, url,
                  self.retries)

    def _delay(self, attempt: int) -> float:
        return float(min(self.backoff * 2 ** (attempt - 2), self.max_backoff))

    def _attempt(self, url: str, attempt: int) -> bool | None:
        """True: sent; False: refused for good; None: worth retrying."""
        body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
        request = urllib.request.Request(self.hub, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": f"feeder/{__version__}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 429 or error.code >= 500:
                log.warning("websub: hub %s answered %s for %s (attempt %d/%d)", self.hub,
                            error.code, url, attempt, self.retries)
                return None
            log.error("websub: hub %s refused %s: %s %s", self.hub, url, error.code,
                      error.reason)
            return False
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log.warning("websub: pinging %s for %s failed (attempt %d/%d): %s", self.hub, url,
                        attempt, self.retries, exc)
            return None
        log.info("websub: pinged %s for %s (%s)", self.hub, url, status)
        return True
