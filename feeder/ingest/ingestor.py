"""Drop folder → store: read a settled file, parse it, record its articles or reject it.

Idempotent by design: the watcher may report a file many times, and the periodic rescan
reports every file; content already seen (same size and mtime, or same hash) is a no-op.

Every name in the drop folder is accounted for: its entries are in the store, or it is in
the rejected folder beside a note saying why, or it is listed as unreadable (a FIFO, a file
without read permission, a folder that cannot be listed) in ``feeder status`` and
``/metrics``. Files are read only through ``DropFolder``, which never follows a link.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from feeder import metrics
from feeder.clock import Clock, system_clock
from feeder.config import Config
from feeder.errors import DropFolderUnavailable, StoreUnavailable
from feeder.ingest import media
from feeder.ingest.attach import Attacher
from feeder.ingest.drop import DropFolder, Listing, NotAFile, kind
from feeder.ingest.drop import check as check_drop_folder
from feeder.ingest.names import is_ignored, is_utf8, printable
from feeder.ingest.rejects import Rejects
from feeder.ingest.scan import (
    Read,
    Reading,
    Rejection,
    arrival,
    oversize,
    read,
    read_ahead,
    unchanged,
)
from feeder.logs import shown
from feeder.parallel import IN_PROCESS, Map, chunked
from feeder.progress import Progress
from feeder.store import Changes, FileRecord, Store
from feeder.store.entries import encode

log = logging.getLogger(__name__)

BATCH = 200  # files a scan commits at once
LIST_FOLDERS_FROM = 50  # files in a batch from which listing their folders beats probing
# A scan that would retract more than this share of the stored files needs the drop folder
# to be the one those files were seen in (same device and inode): an unmounted share or a
# folder swapped for an empty one is not a mass deletion.
MASS_RETRACTION = 0.25
_FATAL = (DropFolderUnavailable, StoreUnavailable, sqlite3.Error)  # faults of the whole run

drop_folder_problem = check_drop_folder


def _identity(ids: tuple[int, int]) -> str:
    return f"{ids[0]}:{ids[1]}"


def _why(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


@dataclass
class _Run:
    """One batch of files being stored: what was read ahead for it, and what it will show
    (log lines, metrics) once its commit succeeded."""

    reading: Reading | None = None
    stats: Mapping[str, os.stat_result] = field(default_factory=dict)
    notes: list[Callable[[], None]] | None = None

    def note(self, note: Callable[[], None]) -> None:
        if self.notes is None:
            note()
        else:
            self.notes.append(note)


class Ingestor:
    """Keeps the store in step with the drop folder.

    *spread* hands reading many files to the machine's other cores. *later*, when given, is
    asked to report a path again after some seconds (the service schedules it): an empty
    file gets ``service.empty_seconds`` before it is rejected, since its writer may not have
    written yet. Without it (a one-off ``feeder build``) an empty file is rejected at once.
    """

    def __init__(self, store: Store, config: Config, spread: Map = IN_PROCESS,
                 clock: Clock | None = None, *,
                 later: Callable[[Path, float], None] | None = None) -> None:
        self.store = store
        self.config = config
        self.clock = clock or system_clock(config.tz)
        self.root = config.drop_dir
        skip = {p.resolve() for p in (config.output_dir, config.state_dir,
                                       config.rejected_dir)}
        self.drop = DropFolder(self.root, skip)
        self.attacher = Attacher(config, self.drop, self._reject_image)
        self.rejects = Rejects(config, self.drop, self.clock)
        self.spread = spread
        self.later = later
        self._unreadable = dict(store.unreadable())
        self._empty_since: dict[str, tuple[tuple[int, int], float]] = {}

    # Whole folder ---------------------------------------------------------------------

    def scan(self, *, reparse: bool = False,
             busy: Callable[[Path], bool] = lambda path: False) -> Changes:
        """Catch up with everything in the drop folder: new, edited and deleted files.

        *reparse* reads every file again, as after a change of categories. *busy* files
        (the watcher is letting them settle: their writer may be at work), asked just
        before each batch is read, are left for the watcher to report. Raises
        DropFolderUnavailable if the folder is missing or unreadable, or if it would
        retract most entries from a folder that is not the one they were seen in.
        """
        identity = self.drop.identity()
        listing = self.drop.walk()
        names = [r for r in listing.files if not is_ignored(r)]
        stored = self.store.files()
        present = set(listing.files) | set(listing.odd)
        gone = [r for r in stored if r not in present and not listing.hides(r)]
        self._guard(len(gone), len(stored), identity)
        self.attacher.listing = _listing(self.root, names)
        try:
            changes = self._scan(names, reparse, busy, listing.stats)
        finally:
            self.attacher.listing = None
        changes += self._odd(listing, busy)
        with self.store.batch():
            for relative in gone:
                changes += self._forget(relative, _Run())
        self.store.set_meta("drop_identity", _identity(identity))
        metrics.SCANS.inc()
        still = present | set(listing.unlistable)
        self._readable([r for r in self._unreadable if r not in still and not any(
            r.startswith(folder + "/") for folder in listing.unlistable)])
        return changes

    def _guard(self, gone: int, stored: int, identity: tuple[int, int]) -> None:
        if gone <= stored * MASS_RETRACTION:
            return
        seen = self.store.meta("drop_identity")
        if seen is not None and seen != _identity(identity):
            raise DropFolderUnavailable(
                f"the drop folder {self.root} is not the folder feeder read before (another "
                f"file system or folder: unmounted or replaced?) and {gone} of {stored} files "
                "are missing from it; nothing is retracted. If it was replaced on purpose, "
                f"delete {self.store.path} to start afresh from what it holds")
        log.warning("%d of %d files are gone from %s: retracting what they carried", gone,
                    stored, self.root)

    def _scan(self, names: list[str], reparse: bool, busy: Callable[[Path], bool],
              stats: Mapping[str, os.stat_result]) -> Changes:
        changes = Changes()
        progress = Progress(len(names), f"reading {self.root}") if len(names) > 100 else None
        batches = list(chunked(names, BATCH))
        # What the store knew when the scan began is as good as asking it file by file for
        # guessing what to read ahead, and one query, not one a file.
        known = self.store.files().get if self.spread.parallel else self.store.file
        reading = self._read_ahead(batches[0], reparse, known) if batches else None
        for done, batch in enumerate(batches, 1):
            ready, reading = reading, (self._read_ahead(batches[done], reparse, known)
                                       if done < len(batches) else None)
            # The workers read the next batch while this one is stored.
            wanted = [r for r in batch if not busy(self.root / r)]
            changes += self._ingest_batch(wanted, _Run(ready, stats), reparse)
            if progress:
                progress(min(done * BATCH, len(names)))
        if progress:
            progress.close()
        return changes

    def _odd(self, listing: Listing, busy: Callable[[Path], bool]) -> Changes:
        """Account for what the walk found that is not a file to read."""
        changes = Changes()
        with self.store.batch():
            for relative, st in listing.odd.items():
                if not is_ignored(relative) and not busy(self.root / relative):
                    changes += self._one(relative, False, _Run(stats={relative: st}))
            for folder, reason in listing.unlistable.items():
                self._cannot_read(folder + "/", f"the folder cannot be listed: {reason}")
        return changes

    # Files ------------------------------------------------------------------------------

    def ingest_many(self, paths: Sequence[Path], *, force: bool = False) -> Changes:
        """``ingest`` each of *paths* in one transaction, reading them on every core."""
        if not paths:
            return Changes()
        identity = _identity(self.drop.identity())
        if identity != (self.store.meta("drop_identity") or identity):
            # Not the folder the store knows (remounted, replaced): only a whole scan can
            # tell deleted files from a different folder.
            return self.scan()
        relatives = [r for p in paths if (r := self._relative(p)) is not None]
        self.attacher.listing = (self._folder_listing(relatives)
                                 if len(relatives) >= LIST_FOLDERS_FROM else None)
        try:
            reading = self._read_ahead(relatives, force, self.store.file)
            return self._ingest_batch(relatives, _Run(reading), force)
        finally:
            self.attacher.listing = None

    def ingest(self, path: Path, *, force: bool = False) -> Changes:
        """Bring one file's entries up to date; never raises for bad input (only for a
        missing drop folder or an unusable store, which are nobody's file's fault)."""
        relative = self._relative(path)
        return Changes() if relative is None else self._one(relative, force, _Run())

    def _relative(self, path: Path) -> str | None:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            log.warning("ignoring %s: outside the drop folder %s", shown(str(path)), self.root)
            return None

    def _folder_listing(self, relatives: Sequence[str]) -> dict[Path, set[str]] | None:
        """What the folders of *relatives* hold now, or None if one cannot be listed."""
        folders = {posixpath_parent(r) for r in relatives}
        try:
            return {self.root / folder if folder else self.root: self.drop.listdir(folder)
                    for folder in folders}
        except (OSError, ValueError):
            return None

    def _ingest_batch(self, relatives: Sequence[str], run: _Run, force: bool) -> Changes:
        changes = Changes()
        run.notes = []
        try:
            with self.store.batch():
                for relative in relatives:
                    changes += self._one(relative, force, run)
        except _FATAL as exc:
            if run.notes:
                log.warning("could not store what %d file(s) carry (%s); they are read again",
                            len(run.notes), exc)
            raise
        notes, run.notes = run.notes, None
        for note in notes:
            note()
        return changes

    def _one(self, relative: str, force: bool, run: _Run) -> Changes:
        if is_ignored(relative):
            return Changes()
        try:
            if not is_utf8(relative):
                # The store, the log and every feed need text: this name is other bytes.
                return self._reject(relative, None, "the file name is not valid UTF-8; "
                                    "rename the file and drop it again", run=run)
            return self._ingest(relative, force, run)
        except _FATAL:
            raise
        except NotAFile as exc:
            return self._not_a_file(relative, exc, run)
        except OSError as exc:
            # Unreadable (no permission, an I/O error): listed until it can be read; its
            # next change or the next rescan tries again.
            return self._cannot_read(relative, _why(exc))
        except Exception as exc:  # a bug met by this one file must not stop the others
            log.exception("could not read %s", shown(relative))
            return self._cannot_read(relative, f"feeder failed on it: {exc!r}")

    def _ingest(self, relative: str, force: bool, run: _Run,
                edited_at: datetime | None = None) -> Changes:
        try:
            st = run.stats.get(relative) or self.drop.lstat(relative)
        except (FileNotFoundError, NotAFile):
            # Gone, or no longer reached without a link (a folder on its way was swapped
            # for one): not a file of the drop folder any more.
            if (problem := check_drop_folder(self.root)) is not None:
                raise DropFolderUnavailable(problem) from None
            return self._forget(relative, run)
        if stat.S_ISDIR(st.st_mode):  # its files are reported on their own
            changes = self.store.remove_file(relative, keep=self._keeps(relative)) if (
                self.store.file(relative)) else Changes()
            if relative in run.stats:  # the scan met a folder named like an article file
                self._cannot_read(relative, "a folder named like an article file; the files "
                                  "in it are read as a subfolder's")
            return changes
        if not stat.S_ISREG(st.st_mode):
            raise NotAFile(f"{kind(st.st_mode)}, not a file", link=stat.S_ISLNK(st.st_mode))
        known = self.store.file(relative)
        self._readable([relative])
        if not force and unchanged(known, st):
            return Changes()
        if (too_large := oversize(st, self.config)) is not None:
            return self._reject(relative, known, too_large, seen=st, run=run)
        if st.st_size == 0 and self._wait_for_writer(relative, st):
            return Changes()
        ahead = run.reading.bytes(relative, st) if run.reading else None
        if ahead is None:
            data, st = self.drop.read(relative, self.config.parse_max_file_bytes)
            ahead = data, hashlib.sha256(data).hexdigest()
        data, sha256 = ahead
        modified = arrival(st, self.config)
        record = FileRecord(relative, st.st_size, st.st_mtime_ns, sha256,
                            known.received if known else modified)
        if not force and known and known.sha256 == record.sha256:
            self.store.touch_file(record)
            return Changes()
        if PurePosixPath(relative).suffix.lower() in media.SUFFIXES:
            self.store.put_file(record, [], modified)
            return self._refresh_owners(relative, modified, run)
        result = run.reading.take((relative, record.sha256, record.received)) if (
            run.reading) else None
        if result is None:
            result = read((relative, data, record.received), self.config)
        if isinstance(result, Rejection):
            return self._reject(relative, known, result.reason, result.line, seen=st, run=run)
        return self._store(relative, record, result, max(modified, edited_at or modified), run)

    def _store(self, relative: str, record: FileRecord, result: Read, edited_at: datetime,
               run: _Run) -> Changes:
        articles = [e.article for e in result.entries]
        pictured = self.attacher.attach(relative, list(articles))
        # Images change an article (rarely): only those are encoded again.
        entries = [entry if article is entry.article else encode(article)
                   for entry, article in zip(result.entries, pictured, strict=True)]
        changes = self.store.put_file(record, entries, edited_at, keep=self._keeps(relative))
        problems = [str(problem) for problem in result.problems]

        def note() -> None:
            for problem in problems:
                log.warning("%s", problem)
            metrics.FILES_SEEN.inc()
            for change in ("added", "updated", "removed"):
                metrics.ENTRIES_CHANGED.labels(change).inc(getattr(changes, change))
            log.info("%s: %d article(s), %d new, %d updated, %d retracted, %d warning(s)",
                     relative, len(entries), changes.added, changes.updated, changes.removed,
                     len(problems))

        run.note(note)
        return changes

    def _wait_for_writer(self, relative: str, st: os.stat_result) -> bool:
        """Give an empty file time for its writer to write (when the service can look at
        it again later): True while it should be left alone."""
        if self.later is None:
            return False
        version = (st.st_mtime_ns, st.st_ino)
        since = self._empty_since.get(relative)
        now = time.monotonic()
        if since is None or since[0] != version:
            since = self._empty_since[relative] = (version, now)
        waited = now - since[1]
        grace = self.config.service_empty_seconds
        if waited >= grace:
            del self._empty_since[relative]
            return False
        self.later(self.root / relative, grace - waited)
        return True

    def _read_ahead(self, relatives: Sequence[str], force: bool,
                    known: Callable[[str], FileRecord | None]) -> Reading | None:
        wanted = [r for r in relatives if is_utf8(r) and not is_ignored(r)]
        return read_ahead(wanted, self.drop, self.config, self.spread, known, force)

    def _keeps(self, relative: str) -> bool:
        return self.config.on_delete_for(relative) == "keep"

    def _forget(self, relative: str, run: _Run) -> Changes:
        self._readable([relative])
        self._empty_since.pop(relative, None)
        if self.store.file(relative) is None:
            return Changes()
        changes = self.store.remove_file(relative, keep=self._keeps(relative))
        run.note(lambda: log.info("%s: deleted, %d entr(y/ies) retracted", relative,
                                  changes.removed))
        if PurePosixPath(relative).suffix.lower() in media.SUFFIXES:
            changes += self._refresh_owners(relative, self.clock(), run)
        return changes

    def _refresh_owners(self, image: str, when: datetime, run: _Run) -> Changes:
        """An image arrived, changed or went: re-read the articles that may show it."""
        changes = Changes()
        for owner in self.attacher.owners(image):
            if not is_ignored(owner) and self.store.file(owner):
                changes += self._ingest(owner, True, _Run(notes=run.notes), edited_at=when)
        return changes

    # What cannot be read ----------------------------------------------------------------

    def _not_a_file(self, relative: str, exc: NotAFile, run: _Run) -> Changes:
        known = self.store.file(relative)
        if exc.link:
            # Never followed, wherever it points; moving it moves only the link.
            return self._reject(relative, known, "a symbolic link: feeder reads only files "
                                "in the drop folder, never what a link points to; copy the "
                                "file in instead", run=run)
        changes = self.store.remove_file(relative, keep=self._keeps(relative)) if (
            known) else Changes()
        return changes + self._cannot_read(relative, exc.reason)

    def _cannot_read(self, relative: str, reason: str) -> Changes:
        """List *relative* as unreadable (logged when that starts or its reason changes)."""
        if self._unreadable.get(relative, ("",))[0] != reason:
            log.warning("cannot read %s: %s", relative, reason)
            self.store.set_unreadable(printable(relative), reason, self.clock())
            self._unreadable[relative] = (reason, self.clock().isoformat())
            metrics.UNREADABLE.set(len(self._unreadable))
        return Changes()

    def _readable(self, paths: Sequence[str]) -> None:
        done = [p for p in paths if p in self._unreadable]
        if done:
            self.store.clear_unreadable([printable(p) for p in done])
            for path in done:
                log.info("%s can be read again", path)
                del self._unreadable[path]
            metrics.UNREADABLE.set(len(self._unreadable))

    # Rejecting --------------------------------------------------------------------------

    def _reject_image(self, relative: str, reason: str) -> None:
        self._reject(relative, self.store.file(relative), reason, run=_Run())

    def _reject(self, relative: str, known: FileRecord | None, reason: str,
                line: int | None = None, seen: os.stat_result | None = None, *,
                run: _Run) -> Changes:
        if seen is not None and self._changed_since(relative, seen):
            # Still being written: judge the finished file, which the watcher reports again.
            log.info("%s changed while it was read; not rejecting it yet", relative)
            return Changes()
        shown_name = printable(relative)
        where = f"{shown_name}:{line}" if line else shown_name
        destination = self.rejects.move(relative, where, reason, seen)
        if destination is None:
            return self._forget(relative, run)
        now = self.clock()
        self.store.add_rejection(shown_name, reason, now)
        log.error("rejected %s: %s (moved to %s)", where, reason, destination)
        metrics.FILES_REJECTED.inc()
        self._readable([relative])
        return self.store.remove_file(relative, keep=self._keeps(relative)) if known else (
            Changes())

    def _changed_since(self, relative: str, seen: os.stat_result) -> bool:
        try:
            now = self.drop.lstat(relative)
        except OSError:
            return True
        return (now.st_size, now.st_mtime_ns) != (seen.st_size, seen.st_mtime_ns)

    def changed_rejects(self) -> list[Path]:
        """Files rejected lately that changed since (their writer was still at work): moved
        back into the drop folder to be read again. Their paths."""
        return [self.root / relative for relative in self.rejects.changed()]


def posixpath_parent(relative: str) -> str:
    """The folder of *relative* in the drop folder ("" for the top)."""
    return relative.rsplit("/", 1)[0] if "/" in relative else ""


def _listing(root: Path, relatives: list[str]) -> dict[Path, set[str]]:
    names: dict[Path, set[str]] = {}
    for relative in relatives:
        folder = posixpath_parent(relative)
        names.setdefault(root / folder if folder else root, set()).add(
            relative.rsplit("/", 1)[-1])
    return names
