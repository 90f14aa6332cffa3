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
import re
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from feeder import metrics
from feeder.article import Article
from feeder.clock import Clock, system_clock
from feeder.config import Config
from feeder.errors import DropFolderUnavailable, ParseError, StoreUnavailable
from feeder.ingest import media
from feeder.ingest.attach import Attacher
from feeder.ingest.drop import DropFolder, Listing, NotAFile, kind
from feeder.ingest.drop import check as check_drop_folder
from feeder.ingest.scan import Parsing, parse_context, parse_job, read_ahead
from feeder.logs import shown
from feeder.parallel import IN_PROCESS, Workers, chunked
from feeder.progress import Progress
from feeder.store.store import Changes, FileRecord, Store

log = logging.getLogger(__name__)

BATCH = 200  # files a scan commits at once
LIST_FOLDERS_FROM = 50  # files in a batch from which listing their folders beats probing
TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".temp", ".part", ".partial", ".crdownload",
                 ".download", ".bak")
# A scan that would retract more than this share of the stored files needs the drop folder
# to be the one those files were seen in (same device and inode): an unmounted share or a
# folder swapped for an empty one is not a mass deletion.
MASS_RETRACTION = 0.25
# How long a file moved to the rejected folder is watched: should it change (its writer was
# still at work), it comes back to be read again.
WATCH_REJECTED_SECONDS = 600.0
_FATAL = (DropFolderUnavailable, StoreUnavailable, sqlite3.Error)  # faults of the whole run

drop_folder_problem = check_drop_folder


def is_ignored(relative: str) -> bool:
    """Hidden files, editor swap/backup files and tools' temp names are never articles."""
    parts = Path(relative).parts
    name = parts[-1] if parts else ""
    return (
        not name
        or any(p.startswith(".") for p in parts)
        or name.endswith("~")
        or name.lower().endswith(TEMP_SUFFIXES)
        or (name.startswith("#") and name.endswith("#"))
        or name == "4913"  # vim's probe file
    )


def copy_tree(source: Path, drop_dir: Path) -> int:
    """Copy the files under *source* into *drop_dir* (keeping mtimes); return how many.

    Files are copied to a hidden temporary name and renamed into place, so a running
    service never reads half a file.
    """
    paths = [p for p in sorted(source.rglob("*")) if p.is_file()
             and not is_ignored(p.relative_to(source).as_posix())]
    progress = Progress(len(paths), f"copying {source}")
    top = Path(os.path.realpath(drop_dir))
    copied = 0
    for done, path in enumerate(paths, 1):
        relative = path.relative_to(source)
        target = drop_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(os.path.realpath(target.parent)) != top / relative.parent:
            # A folder on the way is a link: writing through it would land elsewhere.
            log.warning("not copying %s: %s in the drop folder is a link", shown(str(path)),
                        shown(str(relative.parent)))
            continue
        temp = target.with_name(f".{target.name}.importing")
        shutil.copy2(path, temp)
        os.replace(temp, target)
        copied += 1
        progress(done)
    progress.close()
    return copied


def categorise(article: Article, config: Config) -> Article:
    """*article* with the configured categories whose keywords it mentions, as tags."""
    if not config.categories:
        return article
    text = f"{article.title} {article.summary} {article.content_html}".casefold()
    found = [name for name, words in config.categories.items()
             if any(re.search(rf"\b{re.escape(w.casefold())}\b", text) for w in words)]
    tags = tuple(dict.fromkeys([*article.tags, *found]))
    return article if tags == article.tags else replace(article, tags=tags)


def _listing(paths: list[Path]) -> dict[Path, set[str]]:
    names: dict[Path, set[str]] = {}
    for path in paths:
        names.setdefault(path.parent, set()).add(path.name)
    return names


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode() turned undecodable bytes into surrogates
        return False
    return True


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _identity(ids: tuple[int, int]) -> str:
    return f"{ids[0]}:{ids[1]}"


