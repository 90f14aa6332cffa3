"""Drop folder → store: read a settled file, parse it, record its articles or reject it.

Idempotent by design: the watcher may report a file many times, and the periodic rescan
reports every file; content already seen (same size and mtime, or same hash) is a no-op.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from stat import S_ISLNK, S_ISREG

from feeder import media, metrics
from feeder.article import Article
from feeder.attach import Attacher
from feeder.clock import Clock, system_clock
from feeder.config import Config
from feeder.errors import ParseError
from feeder.parallel import IN_PROCESS, Workers, chunked
from feeder.progress import Progress
from feeder.readahead import Parsing, parse_context, parse_job, read_ahead
from feeder.store import Changes, FileRecord, Store

log = logging.getLogger(__name__)

BATCH = 200  # files a scan commits at once
LIST_FOLDERS_FROM = 50  # files in a batch from which listing their folders beats probing
TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".temp", ".part", ".partial", ".crdownload",
                 ".download", ".bak")


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


def _changed_since(path: Path, seen: os.stat_result) -> bool:
    try:
        now = path.stat()
    except FileNotFoundError:
        return True
    return (now.st_size, now.st_mtime_ns) != (seen.st_size, seen.st_mtime_ns)


def copy_tree(source: Path, drop_dir: Path) -> int:
    """Copy the files under *source* into *drop_dir* (keeping mtimes); return how many.

    Files are copied to a hidden temporary name and renamed into place, so a running
    service never reads half a file.
    """
    paths = [p for p in sorted(source.rglob("*")) if p.is_file()
             and not is_ignored(p.relative_to(source).as_posix())]
    progress = Progress(len(paths), f"copying {source}")
    for done, path in enumerate(paths, 1):
        target = drop_dir / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.importing")
        shutil.copy2(path, temp)
        os.replace(temp, target)
        progress(done)
    progress.close()
    return len(paths)


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


def _folder_listing(paths: Sequence[Path]) -> dict[Path, set[str]] | None:
    """What the folders of *paths* hold now, or None if one cannot be listed."""
    try:
        return {folder: set(os.listdir(folder)) for folder in {p.parent for p in paths}}
    except OSError:
        return None


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode() turned undecodable bytes into surrogates
        return False
    return True


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class Ingestor:
    """Keeps the store in step with the drop folder."""

    def __init__(self, store: Store, config: Config, workers: Workers = IN_PROCESS,
                 clock: Clock | None = None) -> None:
        self.store = store
        self.config = config
        self.clock = clock or system_clock(config.tz)
        self.root = config.drop_dir
        self._skip = {p.resolve() for p in (config.output_dir, config.state_dir,
                                            config.rejected_dir)}
        self.attacher = Attacher(config, self._reject_image)
        self.workers = workers
        # Files of the current batch parsed ahead by the workers, by what shaped the result.
        self._parsing: Parsing | None = None  # the current batch's, parsed ahead

    def scan(self, *, reparse: bool = False) -> Changes:
        """Catch up with everything in the drop folder: new, edited and deleted files.

        *reparse* reads every file again, as after a change of categories.
        """
        paths = list(self._walk())
        self.attacher.listing = _listing(paths)
        try:
            changes = self._scan(paths, reparse)
        finally:
            self.attacher.listing = None
        for relative in set(self.store.files()) - {
                path.relative_to(self.root).as_posix() for path in paths}:
            changes += self._forget(relative)
        return changes

    def _scan(self, paths: list[Path], reparse: bool) -> Changes:
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
            changes += self._ingest_batch(batch, ready, reparse)
            if progress:
                progress(min(done * BATCH, len(paths)))
        if progress:
            progress.close()
        return changes

    def ingest_many(self, paths: Sequence[Path], *, force: bool = False) -> Changes:
        """``ingest`` each of *paths* in one transaction, parsing them on every core."""
        listing = None if len(paths) < LIST_FOLDERS_FROM else _folder_listing(paths)
        self.attacher.listing = listing
        try:
            parsing = self._read_ahead(paths, force, self.store.file)
            return self._ingest_batch(paths, parsing, force)
        finally:
            self.attacher.listing = None

    def _ingest_batch(self, paths: Sequence[Path], parsing: Parsing | None,
                      force: bool) -> Changes:
        changes = Changes()
        self._parsing = parsing
        try:
            with self.store.batch():
                for path in paths:
                    changes += self.ingest(path, force=force)
        finally:
            self._parsing = None
        return changes

    def ingest(self, path: Path, *, force: bool = False) -> Changes:
        """Bring one file's entries up to date; never raises for bad input."""
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            log.warning("ignoring %s: outside the drop folder %s", path, self.root)
            return Changes()
        if is_ignored(relative):
            return Changes()
        try:
            if not _is_utf8(relative):
                # The store, the log and every feed need text: this name is other bytes.
                return self._reject(path, relative, None, "the file name is not valid "
                                    "UTF-8; rename the file and drop it again")
            return self._ingest(path, relative, force)
        except OSError as exc:
            # Vanished or unreadable mid-read: the next event or rescan will see it again.
            log.warning("could not read %s: %s", relative, exc)
            return Changes()

    def _ingest(self, path: Path, relative: str, force: bool = False,
                edited_at: datetime | None = None) -> Changes:
        try:
            stat = path.lstat()  # one system call for a plain file, not three
            link = S_ISLNK(stat.st_mode)
            if link:
                stat = path.stat()
        except FileNotFoundError:
            return self._forget(relative)
        if not S_ISREG(stat.st_mode):
            return Changes()
        known = self.store.file(relative)
        if link and not path.resolve().is_relative_to(self.root.resolve()):
            return self._reject(path, relative, known, "a link to a file outside the drop "
                                "folder; copy the file in instead")
        if not force and known and (known.size, known.mtime_ns) == (stat.st_size,
                                                                     stat.st_mtime_ns):
            return Changes()
        if stat.st_size > self.config.parse_max_file_bytes:
            return self._reject(path, relative, known, f"file is {stat.st_size} bytes, more "
                                f"than parse.max_file_bytes = {self.config.parse_max_file_bytes}",
                                seen=stat)
        data, sha256 = (self._parsing and self._parsing.read(relative, stat)) or (
            path.read_bytes(), "")
        modified = datetime.fromtimestamp(stat.st_mtime // 1, self.config.tz)
        record = FileRecord(relative, stat.st_size, stat.st_mtime_ns,
                            sha256 or hashlib.sha256(data).hexdigest(),
                            known.received if known else modified)
        if not force and known and known.sha256 == record.sha256:
            self.store.touch_file(record)
            return Changes()
        if path.suffix.lower() in media.SUFFIXES:
            self.store.put_file(record, [], modified)
            return self._refresh_owners(path, modified)
        parsed = self._parsing.take((relative, record.sha256, record.received)) if (
            self._parsing) else None
        if parsed is None:
            parsed = parse_job((data, parse_context(relative, record.received, self.config)))
        if isinstance(parsed, ParseError):
            return self._reject(path, relative, known, parsed.reason, parsed.line, seen=stat)
        for problem in parsed.problems:
            log.warning("%s", problem)
        forced = self._folder(relative).get("source")
        articles = [replace(a, source=forced) for a in parsed.articles] if forced else (
            parsed.articles)
        articles = self.attacher.attach(path, [categorise(a, self.config) for a in articles])
        changes = self.store.put_file(record, articles, max(modified, edited_at or modified),
                                      keep=self._keeps(relative))
        metrics.FILES_SEEN.inc()
        for change in ("added", "updated", "removed"):
            metrics.ENTRIES_CHANGED.labels(change).inc(getattr(changes, change))
        log.info("%s: %d article(s), %d new, %d updated, %d retracted, %d warning(s)", relative,
                 len(parsed.articles), changes.added, changes.updated, changes.removed,
                 len(parsed.problems))
        return changes

    def _read_ahead(self, paths: Sequence[Path], force: bool,
                    known: Callable[[str], FileRecord | None]) -> Parsing | None:
        wanted = [p for p in paths if not is_ignored(p.relative_to(self.root).as_posix())]
        return read_ahead(wanted, self.root, self.config, self.workers, known, force)

    def _folder(self, relative: str) -> Mapping[str, str]:
        return self.config.folders.get(relative.split("/", 1)[0], {}) if "/" in relative else {}

    def _keeps(self, relative: str) -> bool:
        return self.config.on_delete_for(relative) == "keep"

    def _forget(self, relative: str) -> Changes:
        if self.store.file(relative) is None:
            return Changes()
        changes = self.store.remove_file(relative, keep=self._keeps(relative))
        log.info("%s: deleted, %d entr(y/ies) retracted", relative, changes.removed)
        if Path(relative).suffix.lower() in media.SUFFIXES:
            changes += self._refresh_owners(self.root / relative, self.clock())
        return changes

    def _refresh_owners(self, image: Path, when: datetime) -> Changes:
        """An image arrived, changed or went: re-read the articles that may show it."""
        changes = Changes()
        for owner in self.attacher.owners(image):
            relative = owner.relative_to(self.root).as_posix()
            if not is_ignored(relative) and self.store.file(relative):
                changes += self._ingest(owner, relative, force=True, edited_at=when)
        return changes

    def _reject_image(self, path: Path, reason: str) -> None:
        relative = path.relative_to(self.root).as_posix()
        self._reject(path, relative, self.store.file(relative), reason)

    def _reject(self, path: Path, relative: str, known: FileRecord | None, reason: str,
                line: int | None = None, seen: os.stat_result | None = None) -> Changes:
        if seen is not None and _changed_since(path, seen):
            # Still being written: judge the finished file, which the watcher reports again.
            log.info("%s changed while it was read; not rejecting it yet", relative)
            return Changes()
        relative = _printable(relative)
        where = f"{relative}:{line}" if line else relative
        destination = self._rejected_name(path.relative_to(self.root))
        destination.parent.mkdir(parents=True, exist_ok=True)
        now = self.clock()
        note = destination.with_name(destination.name + ".why.txt")
        # The note first: a crash or a full disk before the move leaves the file in the
        # drop folder to be rejected again, never in rejected/ without its reason.
        note.write_text(f"{where}: {reason}\n\nRejected by feeder at {now.isoformat()}. Fix "
                        "the file and drop it into the folder again.\n", encoding="utf-8",
                        errors="replace")
        shutil.move(path, destination)
        self.store.add_rejection(relative, reason, now)
        log.error("rejected %s: %s (moved to %s)", where, reason, destination)
        metrics.FILES_REJECTED.inc()
        return self.store.remove_file(relative, keep=self._keeps(relative)) if known else (
            Changes())

    def _rejected_name(self, relative: Path) -> Path:
        target = self.config.rejected_dir / relative
        stem, n = target, 1
        while target.exists():
            n += 1
            target = stem.with_name(f"{stem.stem}.{n}{stem.suffix}")
        return target

    def _walk(self) -> Iterator[Path]:
        for folder, dirs, files in os.walk(self.root):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and (here / d).resolve() not in self._skip)
            for name in sorted(files):
                yield here / name
