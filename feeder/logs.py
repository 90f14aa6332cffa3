"""Log set-up: human-readable lines by default, JSON lines for log collectors."""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def shown(text: str) -> str:
    """*text* safe for one log line: control characters, line separators and bytes that
    were not UTF-8 (surrogate escapes, as in file names) written as escapes, so a file
    named with a newline cannot forge a log line."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif "\udc80" <= char <= "\udcff":  # a byte os.fsdecode() could not decode
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif unicodedata.category(char) == "Zs":
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class TextFormatter(logging.Formatter):
    """The text format, with the message (not the traceback) made safe by ``shown``."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = shown(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage().encode("utf-8", "backslashreplace").decode(),
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
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    _installed[:] = [handler]
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # APScheduler logs every job run at INFO; feeder logs what each run did instead.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
