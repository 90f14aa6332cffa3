"""Log set-up: human-readable lines by default, JSON lines for log collectors."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time, so it survives stream swaps."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


_installed: list[logging.Handler] = []


def setup(level: str, fmt: str = "text") -> None:
    """Log to standard error at *level*, as text or JSON; calling again replaces it."""
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # APScheduler logs every job run at INFO; feeder logs what each run did instead.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
