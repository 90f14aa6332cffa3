"""Work spread over the machine's cores: parsing files and rendering article pages.

CPython runs one thread of Python at a time, so a large import or a burst of files keeps
one core busy and leaves the others idle. ``Workers`` hands independent, pure-ish jobs
(parse these bytes, render and write these pages) to worker processes and gives the
results back in order. Workers start through ``forkserver``: forking a process that
already runs threads (the service's watcher, scheduler and server) could copy a lock
some thread holds. The store is only ever touched by the calling process.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)

PRELOAD = ["feeder.ingest.scan", "feeder.publish.build", "feeder.publish.pages",
           "feeder.publish.entries"]
T = TypeVar("T")
R = TypeVar("R")


def worker_count(processes: int) -> int:
    """Workers for the ``processes`` setting: 0 is one a core; with one process in all
    (or one core) the calling process does the work itself."""
    if processes == 0:
        processes = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return processes if processes > 1 else 0


class Workers:
    """A pool of *count* worker processes, started on first use; 0 means in-process.
    Used as ``with Workers(worker_count(config.processes)) as workers:``.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # a build submits from two threads

    def submit(self, fn: Callable[[T], R], jobs: Iterable[T]) -> Batch[T, R]:
        """Start ``fn(job)`` for every job now; collect the results later, in order."""
        pool = self._start() if self.count > 0 else None
        return Batch(self, fn, [(job, self._send(pool, fn, job)) for job in jobs])

    def __call__(self, fn: Callable[[T], R], jobs: Iterable[T]) -> Iterator[R]:
        """``fn(job)`` for each job, in order: ``map(fn, jobs)`` spread over the workers.

        The first jobs start at once (so a caller can hand work out, do its own, and
        collect later); after that a few jobs are in flight per worker rather than all
        queued, so memory stays flat however many jobs there are. *fn* must be a
        module-level function, and jobs must be safe to run twice: should a worker die (the
        OOM killer, say), its job runs again in this process.
        """
        return _Mapped(self, fn, jobs)

    map = __call__

    @property
    def parallel(self) -> bool:
        """Whether jobs go to other processes (else this process runs them, in order)."""
        return self.count > 0

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warm(self) -> None:
        """Start the workers now, so the first burst does not wait for them."""
        if self.count > 0:
            list(self.submit(abs, range(self.count)).results())

    def _start(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and self.count > 0:
                try:
                    self._pool = _new_pool(self.count)
                except (OSError, NotImplementedError, ImportError) as exc:
                    self._give_up(exc)
            return self._pool

    def _send(self, pool: ProcessPoolExecutor | None, fn: Callable[[T], R],
              job: T) -> Future[R] | None:
        """The job's future, or None to run it here (no pool, or one that broke)."""
        if pool is None:
            return None
        try:
            return pool.submit(fn, job)
        except (BrokenProcessPool, RuntimeError):  # RuntimeError: shut down by another thread
            return None
        except OSError as exc:  # the fork server or a worker could not be started
            with self._lock:
                self._give_up(exc)
            return None

    def _give_up(self, exc: BaseException) -> None:
        """Work in this process from now on: worker processes cannot start here (no
        /dev/shm in a container, say), and failing at each batch would help nobody."""
        if self.count:
            log.warning("cannot start worker processes (%s); working in one process", exc)
        self.count = 0
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _broken(self) -> None:
        with self._lock:
            if self._pool is not None:
                log.error("a worker process died; finishing its work in this process")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None  # a new pool starts on the next submit


def _start_worker(feeder: int) -> None:
    """Set up a worker: it ignores Ctrl-C, and exits as soon as feeder's process is gone."""
    # Ctrl-C reaches the whole process group; the parent decides how to stop (and shuts
    # the pool down), so a worker must not die mid-job with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A killed feeder (kill -9, the OOM killer) cannot shut its pool down, and a worker
    # waiting for its next job would wait forever, holding its memory.
    threading.Thread(target=_exit_with, args=(feeder,), name="feeder-watch",
                     daemon=True).start()


def _exit_with(pid: int) -> None:
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (older kernel): look once a second
        while alive(pid):
            time.sleep(1)
        os._exit(0)
    select.select([handle], [], [])  # readable once the process has exited
    os._exit(0)


def alive(pid: int) -> bool:
    """Is process *pid* running (as far as this user can tell)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _new_pool(count: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    # Imported once in the fork server, so each worker starts with them loaded.
    context.set_forkserver_preload(PRELOAD)
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker,
                               initargs=(os.getpid(),))
    log.debug("started %d worker process(es)", count)
    return pool


class Batch(Generic[T, R]):
    """Jobs handed to the workers (or to be run here), whose results are collected once."""

    def __init__(self, workers: Workers, fn: Callable[[T], R],
                 started: list[tuple[T, Future[R] | None]]) -> None:
        self._workers = workers
        self._fn = fn
        self._started = started

    def results(self) -> Iterator[R]:
        for job, future in self._started:
            if future is None:
                yield self._fn(job)
                continue
            try:
                yield future.result()
            except BrokenProcessPool:
                self._workers._broken()
                yield self._fn(job)


class _Mapped(Iterator[R]):
    """The results of ``Workers(fn, jobs)``, its first batches started on creation."""

    AHEAD = 3  # batches in flight besides the one being collected

    def __init__(self, workers: Workers, fn: Callable[[T], R], jobs: Iterable[T]) -> None:
        size = 2 * max(workers.count, 1)
        self._batches = (workers.submit(fn, chunk) for chunk in chunked(jobs, size))
        self._ahead: deque[Batch[T, R]] = deque(itertools.islice(self._batches, self.AHEAD))
        self._current: Iterator[R] = iter(())

    def __next__(self) -> R:
        while True:
            try:
                return next(self._current)
            except StopIteration:
                if not self._ahead:
                    raise
                self._current = self._ahead.popleft().results()
                self._ahead.extend(itertools.islice(self._batches, 1))


class Map(Protocol):
    """What a stage is handed to spread work over the machine's cores: ``map``-shaped."""

    @property
    def parallel(self) -> bool: ...

    def __call__(self, fn: Callable[[T], R], jobs: Iterable[T]) -> Iterator[R]: ...


IN_PROCESS = Workers(0)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """*items* in lists of *size* (the last one shorter)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
