"""Progress of long work: a bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger(__name__)


class Progress:
    """Call with the number of items done so far; call ``close()`` at the end."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._shown = 0.0
        self._logged = 0

    def __call__(self, done: int) -> None:
        if self.tty:
            now = time.monotonic()
            if now - self._shown >= 0.1 or done == self.total:
                self._shown = now
                filled = 30 * done // max(self.total, 1)
                self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                                  f"{done}/{self.total}")
                self.stream.flush()
        elif done - self._logged >= max(self.total // 10, 1000) or done == self.total:
            self._logged = done
            log.info("%s: %d/%d", self.label, done, self.total)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
