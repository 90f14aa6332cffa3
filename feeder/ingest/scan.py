"""Reading a file into what the store keeps: parse, finish (source, categories), encode.
For a batch of files, that work is handed to the machine's other cores (``parallel.Map``)
while the ingestor stores the batch before: the one place ingest spreads work out.

The ingestor stays the one judge: it asks for a file's result by what shapes it (path,
bytes, arrival), and for the bytes read ahead only while the file is still the one read
(same inode, size, mtime and ctime, which any write changes). A wrong guess costs time,
never correctness.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from stat import S_ISREG

from feeder.config import Config
from feeder.errors import ParseError
from feeder.ingest.context import finish, parse_context
from feeder.ingest.drop import DropFolder
from feeder.parallel import Map, chunked
from feeder.parser import SUFFIXES as PARSED_SUFFIXES
from feeder.parser import Problem, parse
from feeder.store import FileRecord
from feeder.store.entries import Entry, encode

# Files parsed per round trip to a worker: fewer trips leave feeder's process more time to
# store; more make the first results of a burst come back later.
PARSE_CHUNK = 40
Key = tuple[str, str, datetime]  # relative path, SHA-256 and arrival: what shapes a read


@dataclass(frozen=True)
class Read:
    """A file's articles, encoded for the store, and what the parser warned about."""

    entries: list[Entry]
    problems: list[Problem]


@dataclass(frozen=True)
class Rejection:
    """Why a file cannot become any article (the parser's ParseError, as a value)."""

    line: int | None
    reason: str


Job = tuple[str, bytes, datetime]  # relative path, bytes, arrival


def read(job: Job, config: Config) -> Read | Rejection:
    """What a file's bytes become (pure: runs in any process)."""
    relative, data, received = job
    try:
        parsed = parse(data, parse_context(relative, received, config))
    except ParseError as exc:
        return Rejection(exc.line, exc.reason)
    return Read([encode(a) for a in finish(parsed.articles, relative, config)],
                parsed.problems)


def read_chunk(work: tuple[Config, list[Job]]) -> list[Read | Rejection]:
    config, jobs = work
    return [read(job, config) for job in jobs]


def oversize(st: os.stat_result, config: Config) -> str | None:
    """Why a file is too large to be read as articles, or None."""
    if st.st_size > config.parse_max_file_bytes:
        return (f"file is {st.st_size} bytes, more than "
                f"parse.max_file_bytes = {config.parse_max_file_bytes}")
    return None


def unchanged(known: FileRecord | None, st: os.stat_result) -> bool:
    """Whether the store has this very version of the file (same size and mtime)."""
    return known is not None and (known.size, known.mtime_ns) == (st.st_size, st.st_mtime_ns)


def identity(st: os.stat_result) -> tuple[int, ...]:
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def read_ahead(relatives: Sequence[str], drop: DropFolder, config: Config, spread: Map,
               known: Callable[[str], FileRecord | None], force: bool) -> Reading | None:
    """Start reading in the workers the files of *relatives* that the ingestor will read,
    by the same rules (*known* gives what the store has of a file)."""
    if not spread.parallel or len(relatives) < 2:
        return None
    jobs = [found for relative in relatives
            if (found := _job(relative, drop, config, known, force)) is not None]
    chunks = list(chunked(jobs, PARSE_CHUNK))
    results = spread(read_chunk, ((config, [job for _, _, job in chunk]) for chunk in chunks))
    return Reading(chunks, results)


Ahead = tuple[Key, tuple[int, ...], Job]  # what shapes the read, the file's identity, the job


def _job(relative: str, drop: DropFolder, config: Config,
         known: Callable[[str], FileRecord | None], force: bool) -> Ahead | None:
    if PurePosixPath(relative).suffix.lower() not in PARSED_SUFFIXES:
        return None
    try:
        st = drop.lstat(relative)  # links and anything odd are left to the ingestor
        if (not S_ISREG(st.st_mode) or not st.st_size
                or st.st_size > config.parse_max_file_bytes):
            return None
        record = known(relative)
        if not force and unchanged(record, st):
            return None
        data, st = drop.read(relative, config.parse_max_file_bytes)
    except OSError:
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    if not force and record and record.sha256 == sha256:
        return None
    received = record.received if record else arrival(st, config)
    return (relative, sha256, received), identity(st), (relative, data, received)


def arrival(st: os.stat_result, config: Config) -> datetime:
    """When a file arrived, as far as its first sight tells: its mtime (whole seconds)."""
    return datetime.fromtimestamp(st.st_mtime // 1, config.tz)


class Reading:
    """Files being read in the workers, taken in the order they were handed out, so the
    first files are stored while the workers still read the last."""

    def __init__(self, chunks: list[list[Ahead]],
                 results: Iterator[list[Read | Rejection]]) -> None:
        self._keys = {key for chunk in chunks for key, _, _ in chunk}
        self._results = self._flatten(chunks, results)
        self._ready: dict[Key, Read | Rejection] = {}
        self._bytes = {key[0]: (ids, job[1], key[1]) for chunk in chunks
                       for key, ids, job in chunk}

    def bytes(self, relative: str, st: os.stat_result) -> tuple[bytes, str] | None:
        """The bytes and SHA-256 read ahead of *relative*, if the file is still that one:
        same inode, size, mtime and ctime (which any write changes)."""
        seen, data, sha256 = self._bytes.pop(relative, ((), b"", ""))
        return (data, sha256) if seen == identity(st) else None

    def take(self, key: Key) -> Read | Rejection | None:
        """The result for *key*, or None if it was not read ahead (a wrong guess)."""
        if key not in self._keys:
            return None
        self._keys.discard(key)
        for found, result in self._results:
            if found == key:
                return result
            self._ready[found] = result
        return self._ready.pop(key, None)

    @staticmethod
    def _flatten(chunks: list[list[Ahead]], results: Iterator[list[Read | Rejection]]
                 ) -> Iterator[tuple[Key, Read | Rejection]]:
        for chunk, done in zip(chunks, results, strict=True):
            yield from zip((key for key, _, _ in chunk), done, strict=True)
