"""5. Serving: requests/s and latency of GET /rss.xml from ``feeder run``, beside nginx
serving the same output folder and ``hugo server`` serving a Hugo site of as many articles
(its feed, /index.xml, of as many entries), all loaded by wrk (or benchmarks.loadgen) on
loopback in alternating rounds.

Each server gets a 200 run (asking for gzip) and a 304 run with the validator it honours:
feeder and nginx send an ETag and answer If-None-Match; ``hugo server`` (Go's
http.FileServer over its in-memory site) sends no ETag and no gzip, and answers
If-Modified-Since with its Last-Modified. Issue 18 asks feeder's 304s to be ahead of
``hugo server``'s and at least half nginx's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks import corpus, peers
from benchmarks.common import (
    Client,
    FeederService,
    Scale,
    Section,
    corpus_newest,
    feeder_command,
    free_port,
    wait_until,
    write_config,
)

MIN_304_RATIO = 0.5  # issue 18: feeder's 304s at least half nginx's ...
HUGO_304_RATIO = 1.0  # ... and ahead of hugo server's
FEED_ENTRIES = 32  # generated articles average 2.6 KB of RSS each, like the samples
GZIP = "Accept-Encoding: gzip"
# The request header that makes a response header's value a validator.
CONDITIONAL = {"etag": "If-None-Match", "last-modified": "If-Modified-Since"}
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ text/html html; application/xml xml opml; application/json json; }}
    default_type application/octet-stream;
    etag on;
    gzip on;
    gzip_vary on;
    gzip_min_length 256;
    gzip_types application/xml application/json;
    server {{
        listen 127.0.0.1:{port};
        root {output};
        location / {{ add_header Cache-Control "public, max-age=60"; }}
    }}
}}
"""


