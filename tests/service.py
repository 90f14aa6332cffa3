"""Start the real `feeder run` as a subprocess on temporary folders and a free port."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from email.message import Message
from pathlib import Path
from typing import Any

import feedparser

SERVING = re.compile(r"serving .* on (http://\S+/)")
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def without_root_override() -> None:
    """A ``preexec`` for the service: even run as root, it cannot read or write past file
    permissions (root's power to is dropped from the capabilities the new program gets), so
    an unreadable file or a read-only folder is one for it as for anyone else."""
    if os.geteuid() == 0:
        for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
            if _LIBC.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                os._exit(99)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll *predicate* until it returns something truthy; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def free_port(avoid: set[int] | frozenset[int] = frozenset()) -> int:
    """A port free on 127.0.0.1 now, none of *avoid* (such as feeder's default, 8080)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port not in avoid:
            return port


class RunningService:
    """``feeder run`` on folders under *root*; *settings* go into its ``[service]`` table,
    *server* into ``[server]``. *args* are added to the command line, and *config* replaces
    the configuration file written here. *preexec* runs in the child before it starts
    (to set resource limits, say); *wrap* is a command line that then runs feeder's."""

    def __init__(self, root: Path, *, args: Sequence[str] = (), config: Path | None = None,
                 server: Mapping[str, Any] | None = None,
                 preexec: Callable[[], None] | None = None, wrap: Sequence[str] = (),
                 **settings: Any) -> None:
        self.root = root
        self.drop = root / "drop"
        self.output = root / "out"
        self.log_path = root / "service.log"
        self.config = config or root / "feeder.toml"
        self.args = list(args)
        self.preexec = preexec
        self.wrap = list(wrap)  # a command that runs feeder, such as unshare
        values = {"settle_seconds": 0.1, "rebuild_interval": 60.0, "empty_seconds": 0.3,
                  **settings}
        if config is None:
            self.config.write_text(
                'drop_dir = "drop"\noutput_dir = "out"\nstate_dir = "state"\n'
                'rejected_dir = "rejected"\n[feed]\nmax_entries = 500\n'
                f'[server]\n{_table({"port": 0, **(server or {})})}\n'
                f'[service]\n{_table(values)}\n', encoding="utf-8")
        self.drop.mkdir(exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> RunningService:
        seen = len(self.log()) if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*self.wrap, sys.executable, "-m", "feeder", "run", "--config", str(self.config),
             *self.args],
            stdout=log, stderr=log, cwd=self.root, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # its own process group, as in a terminal
            preexec_fn=self.preexec)
        log.close()
        self.url = wait_for(lambda: self._served_url(seen), timeout=20)
        return self

    def wait_built(self, timeout: float = 20) -> None:
        """Wait for the first build: the server answers before the start-up scan is done."""
        wait_for(lambda: self.get("/healthz")[0] == 200, timeout=timeout)

    def _served_url(self, skip: int) -> str | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"service exited early:\n{self.log()}")
        match = SERVING.search(self.log()[skip:])
        return match[1] if match else None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10, *,
             group: bool = False) -> int:
        """Signal the service (or, like Ctrl-C in a terminal, its whole process group)."""
        assert self.process is not None
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        """Status, headers (case-insensitive) and body of a GET."""
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            error.close()
            return error.code, error.headers, body

    def health(self) -> tuple[int, dict[str, Any]]:
        status, _, body = self.get("/healthz")
        return status, json.loads(body)

    def metric(self, name: str) -> float:
        """The value of one sample of ``/metrics`` (0 if absent)."""
        _, _, body = self.get("/metrics")
        for line in body.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another feeder command on the same configuration, e.g. ``status``."""
        return subprocess.run([sys.executable, "-m", "feeder", *args, "--config",
                               str(self.config)], cwd=self.root, text=True,
                              capture_output=True, timeout=60, check=False)

    def titles(self) -> set[str]:
        status, _, body = self.get("/rss.xml")
        if status != 200:
            return set()
        return {e.title for e in feedparser.parse(body).entries}

    def drop_file(self, name: str, text: str) -> Path:
        """Drop a file the way careful tools do: write a temp name, rename into place."""
        path = self.drop / name
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
        return path


def _table(values: Mapping[str, Any]) -> str:
    return "\n".join(f"{k} = {v!r}".replace("'", '"').replace("True", "true")
                     .replace("False", "false") for k, v in values.items())
