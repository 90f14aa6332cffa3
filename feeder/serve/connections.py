"""HTTP connections held to limits uvicorn lacks: idle time, header time and size, count.

uvicorn (0.54, httptools) closes a connection idle *after* a response, but not one that
never sends a request; it has no bound on the time or the size of a request's headers
(a 100 MB header cost seconds of CPU, growing faster than its size, while every other
client waited); and ``limit_concurrency`` answers 503 only after accepting the socket and
parsing the request, so idle sockets still use up the process's descriptors until files
can no longer be opened. Hypercorn parses in pure Python (h11) and caps no connections;
Granian's header timeout (hyper's) closes without a 408 and it runs the application in
workers of its own; replacing the server would also put the serving speed feeder is
measured by at stake. So this is a small subclass of uvicorn's own httptools protocol,
passed to it as its ``http`` class:

- a connection with no request under way for ``idle`` seconds is closed;
- a request whose line and headers are not complete ``header`` seconds after their first
  byte is answered 408 and closed;
- a request line and headers larger than ``max_header`` bytes are answered 431 and closed,
  checked before the bytes reach the parser;
- beyond ``max_connections`` open connections the longest idle one is closed to let the new
  one in (a new reader is worth more than a sleeping one), or, if none is idle, the new one.

Timing is a sweep of the open connections once per ``SWEEP`` interval on the server's own
loop, not a timer per request, so the hot path gains a few attribute updates.
Responses that refuse a request are written, then the connection is half-closed and what
the client still sends is read and dropped for ``LINGER`` seconds before closing, so the
client can read the answer instead of a reset.

Most requests are feed readers polling a feed the server holds in memory, and what uvicorn
does around the application (an ASGI scope, a request cycle, a task, two messages, the head
written name by name and then respelt) cost more than the answer. So a GET or HEAD the
application can answer at once (``FeedServer.answer``: a current file in memory, a dynamic
route, an error) is answered right in the parser's callback, written in one piece with
the same bytes the ASGI path would send; everything else (a file to read first, a request
with a body, HTTP/1.0, pipelined requests behind a pending one, ``Expect``) takes uvicorn's
path. Neither logs access (``access_log`` is off).

Header names go out spelt as RFC 9110 spells them (``Last-Modified``, ``ETag``): uvicorn
lower-cases every name it writes, and some readers look for them case-sensitively
(rsstail's libmrss finds no ``Last-Modified:`` and downloads the whole feed every poll).
"""

from __future__ import annotations

import asyncio
import logging
import re
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config as UvicornConfig
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

log = logging.getLogger(__name__)

SWEEP = 0.5  # seconds between looks at the open connections
LINGER = 1.0  # seconds a refused client's remaining bytes are read and dropped
DESCRIPTOR_RESERVE = 128  # descriptors kept for files, the store, workers, the watcher
MAX_DEFAULT_CONNECTIONS = 4096
_TERMINATOR = b"\r\n\r\n"

Headers = list[tuple[bytes, bytes]]
# A response the application can give at once, for (path, method, request headers); or None.
Answer = Callable[[str, str, Headers], "tuple[int, Headers, bytes] | None"]


@dataclass(frozen=True)
class Limits:
    idle: float = 5.0
    header: float = 10.0
    max_header: int = 16384
    max_connections: int = 0  # 0: from the descriptor limit

    def connections(self) -> int:
        """The cap on open connections: the setting, never above what the descriptor limit
        (``ulimit -n``, systemd's ``LimitNOFILE``) leaves room for beside everything else."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        room = MAX_DEFAULT_CONNECTIONS if soft == resource.RLIM_INFINITY else max(
            soft - DESCRIPTOR_RESERVE, 16)
        wanted = self.max_connections or MAX_DEFAULT_CONNECTIONS
        if self.max_connections > room:
            log.warning("server.max_connections = %d is more than the descriptor limit %d "
                        "leaves room for; at most %d", self.max_connections, soft, room)
        return min(wanted, room)


@dataclass
class _Open:
    """The open connections of one server, and its sweep."""

    limits: Limits
    cap: int
    answer: Answer | None = None
    protocols: set[LimitedProtocol] = field(default_factory=set)
    sweep: asyncio.TimerHandle | None = None
    refused: int = 0


def protocol_class(limits: Limits, answer: Answer | None = None) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol held to *limits*, for ``uvicorn.Config(http=...)``;
    requests *answer* responds to at once skip the ASGI application (see above)."""
    state = _Open(limits, limits.connections(), answer)
    return type("LimitedProtocol", (LimitedProtocol,), {"_open": state})