@dataclass
class Load:
    """What one load run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # answers other than the expected status (wrk: non-2xx/3xx)


def ensure_tool(binary: str, package: str, install: bool = True) -> str | None:
    """Path of *binary*; if it is missing, *install* is set and we are root, install
    *package* with apt-get first."""
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if found or not install or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "install", "-y", "-q", package],
                    ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=300, check=False)
        found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
        if found:
            return found
    return None


class Nginx:
    """Our own nginx master process with a temporary config; the system one is untouched."""

    def __init__(self, binary: str, root: Path, output: Path) -> None:
        self.binary = binary
        self.root = root
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        user = "user root root;" if os.geteuid() == 0 else ""
        self.conf = root / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(root=root, user=user, port=self.port,
                                               output=output), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        log = (self.root / "error.log").open("wb")
        self.process = subprocess.Popen(
            [self.binary, "-p", f"{self.root}/", "-c", str(self.conf), "-e",
             str(self.root / "error.log")], stdout=log, stderr=log)
        log.close()
        wait_until(self._listening, 10)
        return self

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError("nginx exited: " + (self.root / "error.log").read_text())
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful stop of our master only
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Loader:
    """Runs wrk when available, else benchmarks.loadgen, in a separate process."""

    def __init__(self, wrk: str | None, threads: int, connections: int, seconds: float) -> None:
        self.wrk = wrk
        self.threads, self.connections, self.seconds = threads, connections, seconds

    @property
    def name(self) -> str:
        tool = "wrk" if self.wrk else "benchmarks.loadgen (wrk unavailable)"
        threads = f"-t{self.threads} " if self.wrk else ""
        return f"{tool} {threads}-c{self.connections} -d{self.seconds:g}s"

    def run(self, url: str, headers: list[str]) -> Load:
        flags = [arg for header in headers for arg in ("-H", header)]
        limit = self.seconds + 30
        if self.wrk:
            out = subprocess.run(
                [self.wrk, f"-t{self.threads}", f"-c{self.connections}",
                 f"-d{self.seconds:g}s", "--latency", *flags, url],
                capture_output=True, text=True, timeout=limit, check=True).stdout
            return parse_wrk(out)
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.loadgen", url, "--connections",
             str(self.connections), "--seconds", str(self.seconds), *flags],
            capture_output=True, text=True, timeout=limit, check=True).stdout
        data = json.loads(out)
        statuses = {int(k): v for k, v in data["statuses"].items()}
        return Load(data["rps"], data["p50_ms"], data["p99_ms"], data["requests"],
                    sum(v for k, v in statuses.items() if k >= 400))


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> Load:
    """Requests/s, p50, p99, request and error counts from ``wrk --latency`` output."""
    def find(pattern: str) -> str:
        match = re.search(pattern, out)
        if not match:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        return match[1]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    return Load(rps=float(find(r"Requests/sec:\s+([\d.]+)")),
                p50_ms=_wrk_ms(find(r"\s50%\s+([\d.]+\w+)")),
                p99_ms=_wrk_ms(find(r"\s99%\s+([\d.]+\w+)")),
                requests=int(find(r"(\d+) requests in")),
                bad=(int(bad[1]) if bad else 0) + (sum(map(int, errors.groups()))
                                                   if errors else 0))


@dataclass
class Target:
    """A server under test: where it listens, which processes do its work, the feed's path,
    the response header its 304s are validated with, and whether its 200s must be gzipped
    (when not, the rows say what they were)."""

    name: str
    host: str
    port: int
    pids: list[int]
    path: str = "/rss.xml"
    validator: str = "etag"  # a key of CONDITIONAL
    gzip: bool = True


def check(client: Client, target: Target, headers: dict[str, str], status: int
          ) -> dict[str, str]:
    """One request, to be sure a load run measures the intended answer (wrk counts a 200
    where a 304 was meant as a success)."""
    got, answer, _ = client.get(target.path, headers)
    gzip_missing = status == 200 and target.gzip and answer.get("content-encoding") != "gzip"
    if got != status or gzip_missing:
        raise RuntimeError(f"{target.name}: expected {status}"
                           f"{' (gzip)' if status == 200 and target.gzip else ''}, "
                           f"got {got} {answer}")
    return answer


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by *pids* (from /proc/PID/stat)."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct child processes of *pid* (nginx's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def measure(loader: Loader, target: Target) -> dict[str, tuple[Load, float]]:
    """The 200 run (asking for gzip) and the 304 run (with the target's validator) against
    one server, each with the server's CPU time per request in microseconds. The 200 run is
    "200 gzip", or "200 no gzip" when the target answered without."""
    client = Client(target.host, target.port)
    try:
        answer = check(client, target, {"Accept-Encoding": "gzip"}, 200)
        if target.validator not in answer:
            raise RuntimeError(f"{target.name} sent no {target.validator}: {answer}")
        conditional = {"Accept-Encoding": "gzip",
                       CONDITIONAL[target.validator]: answer[target.validator]}
        check(client, target, conditional, 304)
    finally:
        client.close()
    ok = "200 gzip" if answer.get("content-encoding") == "gzip" else "200 no gzip"
    url = f"http://{target.host}:{target.port}{target.path}"
    results = {}
    for kind, headers in ((ok, [GZIP]),
                          ("304", [f"{name}: {value}" for name, value in conditional.items()])):
        before = cpu_seconds(target.pids)
        load = loader.run(url, headers)
        used = cpu_seconds(target.pids) - before
        results[kind] = (load, used / max(load.requests, 1) * 1e6)
    try:
        check(client, target, conditional, 304)  # the validator still held after the runs
    finally:
        client.close()
    return results


def prepare(root: Path, articles: int) -> Path:
    """An archive, and a feed of :data:`FEED_ENTRIES` entries: about 84 KB of RSS."""
    config = write_config(root, feed={"max_entries": FEED_ENTRIES}, server={"port": 0})
    corpus.write_pages(root / "drop", articles, corpus_newest())
    subprocess.run(feeder_command("build", "--config", str(config)), cwd=root, check=True,
                   capture_output=True, timeout=120)
    return config


def run(scale: Scale, root: Path) -> Section:
    """Load feeder, nginx and hugo server in turn with the same requests, in alternating
    rounds; keep each one's best round and compare."""
    section = Section("5. Serving the feed (feeder run vs nginx and hugo server)")
    config = prepare(root, 200)
    feed_size = (root / "out" / "rss.xml").stat().st_size
    wrk = ensure_tool("wrk", "wrk", install=not scale.quick)
    nginx = ensure_tool("nginx", "nginx", install=not scale.quick)
    hugo, how = peers.find_hugo(install=not scale.quick)
    loader = Loader(wrk, threads=2, connections=scale.pick(32, 8), seconds=scale.pick(5, 1))
    rounds = scale.pick(2, 1)
    best: dict[tuple[str, str], tuple[Load, float]] = {}
    hugo_feed = (0, 0)  # bytes and items of hugo server's feed
    with contextlib.ExitStack() as stack:
        service = stack.enter_context(FeederService(config, root / "service.log"))
        service.ready(timeout=60)
        targets = [Target("feeder", service.host, service.port, [service.pid])]
        if nginx:
            server = stack.enter_context(Nginx(nginx, root / "nginx", root / "out"))
            assert server.process is not None
            targets.append(Target("nginx", "127.0.0.1", server.port,
                                  children(server.process.pid)))
        if hugo:
            # The same number of generated articles, as Markdown, and a feed of as many.
            pair = peers.make_pair(root / "hugo", 200, hugo, feed_entries=FEED_ENTRIES)
            site = peers.HugoServer(pair, root / "hugo-server.log").start()
            stack.callback(site.stop)
            assert site.process is not None
            client = site.client()
            try:
                body = client.get(peers.HUGO_FEED)[2]
            finally:
                client.close()
            hugo_feed = (len(body), body.count(b"<item>"))
            targets.append(Target("hugo server", "127.0.0.1", site.port, [site.process.pid],
                                  path=peers.HUGO_FEED, validator="last-modified",
                                  gzip=False))
        for _ in range(rounds):
            for target in targets:
                for kind, result in measure(loader, target).items():
                    if (target.name, kind) not in best or \
                            result[0].rps > best[target.name, kind][0].rps:
                        best[target.name, kind] = result
        vmhwm = service.status().get("VmHWM", 0)
    for (name, kind), (load, cpu) in best.items():
        bad = f", {load.bad} bad" if load.bad else ""
        section.add(f"{name} {kind}: requests/s", f"{load.rps:,.0f}")
        section.add(f"{name} {kind}: latency p50 / p99; server CPU per request",
                    f"{load.p50_ms:.2f} ms / {load.p99_ms:.2f} ms; {cpu:.1f} µs{bad}")
    for kind in ("200 gzip", "304"):
        if ("nginx", kind) not in best:
            section.add(f"ratio feeder / nginx, {kind} requests/s", "n/a (no nginx)")
            continue
        ratio = best["feeder", kind][0].rps / best["nginx", kind][0].rps
        goal, ok = ((f">= {MIN_304_RATIO}", ratio >= MIN_304_RATIO) if kind == "304"
                    else ("", None))
        section.add(f"ratio feeder / nginx, {kind} requests/s", f"{ratio:.2f}", goal, ok)
        cost = best["nginx", kind][1] / best["feeder", kind][1]
        section.add(f"ratio nginx / feeder, {kind} server CPU per request", f"{cost:.2f}")
    if ("hugo server", "304") in best:
        ratio = best["feeder", "304"][0].rps / best["hugo server", "304"][0].rps
        section.add("ratio feeder / hugo server, 304 requests/s", f"{ratio:.2f}",
                    f"> {HUGO_304_RATIO:.2f}", ratio > HUGO_304_RATIO)
        cost = best["hugo server", "304"][1] / best["feeder", "304"][1]
        section.add("ratio hugo server / feeder, 304 server CPU per request", f"{cost:.2f}")
    else:
        section.add("ratio feeder / hugo server, 304 requests/s", "n/a (no hugo)")
    section.notes.append(
        f"{loader.name} on loopback, best of {rounds} alternating round(s), on the same "
        f"{os.cpu_count()} cores as the servers. rss.xml is {feed_size / 1000:.0f} KB "
        f"({FEED_ENTRIES} entries of generated seed-style articles). feeder: `feeder run` "
        f"(uvicorn, one process; VmHWM after the runs {vmhwm / 1024:.0f} MiB). nginx: "
        "worker_processes 1, etag on, gzip on (level 1, compressing each response), "
        "sendfile on. Server CPU per request = the server processes' user + system time "
        "during the run / requests; its ratio is steadier than the requests/s ratio, "
        "since wrk and the server share the cores.")
    if hugo:
        gzipped = ("hugo server", "200 gzip") in best
        section.notes.append(
            f"hugo server: Hugo {peers.hugo_version(hugo)}, `hugo server --disableLiveReload` "
            f"(one process, rendering to memory) on the peers section's minimal site with "
            f"the same 200 generated articles as Markdown; its feed {peers.HUGO_FEED} holds "
            f"{hugo_feed[1]} entries and is {hugo_feed[0] / 1000:.0f} KB (Hugo's layout "
            f"carries a plain-text summary and the full text of each, as feeder's does, but "
            f"from the Markdown articles rather than the parsed pages). It sends no ETag: "
            f"its 304 run sends If-Modified-Since with its Last-Modified (Go's "
            f"http.FileServer checks that; without an ETag, If-None-Match only matches `*`). "
            + ("Its 200 run got gzip like the others'. " if gzipped else
               "Its 200 run asks for gzip like the others but gets the whole feed "
               "uncompressed (\"200 no gzip\"), so no ratio is given for 200s. ")
            + "Its server CPU is its one process's, whose Go handlers run on every core "
            "(feeder's serve from one event loop): requests/s × CPU per request says how many "
            "cores each kept busy. Issue 18 asks feeder's 304s to be ahead of hugo server's.")
    if how:
        section.notes.append(how)
    return section
