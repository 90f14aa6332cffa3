"""Quarantine: a file that cannot become an article is moved to the rejected folder beside
a note saying why, and watched a while: should it change (its writer was still at work), it
comes back to be read again."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feeder.clock import Clock
from feeder.config import Config
from feeder.ingest.drop import DropFolder

log = logging.getLogger(__name__)

# How long a file moved to the rejected folder is watched for a change.
WATCH_SECONDS = 600.0


@dataclass(frozen=True)
class _Watched:
    relative: str  # where it was in the drop folder
    size: int
    mtime_ns: int
    until: float  # monotonic time after which it is no longer watched


class Rejects:
    """Moves rejected files out of the drop folder (never through a link) and back."""

    def __init__(self, config: Config, drop: DropFolder, clock: Clock) -> None:
        self.folder = config.rejected_dir
        self.drop = drop
        self.clock = clock
        self._watched: dict[Path, _Watched] = {}
        self._lock = threading.Lock()  # the service asks for changes from its own thread

    def move(self, relative: str, where: str, reason: str,
             judged: os.stat_result | None) -> Path | None:
        """Write the note, then move the file; its new path, or None if it was gone.

        The note first: a crash or a full disk before the move leaves the file in the drop
        folder to be rejected again, never in the rejected folder without its reason.
        """
        destination = self._free_name(PurePosixPath(relative))
        destination.parent.mkdir(parents=True, exist_ok=True)
        note = destination.with_name(destination.name + ".why.txt")
        note.write_text(f"{where}: {reason}\n\nRejected by feeder at "
                        f"{self.clock().isoformat()}. Fix the file and drop it into the "
                        "folder again.\n", encoding="utf-8", errors="replace")
        try:
            judged = judged or self.drop.lstat(relative)  # the version judged: later writes
            self.drop.move_out(relative, destination)  # to it bring it back
        except FileNotFoundError:
            note.unlink(missing_ok=True)
            return None
        if stat.S_ISREG(judged.st_mode):
            with self._lock:
                self._watched[destination] = _Watched(relative, judged.st_size,
                                                      judged.st_mtime_ns,
                                                      time.monotonic() + WATCH_SECONDS)
        return destination

    def _free_name(self, relative: PurePosixPath) -> Path:
        target = self.folder / relative
        stem, n = target, 1
        while os.path.lexists(target):  # a note alone is one a crash left: rewritten
            n += 1
            target = stem.with_name(f"{stem.stem}.{n}{stem.suffix}")
        return target

    def changed(self) -> list[str]:
        """Files rejected lately that changed since: moved back into the drop folder under
        their name, to be read again. Their paths (POSIX, in the drop folder)."""
        with self._lock:
            watched = list(self._watched.items())
        back = []
        now = time.monotonic()
        for destination, was in watched:
            try:
                st = os.lstat(destination)
            except OSError:
                st = None
            changed = st is not None and (st.st_size, st.st_mtime_ns) != (was.size,
                                                                          was.mtime_ns)
            if changed or st is None or now > was.until:
                with self._lock:
                    self._watched.pop(destination, None)
            if not changed:
                continue
            try:
                moved = self.drop.put_back(destination, was.relative)
            except OSError as exc:
                log.warning("could not move %s back: %s", destination, exc.strerror or exc)
                continue
            if moved:
                Path(f"{destination}.why.txt").unlink(missing_ok=True)
                log.info("%s changed after it was rejected (its writer was still at work): "
                         "moved back to be read again", was.relative)
                back.append(was.relative)
        return back
