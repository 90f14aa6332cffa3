"""What `/healthz` says: the last good build, and whatever holds publishing back now.

Each problem has a kind (``store``, ``drop``, ``build``, ``output``) and a reason; the
service raises and clears them as it finds them and as they pass. Each change is logged
once, so a problem that lasts an hour is two log lines, not one a retry.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime

from feeder import metrics

log = logging.getLogger(__name__)


class Health:
    """Thread-safe: the scheduler's threads write it, the HTTP server's thread reads it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: dict[str, str] = {}
        self.last_build: datetime | None = None
        self.builds = 0

    def fail(self, kind: str, reason: str) -> None:
        """Note that *kind* is failing for *reason* (logged when it starts or changes)."""
        with self._lock:
            before = self._problems.get(kind)
            self._problems[kind] = reason
        if before != reason:
            log.error("degraded: %s", reason)
        metrics.DEGRADED.labels(kind).set(1)

    def clear(self, kind: str) -> None:
        """Note that *kind* works again."""
        with self._lock:
            before = self._problems.pop(kind, None)
        if before is not None:
            log.warning("recovered: %s works again (was: %s)", kind, before)
        metrics.DEGRADED.labels(kind).set(0)

    def problem(self, kind: str) -> str | None:
        with self._lock:
            return self._problems.get(kind)

    def built(self, when: datetime, wrote: bool) -> None:
        with self._lock:
            self.last_build = when
            self.builds += wrote

    def response(self) -> tuple[int, str, bytes]:
        """200 once a build succeeded and nothing is failing; else 503 with the reasons."""
        with self._lock:
            problems = dict(self._problems)
            last = self.last_build
            builds = self.builds
        status = "degraded" if problems else "ok" if last else "starting"
        body = {"status": status, "last_build": last.isoformat() if last else None,
                "builds": builds, "problems": problems}
        code = 200 if status == "ok" else 503
        return code, "application/json", json.dumps(body, ensure_ascii=False).encode()
