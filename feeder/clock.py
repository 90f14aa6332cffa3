"""The one way feeder reads the time of day, so tests (and a second CI run at a distant
date) can set it: every stage that needs "now" is handed a ``Clock``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

Clock = Callable[[], datetime]


def system_clock(tz: tzinfo) -> Clock:
    """The wall clock in *tz*, to whole seconds (feeds carry no fractions of a second)."""

    def now() -> datetime:
        return datetime.now(tz).replace(microsecond=0)

    return now
