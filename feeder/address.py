"""Where feeder is served, as a URL: the base of every link when ``site.base_url`` is
unset, and whether a configured one leads to the server at all."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def served_url(host: str, port: int) -> str:
    """The URL of the output folder served on *host* and *port*: the links' base when
    ``site.base_url`` is unset. A wildcard address (0.0.0.0, ::, empty: every interface)
    is not one a reader can open; it says feeder is there for other machines, so this
    machine's name stands in for it (set ``site.base_url`` where readers know it by
    another).

    >>> served_url("127.0.0.1", 9000), served_url("::1", 80), served_url("localhost", 8080)
    ('http://127.0.0.1:9000/', 'http://[::1]/', 'http://localhost:8080/')
    """
    if _wildcard(host):
        host = socket.gethostname()
    return f"http://{_netloc(host)}/" if port == 80 else f"http://{_netloc(host)}:{port}/"


def address_url(host: str, port: int) -> str:
    """``http://HOST:PORT/`` of a socket address as it is, for the log.

    >>> address_url("::", 9000)
    'http://[::]:9000/'
    """
    return f"http://{_netloc(host)}:{port}/"


def reaches(base_url: str, host: str, port: int) -> bool:
    """Does *base_url* lead straight to a server bound to *host* and *port*? Not when it
    needs a reverse proxy in between: https (feeder speaks http), another port, or a path
    below the root (feeder serves the output folder at ``/``).

    >>> reaches("http://localhost:8080/", "127.0.0.1", 8080)
    True
    >>> [reaches(url, "127.0.0.1", 8080) for url in ("http://127.0.0.1:9000/",
    ...     "https://127.0.0.1:8080/", "http://127.0.0.1:8080/berita/", "http://example.org/")]
    [False, False, False, False]
    """
    parts = urlsplit(base_url)
    try:
        base_port = parts.port or 80
    except ValueError:  # not a number: no port anything listens on
        return False
    if parts.scheme != "http" or base_port != port or parts.path != "/":
        return False
    if _wildcard(host):
        return True  # it answers on every address of the machine, whatever name leads there
    name, bound = (parts.hostname or "").rstrip(".").lower(), host.rstrip(".").lower()
    address = _ip(name)
    if name == bound or (address is not None and address == _ip(bound)):
        return True
    # "localhost" is the loopback address, whichever of 127.0.0.1 and ::1 it resolves to.
    return "localhost" in (name, bound) and _loopback(name) and _loopback(bound)


def _loopback(host: str) -> bool:
    address = _ip(host)
    return host == "localhost" or (address is not None and address.is_loopback)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _wildcard(host: str) -> bool:
    address = _ip(host)
    return not host or (address is not None and address.is_unspecified)


def _netloc(host: str) -> str:
    """*host* as it goes into a URL: an IPv6 address in brackets, its zone escaped."""
    return f"[{host.replace('%', '%25')}]" if ":" in host else host
