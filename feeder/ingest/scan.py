"""Files of a batch read and parsed ahead, in the worker processes, while the ingestor
stores the ones before them.

The ingestor stays the one judge: it asks for a file's result by what shapes a parse (path,
bytes, arrival), and for the bytes read ahead only while the file is still the one read
(same inode, size, mtime and ctime, which any write changes). A wrong guess costs time,
never correctness.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from stat import S_ISREG

from feeder.config import Config
from feeder.errors import ParseError
from feeder.ingest.drop import DropFolder
from feeder.parallel import Batch, Workers, chunked
from feeder.parser import SUFFIXES as PARSED_SUFFIXES
from feeder.parser import Context, Parsed, parse
from feeder.store.store import FileRecord

# Files a worker parses per round trip: fewer trips leave feeder's process more time to
# store (20.0k articles/s on 2 cores with 10, 21.9k with 40); the first results of a
# burst come back ~10 ms later.
PARSE_CHUNK = 40
Key = tuple[str, str, datetime]  # relative path, SHA-256 and arrival: what shapes a parse
Job = tuple[bytes, Context]


def parse_context(relative: str, received: datetime, config: Config) -> Context:
    """What the parser is told about a file of the drop folder."""
    folder = relative.split("/", 1)[0] if "/" in relative else "local"
    return Context(path=relative, received=received, source=folder,
                   tolerance=timedelta(hours=config.parse_future_tolerance_hours))


def parse_job(job: Job) -> Parsed | ParseError:
    """Parse one file's bytes; the error is returned, so it can cross from a worker."""
    try:
        return parse(*job)
    except ParseError as exc:
        return exc


def parse_jobs(jobs: list[Job]) -> list[Parsed | ParseError]:
    return [parse_job(job) for job in jobs]


def prepare_jobs(jobs: list[Job]) -> list[Parsed | ParseError]:
    """``parse_jobs``, plus what storing the articles needs, worked out on a worker's core
    rather than in feeder's process, which stores them one after another."""
    results = parse_jobs(jobs)
    for parsed in results:
        for article in () if isinstance(parsed, ParseError) else parsed.articles:
            article.fingerprint, article.channels, article.stored  # noqa: B018 (cached)
    return results


def read_ahead(paths: Sequence[Path], root: Path, drop: DropFolder, config: Config,
               workers: Workers, known: Callable[[str], FileRecord | None],
               force: bool) -> Parsing | None:
    """Start parsing in the workers the files of *paths* that the ingestor will parse, by
    the same rules (*known* gives what the store has of a file), read through *drop*."""
    if workers.count < 1 or len(paths) < 2:
        return None
    identities: dict[str, tuple[int, ...]] = {}
    jobs = [found for path in paths
            if (found := _job(path, root, drop, config, known, force, identities)) is not None]
    chunks = list(chunked(jobs, PARSE_CHUNK))
    return Parsing(chunks, workers.submit(prepare_jobs, (
        [job for _, job in chunk] for chunk in chunks)), identities)


def _job(path: Path, root: Path, drop: DropFolder, config: Config,
         known: Callable[[str], FileRecord | None], force: bool,
         identities: dict[str, tuple[int, ...]]) -> tuple[Key, Job] | None:
    relative = path.relative_to(root).as_posix()
    if path.suffix.lower() not in PARSED_SUFFIXES:
        return None
    try:
        stat = drop.lstat(relative)  # links and anything odd are left to the ingestor
        if (not S_ISREG(stat.st_mode) or not stat.st_size
                or stat.st_size > config.parse_max_file_bytes):
            return None
        record = known(relative)
        if not force and record and (record.size, record.mtime_ns) == (stat.st_size,
                                                                       stat.st_mtime_ns):
            return None
        data, stat = drop.read(relative, config.parse_max_file_bytes)
    except OSError:
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    if not force and record and record.sha256 == sha256:
        return None
    received = record.received if record else datetime.fromtimestamp(stat.st_mtime // 1, config.tz)
    identities[relative] = identity(stat)
    return (relative, sha256, received), (data, parse_context(relative, received, config))


def identity(stat: os.stat_result) -> tuple[int, ...]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


class Parsing:
    """Files being parsed in the workers, taken in the order they were handed out, so the
    first files are stored while the workers still parse the last."""

    def __init__(self, chunks: list[list[tuple[Key, Job]]],
                 batch: Batch[list[Job], list[Parsed | ParseError]],
                 identities: dict[str, tuple[int, ...]]) -> None:
        self._keys = {key for chunk in chunks for key, _ in chunk}
        self._results = self._flatten(chunks, batch)
        self._ready: dict[Key, Parsed | ParseError] = {}
        self._read = {key[0]: (identities[key[0]], data, key[1])
                      for chunk in chunks for key, (data, _) in chunk}

    def read(self, relative: str, stat: os.stat_result) -> tuple[bytes, str] | None:
        """The bytes and SHA-256 read ahead of *relative*, if the file is still that one:
        same inode, size, mtime and ctime (which any write changes)."""
        seen, data, sha256 = self._read.pop(relative, ((), b"", ""))
        return (data, sha256) if seen == identity(stat) else None

    def take(self, key: Key) -> Parsed | ParseError | None:
        """The result for *key*, or None if it was not parsed ahead (a wrong guess)."""
        if key not in self._keys:
            return None
        self._keys.discard(key)
        for found, result in self._results:
            if found == key:
                return result
            self._ready[found] = result
        return self._ready.pop(key, None)

    @staticmethod
    def _flatten(chunks: list[list[tuple[Key, Job]]],
                 batch: Batch[list[Job], list[Parsed | ParseError]]
                 ) -> Iterator[tuple[Key, Parsed | ParseError]]:
        for chunk, results in zip(chunks, batch.results(), strict=True):
            yield from zip((key for key, _ in chunk), results, strict=True)