def _answer(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


TIMEOUT_408 = _answer(408, "Request Timeout", "request headers too slow\n")
TOO_LARGE_431 = _answer(431, "Request Header Fields Too Large", "request headers too large\n")


# Names whose registered spelling is not each hyphenated word capitalised.
_SPELLING = {b"etag": b"ETag", b"www-authenticate": b"WWW-Authenticate",
             b"x-xss-protection": b"X-XSS-Protection", b"content-md5": b"Content-MD5",
             b"dnt": b"DNT", b"te": b"TE"}
_HEADER_NAME = re.compile(rb"\r\n([!#$%&'*+.^_`|~0-9A-Za-z-]+):")


def canonical_head(head: bytes) -> bytes:
    """A response head with each header name spelt canonically (values untouched)."""
    end = head.find(_TERMINATOR)
    if end < 0:
        end = len(head)
    return _HEADER_NAME.sub(_respell, head[:end]) + head[end:]


def _respell(match: re.Match[bytes]) -> bytes:
    return b"\r\n" + _spelt(match[1].lower()) + b":"


def _spelt(name: bytes) -> bytes:
    """The canonical spelling of a lower-case header *name*."""
    spelt = _SPELT.get(name)
    if spelt is None:
        spelt = _SPELLING.get(name) or b"-".join(w.capitalize() for w in name.split(b"-"))
        if len(_SPELT) < 256:  # names come from feeder's own responses: a handful
            _SPELT[name] = spelt
    return spelt


_SPELT: dict[bytes, bytes] = {}


def response_head(status: int, headers: Headers) -> bytes:
    """The head uvicorn writes for a response with a Content-Length (or a 304) on a
    connection kept alive, names spelt canonically (as ``_Heads`` respells uvicorn's)."""
    out = [STATUS_LINE[status]]
    for name, value in headers:
        out += (_spelt(name.lower()), b": ", value, b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


class _Heads:
    """A request's transport whose first final response head gets canonical names; every
    other write (bodies, whatever bytes they hold) passes through as it is."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head_sent = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._head_sent and bytes(data[:9]) == b"HTTP/1.1 ":
            self._head_sent = bytes(data[9:10]) != b"1"  # 100 Continue: the head still comes
            data = canonical_head(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class LimitedProtocol(HttpToolsProtocol):
    _open: ClassVar[_Open]

    def __init__(self, config: UvicornConfig, server_state: ServerState,
                 app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None
                 ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head = 0  # bytes of the request head under way (line and headers)
        self._head_started: float | None = None  # when its first byte came
        self._in_head = True  # the parser waits for a request head
        self._idle_since = 0.0
        self._closing_at: float | None = None  # refused: dropping input until then
        self._answered = False  # the request under way was answered at once

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_since = self.loop.time()
        state = self._open
        state.protocols.add(self)
        if len(state.protocols) > state.cap:
            self._make_room(state)
        if state.sweep is None:
            state.sweep = self.loop.call_later(SWEEP, _sweep, state, self.loop)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open.protocols.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._closing_at is not None:
            return  # refused: what still comes is dropped
        if self._in_head:
            if self._head_started is None:
                self._head_started = self.loop.time()
            size = self._head + len(data)
            if size > self._open.limits.max_header:
                # Before the parser sees it, which would pay for every byte: does a head
                # that fits end in this chunk? (What follows it is the next request's.)
                end = data.find(_TERMINATOR)
                if end < 0 or self._head + end > self._open.limits.max_header:
                    self._refuse(TOO_LARGE_431)
                    return
            self._head = size
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head = 0
        self._head_started = None
        if self._answer_at_once():
            return
        super().on_headers_complete()
        # The cycle just made writes this request's response; its task has not run yet.
        self.cycle.transport = _Heads(self.transport)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        if self._answered:
            self._answered = False
        else:
            super().on_message_complete()
        self._in_head = True

    def _answer_at_once(self) -> bool:
        """Answer a plain GET or HEAD here if the application can at once; True if it did."""
        answer = self._open.answer
        if answer is None or self.pipeline or self.flow.write_paused or (
                self.transport.is_closing()) or not (
                self.cycle is None or self.cycle.response_complete):
            return False  # uvicorn's path keeps the order and the flow control
        parser = self.parser
        method = parser.get_method()
        if (method != b"GET" and method != b"HEAD") or self.expect_100_continue or (
                parser.get_http_version() != "1.1" or not parser.should_keep_alive()
                or parser.should_upgrade() or self.root_path):
            return False
        for name, _ in self.headers:
            if name == b"content-length" or name == b"transfer-encoding":
                return False  # a body to read: uvicorn's path
        raw = httptools.parse_url(self.url).path
        if b"%" in raw or not raw.isascii():
            return False  # decoding is uvicorn's, once, exactly
        try:
            response = answer(raw.decode("ascii"), method.decode("ascii"), self.headers)
        except Exception:  # a bug: uvicorn's path asks again, and logs it and answers 500
            return False
        if response is None:
            return False
        status, headers, body = response
        head = response_head(status, self.server_state.default_headers + headers)
        self.transport.write(head + body if method == b"GET" else head)
        self._answered = True
        self.on_response_complete()
        return True

    def on_response_complete(self) -> None:
        self._idle_since = self.loop.time()
        super().on_response_complete()

    def _idle(self) -> bool:
        return self._head_started is None and self._closing_at is None and (
            self.cycle is None or self.cycle.response_complete)

    def _refuse(self, answer: bytes) -> None:
        """Answer and stop: half-close now, drop what still comes, close after LINGER."""
        self._open.refused += 1
        self._closing_at = self.loop.time() + LINGER
        self._head_started = None
        if self.transport.is_closing():
            return
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        else:
            self.transport.close()

    def _make_room(self, state: _Open) -> None:
        idle = [p for p in state.protocols if p is not self and p._idle()]
        victim = min(idle, key=lambda p: p._idle_since) if idle else self
        if victim is self:
            log.warning("%d connections open, none idle: refusing a new one",
                        len(state.protocols) - 1)
        victim.transport.close()


def _sweep(state: _Open, loop: asyncio.AbstractEventLoop) -> None:
    """Close what overstayed: idle connections, slow request heads, refused clients."""
    now = loop.time()
    limits = state.limits
    for protocol in list(state.protocols):
        if protocol._closing_at is not None:
            if now >= protocol._closing_at:
                protocol.transport.close()
        elif protocol._head_started is not None:
            if now - protocol._head_started > limits.header:
                protocol._refuse(TIMEOUT_408)
        elif protocol._idle() and now - protocol._idle_since > limits.idle:
            protocol.transport.close()
    state.sweep = loop.call_later(SWEEP, _sweep, state, loop) if state.protocols else None
