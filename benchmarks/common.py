"""What every benchmark shares: results, statistics, the machine, folders, feeder processes."""

from __future__ import annotations

import contextlib
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = ZoneInfo("Asia/Jakarta")  # feeder's default site.timezone
SERVING = re.compile(r"serving .* on http://([^/\s]+):(\d+)/")


# Results ------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured figure, with its target when the issue sets one."""

    metric: str
    value: str
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.ok]


@dataclass
class Section:
    """The result of one benchmark: a table of rows and free-text notes."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, metric: str, value: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(metric, value, target, ok))


@dataclass(frozen=True)
class Scale:
    """Sizes for a full run and for ``--quick``."""

    quick: bool

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


# Statistics and formatting ------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The *q*-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return percentile(values, 50)


def ms(seconds: float) -> str:
    """A duration in milliseconds, with sensible precision."""
    value = seconds * 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def count(value: float) -> str:
    return f"{value:,.0f}"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds *fn* took, and what it returned."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# The machine -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, OS, Python and date: what the figures depend on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()} ({_os_name()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def file_creation_us(folder: Path, count: int = 2000) -> float:
    """Microseconds to create, write (5 KB) and rename one file in the new *folder*, the way
    the builder writes a page: what this disk and kernel charge right now.

    On this kind of VM (ext4 without a journal) the figure swings from ~45 µs to ~900 µs:
    allocating an inode skips those freed in the last minute or so, one by one, so it grows
    with the files deleted just before. The files are left in place for the same reason.
    """
    folder.mkdir(parents=True)
    body = b"x" * 5000
    started = time.perf_counter()
    for n in range(count):
        temp, final = folder / f".page-{n}.tmp", folder / f"page-{n}.html"
        temp.write_bytes(body)
        os.replace(temp, final)
    return (time.perf_counter() - started) / count * 1e6


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.platform()


# Folders, configuration and dates -----------------------------------------------------


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Path]:
    """A temporary folder (on the same filesystem as other temporaries), removed after."""
    root = Path(tempfile.mkdtemp(prefix=f"feeder-bench-{name}-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def write_config(root: Path, **sections: dict[str, Any]) -> Path:
    """``root/feeder.toml`` with folders under *root* and the given ``[section]`` keys."""
    lines = ['drop_dir = "drop"', 'output_dir = "out"', 'state_dir = "state"',
             'rejected_dir = "rejected"']
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    root.mkdir(parents=True, exist_ok=True)
    path = root / "feeder.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "drop").mkdir(exist_ok=True)
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def today() -> date:
    """Today in feeder's time zone."""
    return datetime.now(TIMEZONE).date()


def corpus_newest() -> date:
    """Newest date of a generated archive; new articles get the day after, so they lead
    the feeds but are never in the future (which would embargo them)."""
    return today() - timedelta(days=2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll *predicate* until it is truthy; raise TimeoutError after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready within {timeout:g} s")
        time.sleep(interval)


def feeder_command(*args: str) -> list[str]:
    """``feeder ARGS`` with the interpreter running the benchmarks (the project's venv)."""
    return [sys.executable, "-m", "feeder", *args]


# HTTP -------------------------------------------------------------------------------


class Client:
    """A keep-alive HTTP/1.1 client for one host: small, and cheap enough to poll with."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body; reconnects once if the server closed."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request("GET", path, headers=headers or {})
                response = self._conn.getresponse()
                body = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, body
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# A running `feeder run` --------------------------------------------------------------


class FeederService:
    """``feeder run --config CONFIG`` as a subprocess, with its port read from the log."""

    def __init__(self, config: Path, log: Path, options: Sequence[str] = ()) -> None:
        self.config = config
        self.log_path = log
        self.options = list(options)  # command-line options besides --config
        self.process: subprocess.Popen[bytes] | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def start(self, timeout: float = 120.0) -> FeederService:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                feeder_command("run", "--config", str(self.config), *self.options),
                stdout=log, stderr=log,
                cwd=self.config.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            self.host, port = wait_until(self._address, timeout)
        except TimeoutError:
            self.stop()
            raise
        self.port = int(port)
        return self

    def _address(self) -> tuple[str, str] | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"feeder run exited early:\n{self.log()[-3000:]}")
        match = SERVING.search(self.log())
        return (match[1], match[2]) if match else None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def client(self) -> Client:
        return Client(self.host, self.port)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def ready(self, timeout: float = 300.0) -> None:
        """Wait until the first cycle (scan and build) has finished: /healthz says ok."""
        client = self.client()
        try:
            wait_until(lambda: client.get("/healthz")[0] == 200, timeout, interval=0.1)
        finally:
            client.close()

    def status(self, pid: int | None = None) -> dict[str, int]:
        """VmRSS, VmHWM etc. from /proc/PID/status (the service's by default), in KiB."""
        values = {}
        for line in Path(f"/proc/{pid or self.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name.startswith("Vm") and rest.strip().endswith("kB"):
                values[name] = int(rest.split()[0])
        return values

    def descendants(self) -> list[int]:
        """PIDs of the service's child processes and theirs (fork server, workers)."""
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                children = [int(c) for c in task.read_text().split()]
                found += children
                todo += children
        return found

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> FeederService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
