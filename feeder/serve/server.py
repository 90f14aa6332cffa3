"""Serve the builder's output folder over HTTP from responses precomputed in memory.

Feed readers poll a few files over and over, mostly conditionally, so the hot path is a dict
lookup and ready-made header lists, with at most one ``os.stat`` per path per pass of the event
loop (see ``FeedServer._checked``). Per small file we keep body, gzip body, ETag, Last-Modified
and type (``feeder.serve.responses``), keyed by URL path, rebuilt in a worker thread only when the
file's identity (device, inode, size, mtime_ns) changes - atomic replaces always give a new
inode.
Large files are streamed. Only regular files inside the root are served: ``..``, hidden
segments (also the writer's ``.name.XXXX.tmp``), backslashes, control characters and ``//`` are
refused up front, and symlinks must resolve inside the root. ``scope["path"]`` is already
percent-decoded once and is never decoded again. A plain ASGI 3 callable; no framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import importlib.util
import logging
import math
import os
import stat
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import uvicorn

from feeder.clock import Clock, system_clock
from feeder.serve.connections import Limits, protocol_class
from feeder.serve.headers import (
    bad_path,
    compressible,
    content_type,
)
from feeder.serve.responses import (
    Entry,
    Headers,
    Response,
    Route,
    cap_age,
    capped,
    choose,
    dynamic,
    error,
    make_entry,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Release = Callable[[], datetime | None]  # when the next embargoed article is due, if any

MAX_PATH = 1024
CHUNK = 256 * 1024
MIN_GZIP = 256

def _open(path: str) -> BinaryIO:
    # O_NONBLOCK: should a FIFO be swapped in after the stat, open must not hang a thread.
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True, slots=True)
class _Read:
    """A file to read (or, if *stream*, to send from disk) before answering."""

    path: str  # as the URL names it
    fs_path: str
    stream: bool


class FeedServer:
    """ASGI 3 app serving the files under *root*, plus exact-path dynamic *extra_routes*."""

    max_cached_file_size = 2 * 1024 * 1024  # larger files are streamed, never cached
    max_cache_entries = 4096
    max_cache_bytes = 128 * 1024 * 1024

    def __init__(self, root: Path, cache_control: str = "public, max-age=60",
                 extra_routes: Mapping[str, Route] | None = None, *,
                 release: Release | None = None, clock: Clock | None = None) -> None:
        """*release* tells when the next embargoed article is due: until then no response
        may be cached for longer (a cache would hide the article), by *clock*."""
        # Everything is resolved once so the per-request work is at most a concat and a stat.
        self._root = os.path.realpath(root)
        self._prefix = self._root.rstrip(os.sep) + os.sep
        self._cache_control = cache_control.encode("latin-1")
        self._extra = dict(extra_routes or {})
        self._release = release
        self._clock = clock or system_clock(UTC)
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Entry | None]] = {}
        self._bytes = 0
        # Entries checked against the disk in the current pass of _fresh_loop (see _checked).
        self._fresh: dict[str, Entry] = {}
        self._fresh_loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            method: str = scope["method"]
            head = method == "HEAD"
            try:
                found = self._find(scope["path"], method, scope["headers"])
                response = found if not isinstance(found, _Read) else await self._read(
                    found, head, scope["headers"], send)
                if response is not None:
                    status, headers, body = self._capped(response)
                    await _send(send, status, headers, b"" if head else body)
            except Exception:
                logger.exception("error serving %r", scope.get("path"))
                # Fails harmlessly if the response had already started; the server then
                # closes the connection, which is the best that can be done mid-body.
                with contextlib.suppress(Exception):
                    status, headers, body = error(500)
                    await _send(send, status, headers, b"" if head else body)
        elif kind == "lifespan":
            # uvicorn runs us with lifespan="off", but another server may still send these.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        elif kind == "websocket":
            await send({"type": "websocket.close"})

    def answer(self, path: str, method: str, req: list[tuple[bytes, bytes]]) -> Response | None:
        """The response to *method* on *path* (percent-decoded once) if it can be given at
        once, from memory: a file whose version in memory is still current, a dynamic route,
        an error. None when a file must be read or streamed first: only the ASGI path
        (``__call__``) does that.

        The connections' quick path (``feeder.serve.connections``) asks this before uvicorn
        makes an ASGI request of it; the ASGI path starts with the same lookup, so the two
        answer alike.
        """
        found = self._find(path, method, req)
        return None if isinstance(found, _Read) else self._capped(found)

    def _capped(self, response: Response) -> Response:
        left = self._until_release()
        return response if left is None else capped(response, left)

    def _find(self, path: str, method: str, req: list[tuple[bytes, bytes]]) -> Response | _Read:
        """The response to send if memory holds it, else the file to read for it."""
        if len(path) > MAX_PATH:
            return error(414)
        if method != "GET" and method != "HEAD":
            return error(405, [(b"allow", b"GET, HEAD")])
        entry = self._fresh.get(path)
        # (asyncio.get_running_loop would be surer, but on 3.11 it costs a getpid syscall.)
        if entry is not None and self._fresh_loop is not None and self._fresh_loop.is_running():
            return choose(entry, req)
        route = self._extra.get(path)
        if route is not None:
            return dynamic(route)
        if bad_path(path):
            return error(404)
        rel = path[1:]
        if not rel or rel.endswith("/"):
            rel += "index.html"
        fs_path = self._prefix + rel
        try:
            st = os.stat(fs_path)
        except (OSError, ValueError):
            self._forget(path)
            return error(404)
        entry = self._cache.get(path)
        if entry is not None and entry.key == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
            self._cache.move_to_end(path)
            self._checked(path, entry)
            return choose(entry, req)
        if not stat.S_ISREG(st.st_mode):  # directories, and FIFOs whose open would block
            return error(404)
        return _Read(path, fs_path, st.st_size > self.max_cached_file_size)

    async def _read(self, read: _Read, head: bool, req: list[tuple[bytes, bytes]],
                    send: Send) -> Response | None:
        """The response for a file memory does not hold; None once a large one is streamed."""
        if read.stream:
            self._forget(read.path)
            return await self._stream(read.fs_path, head, req, send)
        entry = await self._load(read.path, read.fs_path)
        return error(404) if entry is None else choose(entry, req)

    def _checked(self, path: str, entry: Entry) -> None:
        """Let the later requests for *path* in this pass of the event loop skip the checks.

        The requests a pass handles were read before it began, so an entry checked against
        the disk during the pass is as fresh for them as a check of their own; under load a
        pass holds many requests for the same few feeds, and the stat was about half of what
        our own code cost per request. The first callback of the next pass empties the set.
        """
        loop = asyncio.get_running_loop()
        if not self._fresh or self._fresh_loop is not loop:
            self._fresh.clear()
            self._fresh_loop = loop
            loop.call_soon(self._fresh.clear)
        self._fresh[path] = entry

    async def _load(self, path: str, fs_path: str) -> Entry | None:
        # One build per path at a time: when a popular file changes, the burst of requests
        # that notices it shares a single read + gzip instead of queueing one each.
        pending = self._pending.get(path)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(self._build, fs_path))
            self._pending[path] = pending
            pending.add_done_callback(lambda fut: self._loaded(path, fut))
        return await asyncio.shield(pending)

    def _loaded(self, path: str, fut: asyncio.Future[Entry | None]) -> None:
        self._pending.pop(path, None)
        if fut.cancelled() or fut.exception() is not None:
            return
        entry = fut.result()
        self._forget(path)
        if entry is None:
            return
        self._cache[path] = entry
        self._bytes += entry.weight
        while len(self._cache) > self.max_cache_entries or self._bytes > self.max_cache_bytes:
            self._bytes -= self._cache.popitem(last=False)[1].weight

    def _until_release(self) -> int | None:
        """Whole seconds until the next embargoed article is due, if one is."""
        due = self._release() if self._release is not None else None
        if due is None:
            return None
        return max(0, math.ceil((due - self._clock()).total_seconds()))

    def _forget(self, path: str) -> None:
        old = self._cache.pop(path, None)
        if old is not None:
            self._bytes -= old.weight

    def _inside(self, fs_path: str) -> str | None:
        """The real path of *fs_path* if it stays inside the root, else None."""
        real = os.path.realpath(fs_path)
        return real if real.startswith(self._prefix) else None

    def _build(self, fs_path: str) -> Entry | None:
        """Read one file version and precompute its responses (runs in a worker thread)."""
        real = self._inside(fs_path)
        if real is None:
            return None
        try:
            with _open(real) as handle:
                st = os.fstat(handle.fileno())  # describes exactly the bytes we read
                if not stat.S_ISREG(st.st_mode):
                    return None
                body = handle.read()
        except OSError:  # vanished, replaced by a directory, unreadable: all just "not here"
            return None
        tag = hashlib.blake2b(body, digest_size=8).hexdigest()
        gz = None
        rel = fs_path[len(self._prefix):]  # the URL's path decides the type, not a link target
        if len(body) >= MIN_GZIP and compressible(content_type(rel)):
            gz = gzip.compress(body, compresslevel=6, mtime=0)
            gz = gz if len(gz) < len(body) else None
        return make_entry(st, rel, tag, body, self._cache_control, gz)

    async def _stream(self, fs_path: str, head: bool, req: list[tuple[bytes, bytes]],
                      send: Send) -> Response | None:
        """Send a file too big to cache straight from disk, without gzip; or return a 404."""
        real = self._inside(fs_path)
        handle = None
        if real is not None:
            with contextlib.suppress(OSError):
                handle = _open(real)
        if handle is None:
            return error(404)
        with handle:
            st = os.fstat(handle.fileno())
            # Hashing megabytes per version would stall; since files are only ever replaced,
            # never rewritten in place, the identity names the content just as well.
            tag = hashlib.blake2b(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
                                  .encode(), digest_size=8).hexdigest()
            left = self._until_release()
            entry = make_entry(st, fs_path[len(self._prefix):], tag, None,
                               self._cache_control if left is None else
                               cap_age(self._cache_control, left))
            status, headers, _ = choose(entry, req)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            more = not head and status == 200
            while more:
                chunk = await asyncio.to_thread(handle.read, CHUNK)
                more = len(chunk) == CHUNK
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if head or status != 200:
                await send({"type": "http.response.body", "body": b""})
        return None


def make_config(
    app: FeedServer, host: str, port: int, log_level: str = "warning",
    limits: Limits | None = None,
) -> uvicorn.Config:
    """A uvicorn Config with httptools held to *limits* (``feeder.serve.connections``: idle and
    header timeouts, header size, a cap on connections), the fastest loop, and no extras."""
    limits = limits or Limits()
    fast_loop = importlib.util.find_spec("uvloop") is not None
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level,
        http=protocol_class(limits, app.answer), loop="uvloop" if fast_loop else "asyncio",
        timeout_keep_alive=limits.idle,  # type: ignore[arg-type]  # a float works as well
        lifespan="off", access_log=False, server_header=False, proxy_headers=False,
    )