def _why(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


@dataclass(frozen=True)
class _Rejected:
    relative: str  # where it was in the drop folder
    size: int
    mtime_ns: int
    until: float  # monotonic time after which it is no longer watched


class Ingestor:
    """Keeps the store in step with the drop folder.

    *later*, when given, is asked to report a path again after some seconds (the service
    schedules it): an empty file gets ``service.empty_seconds`` before it is rejected, since
    its writer may not have written yet. Without it (a one-off ``feeder build``) an empty
    file is rejected at once.
    """

    def __init__(self, store: Store, config: Config, workers: Workers = IN_PROCESS,
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
        self.workers = workers
        self.later = later
        # Files of the current batch parsed ahead by the workers, by what shaped the result.
        self._parsing: Parsing | None = None  # the current batch's, parsed ahead
        # Effects of a batch (log lines, metrics) shown once its commit succeeded.
        self._notes: list[Callable[[], None]] | None = None
        self._unreadable = dict(store.unreadable())
        self._empty_since: dict[str, tuple[tuple[int, int], float]] = {}
        self._rejected: dict[Path, _Rejected] = {}
        self._rejected_lock = threading.Lock()

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
        paths = [self.root / r for r in names]
        self.attacher.listing = _listing(paths)
        try:
            changes = self._scan(paths, reparse, busy, listing.stats)
        finally:
            self.attacher.listing = None
        changes += self._odd(listing, busy)
        with self.store.batch():
            for relative in gone:
                changes += self._forget(relative)
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

    def _scan(self, paths: list[Path], reparse: bool, busy: Callable[[Path], bool],
              stats: Mapping[str, os.stat_result]) -> Changes:
        changes = Changes()
        progress = Progress(len(paths), f"reading {self.root}") if len(paths) > 100 else None
        batches = list(chunked(paths, BATCH))
        # What the store knew when the scan began is as good as asking it file by file for
        # guessing what to parse ahead, and one query, not one a file.
        known = self.store.files().get if self.workers.count else self.store.file
        parsing = self._read_ahead(batches[0], reparse, known) if batches else None
        for done, batch in enumerate(batches, 1):
            ready, parsing = parsing, (self._read_ahead(batches[done], reparse, known)
                                       if done < len(batches) else None)
            # The workers parse the next batch while this one is stored.
            changes += self._ingest_batch([p for p in batch if not busy(p)], ready, reparse,
                                          stats)
            if progress:
                progress(min(done * BATCH, len(paths)))
        if progress:
            progress.close()
        return changes

    def _odd(self, listing: Listing, busy: Callable[[Path], bool]) -> Changes:
        """Account for what the walk found that is not a file to read."""
        changes = Changes()
        with self.store.batch():
            for relative, st in listing.odd.items():
                if not is_ignored(relative) and not busy(self.root / relative):
                    changes += self.ingest(self.root / relative, seen=st)
            for folder, reason in listing.unlistable.items():
                self._cannot_read(folder + "/", f"the folder cannot be listed: {reason}")
        return changes

    # Files ------------------------------------------------------------------------------

    def ingest_many(self, paths: Sequence[Path], *, force: bool = False) -> Changes:
        """``ingest`` each of *paths* in one transaction, parsing them on every core."""
        if not paths:
            return Changes()
        identity = _identity(self.drop.identity())
        if identity != (self.store.meta("drop_identity") or identity):
            # Not the folder the store knows (remounted, replaced): only a whole scan can
            # tell deleted files from a different folder.
            return self.scan()
        listing = None
        if len(paths) >= LIST_FOLDERS_FROM:
            listing = self._folder_listing(paths)
        self.attacher.listing = listing
        try:
            parsing = self._read_ahead(paths, force, self.store.file)
            return self._ingest_batch(paths, parsing, force)
        finally:
            self.attacher.listing = None

    def _folder_listing(self, paths: Sequence[Path]) -> dict[Path, set[str]] | None:
        """What the folders of *paths* hold now, or None if one cannot be listed."""
        folders = {p.parent for p in paths}
        try:
            return {folder: self.drop.listdir(folder.relative_to(self.root).as_posix()
                                              if folder != self.root else "")
                    for folder in folders}
        except (OSError, ValueError):
            return None

    def _ingest_batch(self, paths: Sequence[Path], parsing: Parsing | None, force: bool,
                      stats: Mapping[str, os.stat_result] | None = None) -> Changes:
        """*stats*: what the scan's listing saw of the files, so they are not looked at
        twice (anything that changed since is seen by the read, or by the next event)."""
        changes = Changes()
        stats = stats or {}
        self._parsing = parsing
        notes: list[Callable[[], None]] = []
        self._notes = notes
        try:
            with self.store.batch():
                for path in paths:
                    seen = stats.get(path.relative_to(self.root).as_posix()) if stats else None
                    changes += self.ingest(path, force=force, seen=seen)
        except _FATAL as exc:
            if notes:
                log.warning("could not store what %d file(s) carry (%s); they are read again",
                            len(notes), exc)
            raise
        finally:
            self._parsing = None
            self._notes = None
        for note in notes:
            note()
        return changes

    def ingest(self, path: Path, *, force: bool = False,
               seen: os.stat_result | None = None) -> Changes:
        """Bring one file's entries up to date; never raises for bad input (only for a
        missing drop folder or an unusable store, which are nobody's file's fault)."""
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            log.warning("ignoring %s: outside the drop folder %s", shown(str(path)), self.root)
            return Changes()
        if is_ignored(relative):
            return Changes()
        try:
            if not _is_utf8(relative):
                # The store, the log and every feed need text: this name is other bytes.
                return self._reject(relative, None, "the file name is not valid UTF-8; "
                                    "rename the file and drop it again")
            return self._ingest(relative, force, seen=seen)
        except _FATAL:
            raise
        except NotAFile as exc:
            return self._not_a_file(relative, exc)
        except OSError as exc:
            # Unreadable (no permission, an I/O error): listed until it can be read; its
            # next change or the next rescan tries again.
            return self._cannot_read(relative, _why(exc))
        except Exception as exc:  # a bug met by this one file must not stop the others
            log.exception("could not read %s", shown(relative))
            return self._cannot_read(relative, f"feeder failed on it: {exc!r}")

    def _ingest(self, relative: str, force: bool = False, edited_at: datetime | None = None,
                seen: os.stat_result | None = None) -> Changes:
        try:
            st = seen or self.drop.lstat(relative)
        except (FileNotFoundError, NotAFile):
            # Gone, or no longer reached without a link (a folder on its way was swapped
            # for one): not a file of the drop folder any more.
            if (problem := check_drop_folder(self.root)) is not None:
                raise DropFolderUnavailable(problem) from None
            return self._forget(relative)
        if stat.S_ISDIR(st.st_mode):  # its files are reported on their own
            changes = self.store.remove_file(relative, keep=self._keeps(relative)) if (
                self.store.file(relative)) else Changes()
            if seen is not None:  # the scan met a folder named like an article file
                self._cannot_read(relative, "a folder named like an article file; the files "
                                  "in it are read as a subfolder's")
            return changes
        if not stat.S_ISREG(st.st_mode):
            raise NotAFile(f"{kind(st.st_mode)}, not a file", link=stat.S_ISLNK(st.st_mode))
        known = self.store.file(relative)
        self._readable([relative])
        if not force and known and (known.size, known.mtime_ns) == (st.st_size,
                                                                    st.st_mtime_ns):
            return Changes()
        if st.st_size > self.config.parse_max_file_bytes:
            return self._reject(relative, known, f"file is {st.st_size} bytes, more than "
                                f"parse.max_file_bytes = {self.config.parse_max_file_bytes}",
                                seen=st)
        if st.st_size == 0 and self._wait_for_writer(relative, st):
            return Changes()
        read = self._parsing.read(relative, st) if self._parsing else None
        if read is None:
            data, st = self.drop.read(relative, self.config.parse_max_file_bytes)
            read = data, hashlib.sha256(data).hexdigest()
        data, sha256 = read
        modified = datetime.fromtimestamp(st.st_mtime // 1, self.config.tz)
        record = FileRecord(relative, st.st_size, st.st_mtime_ns, sha256,
                            known.received if known else modified)
        if not force and known and known.sha256 == record.sha256:
            self.store.touch_file(record)
            return Changes()
        if PurePosixPath(relative).suffix.lower() in media.SUFFIXES:
            self.store.put_file(record, [], modified)
            return self._refresh_owners(relative, modified)
        parsed = self._parsing.take((relative, record.sha256, record.received)) if (
            self._parsing) else None
        if parsed is None:
            parsed = parse_job((data, parse_context(relative, record.received, self.config)))
        if isinstance(parsed, ParseError):
            return self._reject(relative, known, parsed.reason, parsed.line, seen=st)
        forced = self._folder(relative).get("source")
        articles = [replace(a, source=forced) for a in parsed.articles] if forced else (
            parsed.articles)
        articles = self.attacher.attach(relative, [categorise(a, self.config)
                                                   for a in articles])
        changes = self.store.put_file(record, articles, max(modified, edited_at or modified),
                                      keep=self._keeps(relative))
        problems = [str(problem) for problem in parsed.problems]

        def note() -> None:
            for problem in problems:
                log.warning("%s", problem)
            metrics.FILES_SEEN.inc()
            for change in ("added", "updated", "removed"):
                metrics.ENTRIES_CHANGED.labels(change).inc(getattr(changes, change))
            log.info("%s: %d article(s), %d new, %d updated, %d retracted, %d warning(s)",
                     relative, len(articles), changes.added, changes.updated, changes.removed,
                     len(problems))

        self._note(note)
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

    def _note(self, note: Callable[[], None]) -> None:
        if self._notes is None:
            note()
        else:
            self._notes.append(note)

    def _read_ahead(self, paths: Sequence[Path], force: bool,
                    known: Callable[[str], FileRecord | None]) -> Parsing | None:
        wanted = [p for p in paths if _is_utf8(r := p.relative_to(self.root).as_posix())
                  and not is_ignored(r)]
        return read_ahead(wanted, self.root, self.drop, self.config, self.workers, known,
                          force)

    def _folder(self, relative: str) -> Mapping[str, str]:
        return self.config.folders.get(relative.split("/", 1)[0], {}) if "/" in relative else {}

    def _keeps(self, relative: str) -> bool:
        return self.config.on_delete_for(relative) == "keep"

    def _forget(self, relative: str) -> Changes:
        self._readable([relative])
        self._empty_since.pop(relative, None)
        if self.store.file(relative) is None:
            return Changes()
        changes = self.store.remove_file(relative, keep=self._keeps(relative))
        self._note(lambda: log.info("%s: deleted, %d entr(y/ies) retracted", relative,
                                    changes.removed))
        if PurePosixPath(relative).suffix.lower() in media.SUFFIXES:
            changes += self._refresh_owners(relative, self.clock())
        return changes

    def _refresh_owners(self, image: str, when: datetime) -> Changes:
        """An image arrived, changed or went: re-read the articles that may show it."""
        changes = Changes()
        for owner in self.attacher.owners(image):
            if not is_ignored(owner) and self.store.file(owner):
                changes += self._ingest(owner, force=True, edited_at=when)
        return changes

    # What cannot be read ----------------------------------------------------------------

    def _not_a_file(self, relative: str, exc: NotAFile) -> Changes:
        known = self.store.file(relative)
        if exc.link:
            # Never followed, wherever it points; moving it moves only the link.
            return self._reject(relative, known, "a symbolic link: feeder reads only files "
                                "in the drop folder, never what a link points to; copy the "
                                "file in instead")
        changes = self.store.remove_file(relative, keep=self._keeps(relative)) if (
            known) else Changes()
        return changes + self._cannot_read(relative, exc.reason)

    def _cannot_read(self, relative: str, reason: str) -> Changes:
        """List *relative* as unreadable (logged when that starts or its reason changes)."""
        if self._unreadable.get(relative, ("",))[0] != reason:
            log.warning("cannot read %s: %s", relative, reason)
            self.store.set_unreadable(_printable(relative), reason, self.clock())
            self._unreadable[relative] = (reason, self.clock().isoformat())
            metrics.UNREADABLE.set(len(self._unreadable))
        return Changes()

    def _readable(self, paths: Sequence[str]) -> None:
        done = [p for p in paths if p in self._unreadable]
        if done:
            self.store.clear_unreadable([_printable(p) for p in done])
            for path in done:
                log.info("%s can be read again", path)
                del self._unreadable[path]
            metrics.UNREADABLE.set(len(self._unreadable))

    # Rejecting --------------------------------------------------------------------------

    def _reject_image(self, relative: str, reason: str) -> None:
        self._reject(relative, self.store.file(relative), reason)

    def _reject(self, relative: str, known: FileRecord | None, reason: str,
                line: int | None = None, seen: os.stat_result | None = None) -> Changes:
        if seen is not None and self._changed_since(relative, seen):
            # Still being written: judge the finished file, which the watcher reports again.
            log.info("%s changed while it was read; not rejecting it yet", relative)
            return Changes()
        printable = _printable(relative)
        where = f"{printable}:{line}" if line else printable
        destination = self._rejected_name(PurePosixPath(relative))
        destination.parent.mkdir(parents=True, exist_ok=True)
        now = self.clock()
        note = destination.with_name(destination.name + ".why.txt")
        # The note first: a crash or a full disk before the move leaves the file in the
        # drop folder to be rejected again, never in rejected/ without its reason.
        note.write_text(f"{where}: {reason}\n\nRejected by feeder at {now.isoformat()}. Fix "
                        "the file and drop it into the folder again.\n", encoding="utf-8",
                        errors="replace")
        try:
            judged = seen or self.drop.lstat(relative)  # the version judged: later writes
            self.drop.move_out(relative, destination)  # to it bring it back
        except FileNotFoundError:
            note.unlink(missing_ok=True)
            return self._forget(relative)
        self._watch_rejected(destination, relative, judged)
        self.store.add_rejection(printable, reason, now)
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

    def _rejected_name(self, relative: PurePosixPath) -> Path:
        target = self.config.rejected_dir / relative
        stem, n = target, 1
        while os.path.lexists(target):  # a note alone is one a crash left: rewritten
            n += 1
            target = stem.with_name(f"{stem.stem}.{n}{stem.suffix}")
        return target

    def _watch_rejected(self, destination: Path, relative: str, judged: os.stat_result) -> None:
        if stat.S_ISREG(judged.st_mode):
            with self._rejected_lock:
                self._rejected[destination] = _Rejected(
                    relative, judged.st_size, judged.st_mtime_ns,
                    time.monotonic() + WATCH_REJECTED_SECONDS)

    def changed_rejects(self) -> list[Path]:
        """Files rejected lately that changed since (their writer was still at work): moved
        back into the drop folder, under their name, to be read again. Their paths."""
        with self._rejected_lock:
            watched = list(self._rejected.items())
        back = []
        now = time.monotonic()
        for destination, rejected in watched:
            try:
                st = os.lstat(destination)
            except OSError:
                st = None
            changed = st is not None and (st.st_size, st.st_mtime_ns) != (rejected.size,
                                                                          rejected.mtime_ns)
            if changed or st is None or now > rejected.until:
                with self._rejected_lock:
                    self._rejected.pop(destination, None)
            if not changed:
                continue
            try:
                moved = self.drop.put_back(destination, rejected.relative)
            except OSError as exc:
                log.warning("could not move %s back: %s", destination, _why(exc))
                continue
            if moved:
                Path(f"{destination}.why.txt").unlink(missing_ok=True)
                log.info("%s changed after it was rejected (its writer was still at work): "
                         "moved back to be read again", rejected.relative)
                back.append(self.root / rejected.relative)
        return back

