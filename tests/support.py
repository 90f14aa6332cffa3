"""What the tests share: the sample pages and their dates, readers for the feeds a build
writes, the ASGI app driven in process, the real ``feeder run`` as a subprocess, the real
pages scored against their truth, and the generated corpus of hostile files.

Fixtures live in ``tests/conftest.py``; everything else more than one test file needs is
here, once. ``python -m tests.support`` (``make pages``) prints how the parser reads the real
pages of ``tests/pages/``.
"""

from __future__ import annotations

import asyncio
import codecs
import ctypes
import hashlib
import html
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
from lxml import etree
from PIL import ExifTags, Image

from feeder import publish
from feeder.config import Config
from feeder.errors import ParseError
from feeder.ingest import Ingestor
from feeder.parser import Context, parse
from feeder.serve.server import FeedServer
from feeder.store import Store
from feeder.text import xml_safe

# --- the repository, the sample pages and the day they arrive -----------------------------

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "examples" / "drop"
PAGES = Path(__file__).resolve().parent / "pages"
JAKARTA = ZoneInfo("Asia/Jakarta")
# The sample pages "arrive" on this day in every test, so the year rule is deterministic.
ARRIVAL = datetime(2026, 1, 10, 9, 0, tzinfo=JAKARTA)
# The ``drop`` fixture: ``drop("a.txt", text_or_bytes, at=datetime)`` puts a file in place.
Drop = Callable[..., Path]
# Programs some tests drive; each such test skips itself without its program.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NEWSBOAT = shutil.which("newsboat")

# The articles of examples/drop's two pages, in page order: title, date, author, photo credit
# and number of paragraphs.
DECEMBER = [
    ("KPU se-Jawa Tengah Diminta Perkuat Pengelolaan Informasi Publik",
     "2025-12-05", "ana", "awh/KPU Kota Semarang", 3),
    ("KPU Kota Semarang Dalami Pemanfaatan Big Data untuk Transparansi dan Akurasi Data",
     "2025-12-25", "rhd", "dok KPU Kota Semarang", 5),
    ("KPU Jateng Tekankan Pentingnya Pembinaan Internal untuk Perkuat Integritas "
     "Penyelenggara Pemilu", "2025-12-04", "rza", "rza/KPU Kota Semarang", 5),
    ("KPU Kota Semarang Hadiri Sharing Session SELARAS, Bahas Akses Arsip Go Public",
     "2025-12-04", "ayu", "ion/KPU Kota Semarang", 2),
    ("KPU Kota Semarang Dukung Kolaborasi Lintas Lembaga Lewat FGD Indeks Demokrasi Kota "
     "Semarang", "2025-12-04", "awh", "awh/KPU Kota Semarang", 6),
    ("KPU Kota Semarang Gelar Forum Konsultasi Publik untuk Perkuat Layanan Pendidikan "
     "Pemilih", "2025-12-02", "rhd", "rap/KPU Kota Semarang", 4),
]
JULY = [
    ("KPU Kota Semarang Ikuti Kajian Tentang Putusan MK Soal Pilbup Pasaman Lewat Kamis "
     "Sesuatu", "2025-07-18", "sof", "awh/KPU Kota Semarang", 1),
    ("KPU Kota Semarang Ikuti Bimtek SPIP Terintegrasi, Penilaian Berlaku untuk Seluruh Satker",
     "2025-07-17", "lia", "awh/KPU Kota Semarang", 1),
    ("KPU Dorong Renstra 5 Tahun Jadi Panduan, Ngopi Asli Tekankan Pentingnya Sinergi Visi "
     "Misi Nasional", "2025-07-15", "dnp", "aaa/KPU Kota Semarang", 2),
    ("KPU Kota Semarang Ikuti Rakor Penyusunan SAKIP 2025, Tekankan Pentingnya Akuntabilitas "
     "Kinerja ASN", "2025-07-14", "rhd", "ana/KPU Kota Semarang", 1),
    ("KPU Kota Semarang Ikuti Rakor Daring, Bahas Strategi Teknis Pasca Pemilu dan Pemilihan",
     "2025-07-09", "if", "awh/KPU Kota Semarang", 2),
    ("KPU Kota Semarang Ikuti Ngopi Asli, Bahas Strategi Wujudkan Lembaga yang Adaptif & "
     "Berintegritas", "2025-07-09", "ion", "awh/KPU Kota Semarang", 1),
]


def set_mtime(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def article(title: str, body: str = "Isi berita.") -> str:
    """A plain-text article: its title, a blank line, its body."""
    return f"{title}\n\n{body}\n"


def photo(fmt: str = "JPEG", colour: str = "red", gps: bool = True) -> bytes:
    image = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Copyright] = "KPU Kota Semarang"
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "S",
                                      ExifTags.GPS.GPSLatitude: (6.0, 59.0, 0.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def build(store: Store, config: Config) -> publish.BuildReport:
    """Ingest the drop folder and publish, as one pass of the service does."""
    Ingestor(store, config).scan()
    return publish.build(store, config)


# --- readers for generated feeds: parse back with feedparser and lxml, never compare strings

ATOM = "{http://www.w3.org/2005/Atom}"


VALIDATOR = ROOT.parent / "shared" / "tools" / "validate-feed"  # the W3C validator's code


def validate(path: Path, url: str) -> list[str]:
    """The validator's findings for *path* served at *url* (empty: valid, no warnings)."""
    done = subprocess.run([sys.executable, str(VALIDATOR), str(path), url],
                          capture_output=True, text=True, timeout=120, check=False)
    return [line for line in done.stdout.splitlines() if line.startswith(("ERROR", "WARNING"))]


def read_feed(path: Path) -> Any:
    """feedparser's view of a feed file, asserting it parsed without complaint."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def check_rss(path: Path, base_url: str) -> list[etree._Element]:
    """RSS 2.0 rules a validator checks; returns the items."""
    channel = etree.fromstring(path.read_bytes()).find("channel")
    assert channel is not None
    for required in ("title", "link", "description"):
        assert (channel.findtext(required) or "").strip(), required
    assert channel.findtext("link") == base_url
    self_links = [e for e in channel.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert [e.get("href") for e in self_links] == [base_url + path.name]
    items = channel.findall("item")
    guids = [i.findtext("guid") for i in items]
    assert len(set(guids)) == len(guids)
    for item in items:
        assert item.findtext("title") and _same_site(item.findtext("link", ""), base_url)
        assert item.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
        assert parsedate_to_datetime(item.findtext("pubDate", "")).tzinfo is not None
    return items


def check_atom(path: Path, base_url: str) -> list[etree._Element]:
    """RFC 4287 rules a validator checks; returns the entries."""
    feed = etree.fromstring(path.read_bytes())
    for required in ("id", "title", "updated"):
        assert (feed.findtext(ATOM + required) or "").strip(), required
    datetime.fromisoformat(feed.findtext(ATOM + "updated", ""))
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    links = {e.get("rel"): e.get("href") for e in feed.findall(ATOM + "link")}
    assert links["self"] == base_url + path.name
    entries = feed.findall(ATOM + "entry")
    ids = [e.findtext(ATOM + "id") for e in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        assert entry.findtext(ATOM + "id", "").startswith("urn:uuid:")
        for stamp in ("updated", "published"):
            value = datetime.fromisoformat(entry.findtext(ATOM + stamp, ""))
            assert value.tzinfo is not None
        assert _same_site(entry.find(ATOM + "link").get("href", ""), base_url)  # type: ignore[union-attr]
    return entries


def _same_site(url: str, base_url: str) -> bool:
    """An absolute URL on the site the feed is published on."""
    parts, base = urlsplit(url), urlsplit(base_url)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and bool(parts.path)


def read_json_feed(path: Path) -> dict[str, Any]:
    feed: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    for item in feed["items"]:
        assert item["id"] and (item.get("content_html") or item.get("content_text"))
    return feed


def local_file(output: Path, base_url: str, url: str) -> Path:
    """The output file an absolute feed URL points at."""
    assert url.startswith(base_url)
    return output / (url[len(base_url):] or "index.html")


def atom_title(entry: Any) -> str:
    """An Atom entry's title as a reader shows it: a title with "<" is HTML, escaped once."""
    title = entry.find(ATOM + "title")
    text = "" if title is None else title.text or ""
    return html.unescape(text) if title is not None and title.get("type") == "html" else text


def rss_title(item: Any) -> str:
    """An RSS item's title as a reader shows it (without the invisible word joiner that keeps
    a "</" in a title from reading as an end tag)."""
    return (item.findtext("title") or "").replace("<\u2060/", "</")


# --- the ASGI app, driven in process --------------------------------------------------------

# What Chromium asks for when it opens a page.
CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                   "image/webp,*/*;q=0.8")


@dataclass
class Resp:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def call(app: FeedServer, path: str, method: str = "GET",
         headers: dict[str, str] | None = None) -> Resp:
    """Run one HTTP request through the ASGI app and collect the response."""
    return asyncio.run(call_async(app, path, method, headers))


async def call_async(app: FeedServer, path: str, method: str = "GET",
                     headers: dict[str, str] | None = None) -> Resp:
    """``call`` inside a running event loop, for requests that must share one."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "path": path, "raw_path": path.encode("utf-8", "replace"),
             "query_string": b"", "root_path": "", "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    resp = Resp(0)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            assert resp.status == 0, "response started twice"
            resp.status = message["status"]
            resp.raw_headers = list(message["headers"])
            resp.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            assert message["type"] == "http.response.body"
            resp.body += message.get("body", b"")

    await app(scope, receive, send)
    assert resp.status, "no response sent"
    return resp


# --- the real `feeder run` as a subprocess on temporary folders and a free port -------------

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


# --- the parser scored against real pages, each beside its truth (``tests/pages/``) ---------
#
# ``python -m tests.support`` (``make pages``) prints the scores per office and per field, so
# a change that helps one office and hurts another shows; ``tests/parser/test_real_pages.py``
# fails below the thresholds.
#
# A page is ``NAME.txt`` (as a person copies it from the browser, the prose paraphrased) with
# ``NAME.json``: ``{"url", "office", "kind", "articles": [{"title", "date", "reporter"}],
# "notes"}``. Each page is parsed as if it arrived a few days, a few months and most of a
# year after its newest article (pages arrive late, and the year of a date must not depend
# on how late); a field is right only if it is right at every arrival.

LATE = (timedelta(days=3), timedelta(days=75), timedelta(days=300))
# Pages whose truth has no date at all arrive on this day.
UNDATED = date(2026, 1, 10)
FIELDS = ("articles", "titles", "dates", "reporters")


@dataclass
class Score:
    """Right and total counts per field."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    extra: int = 0  # articles the parser found that the page does not have
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in FIELDS:
            self.right[name] += other.right[name]
            self.total[name] += other.total[name]
        self.extra += other.extra
        self.misses += other.misses

    def ratio(self, name: str) -> float:
        total = self.total[name] + (self.extra if name == "articles" else 0)
        return self.right[name] / total if total else 1.0


def pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def _same(a: str | None, b: str | None) -> bool:
    fold = (lambda s: " ".join(s.split()).casefold()) if a and b else (lambda s: s)
    return fold(a) == fold(b)  # type: ignore[no-untyped-call]


def _arrivals(truth: list[dict[str, str | None]]) -> list[datetime]:
    dates = [date.fromisoformat(a["date"]) for a in truth if a["date"]]
    newest = max(dates, default=UNDATED)
    return [datetime.combine(newest + late, time_of_day(9), JAKARTA) for late in LATE]


def score_page(path: Path) -> Score:
    """How the parser reads one page, against its truth."""
    truth = json.loads(path.read_text(encoding="utf-8"))["articles"]
    text = path.with_suffix(".txt").read_bytes()
    score = Score()
    readings = []
    for received in _arrivals(truth):
        try:
            readings.append(parse(text, Context(path=path.stem + ".txt",
                                                received=received)).articles)
        except ParseError as exc:
            readings.append([])
            score.misses.append(f"{path.stem}: rejected: {exc.reason}")
    found = readings[0]
    score.extra = max(0, len(found) - len(truth))
    if score.extra:
        score.misses.append(f"{path.stem}: {score.extra} article(s) the page does not have: "
                            + "; ".join(a.title for a in found[len(truth):]))
    for index, want in enumerate(truth):
        got = [r[index] if index < len(r) else None for r in readings]
        score.total["articles"] += 1
        if got[0] is None:
            score.misses.append(f"{path.stem}: article {index + 1} not found")
            for name in FIELDS[1:]:
                score.total[name] += 1
            continue
        score.right["articles"] += 1
        checks = {
            "titles": want["title"] is None or _same(got[0].title, want["title"]),
            "dates": want["date"] is None or all(
                g is not None and g.published.date().isoformat() == want["date"] for g in got),
            "reporters": _same(got[0].author, want["reporter"]),
        }
        values = {"titles": (got[0].title, want["title"]),
                  "dates": ([g.published.date().isoformat() if g else None for g in got],
                            want["date"]),
                  "reporters": (got[0].author, want["reporter"])}
        for name, ok in checks.items():
            score.total[name] += 1
            score.right[name] += ok
            if not ok:
                score.misses.append(f"{path.stem}: article {index + 1} {name[:-1]}: got "
                                    f"{values[name][0]!r}, truth {values[name][1]!r}")
    return score


def score_folder(folder: Path) -> tuple[Score, dict[str, Score]]:
    total, offices = Score(), defaultdict(Score)
    for path in pages(folder):
        page = score_page(path)
        total.add(page)
        offices[json.loads(path.read_text(encoding="utf-8"))["office"]].add(page)
    return total, dict(offices)


def report(folder: Path, *, misses: bool = True) -> str:
    total, offices = score_folder(folder)
    width = max(map(len, offices), default=10)
    rows = [f"{folder.name}: {len(pages(folder))} pages, {total.total['articles']} articles",
            f"{'office':<{width}}  " + "  ".join(f"{n:>9}" for n in FIELDS)]
    for office, score in [*sorted(offices.items()), ("ALL", total)]:
        rows.append(f"{office:<{width}}  " + "  ".join(
            f"{score.right[n]:>3}/{score.total[n] + (score.extra if n == 'articles' else 0):<3}"
            f"{'':>2}" for n in FIELDS))
    rows.append("ALL %    " + "  ".join(f"{n} {100 * total.ratio(n):.1f}" for n in FIELDS))
    if misses:
        rows += ["", *total.misses]
    return "\n".join(rows)


def print_page_scores(argv: list[str]) -> int:
    """``make pages``: each named folder of tests/pages/ scored, with its misses."""
    for name in argv or ["corpus", "unseen"]:
        print(report(PAGES / name, misses=name != "unseen"))
        print()
    return 0


# --- a generated corpus of hostile drop-folder files: what users really drop, and worse -----
#
# Not hand-picked examples: every *payload* (a hostile piece of text) is put in every
# *container* (a plain-text article, a news page, Markdown front matter, a Markdown heading)
# and written in every *encoding* it fits (UTF-8, with BOM, UTF-16 with BOM, Windows-1252,
# Latin-1, CRLF and lone-CR line ends). Beside them come raw byte cases that are no text at
# all (empty, binary, NUL bytes, truncated UTF-8, bad YAML, a YAML alias bomb, YAML with
# python tags, a 1 MB line) and hostile file names. Everything is deterministic: the random
# bytes come from a seeded RNG.
#
# ``corpus()`` yields ``(name, bytes)``; ``cases()`` yields the same files as :class:`Case`,
# which also says what must become of each file.

Outcome = Literal["entry", "rejected", "either"]

# U+0000–U+001F except tab, LF and CR, plus the two non-characters: XML 1.0 forbids them.
CONTROLS = "".join(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + "\ufffe\uffff"

PAYLOADS: dict[str, str] = {
    "plain": "Rapat Pleno Terbuka KPU Kota Semarang",
    "script": "<script>alert(1)</script> Berita",
    "img-onerror": '<img src=x onerror="alert(1)"> Foto',
    "cdata-end": "Akhir ]]> <![CDATA[ bukan CDATA ]]> juga",
    "ampersand": "Tom & Jerry & Co <b>",
    "entities": "&amp;lt; &#0; &lt;b&gt; &#x41; &nbsp; &unknown; &",
    "rtl": "مرحبا بالعالم שלום עולם \u202eRLO\u202c mixed",
    "emoji": "🎉 👩\u200d💻 🇮🇩",  # no letter or digit at all
    "emoji-2": "❤️ 🔥 ✨",  # ... and a different title of the same kind
    "controls": f"awal {CONTROLS} akhir",
    "separators": "satu\x85dua\u2028tiga\u2029empat\x7flima",
    "legacy": "Café “kutipan” – €5 ’Ünïcode’",
    "long-title": "Judul yang sangat panjang sekali " * 320,  # 10 KB
}

# Text that survives exactly: the same words (whitespace runs may collapse, as HTML and
# the feed formats collapse them) without the characters XML 1.0 cannot carry.


def visible(text: str) -> str:
    """What "survives exactly" compares: XML-illegal characters deleted, spaces collapsed."""
    return " ".join(xml_safe(text).split())


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    outcome: Outcome
    title: str | None = None  # text the entry's title must carry, if an entry
    body: str | None = None  # text the entry's content must carry, if an entry
    controls: bool = False  # had XML-illegal characters, so a warning must say so


@dataclass(frozen=True)
class _Made:
    suffix: str
    text: str
    title: str
    body: str
    outcome: Outcome = "entry"


def titled(line: str) -> str:
    """The title a line gives: itself, or, too long for a title (a paragraph with no title
    above it), its first ten words."""
    words = visible(line).split()
    if len(visible(line)) <= 250 and len(words) <= 30:
        return line
    return " ".join(words[:10]) + "…"


def _single(payload: str) -> _Made:
    # A plain .txt article: the first line is the title (or, too long for one, a paragraph).
    return _Made(".txt", f"{payload}\n\nIsi: {payload}\n", titled(payload), f"Isi: {payload}")


def _page(payload: str) -> _Made:
    body = f"Kamis (4/12) {payload} isi berita."
    text = (f"BERITA TERKINI\n\n{payload}\n\nSemarang, kota-semarang.kpu.go.id – {body} "
            "(ana/ed. Foto: awh/KPU Kota Semarang)\n")
    return _Made(".txt", text, titled(payload), body)


# The Markdown containers name an `id`: a plain-text article and a Markdown file with the
# same title (and no date) are otherwise one entry, whose body is the last one read.
def _front_matter(payload: str) -> _Made:
    text = (f"---\nid: front-{_digest(payload)}\ntitle: {_yaml_quote(payload)}\n"
            f"tags: [hostile]\n---\n\nIsi {payload}.\n")
    return _Made(".md", text, payload, "Isi")


def _heading(payload: str) -> _Made:
    text = f"---\nid: heading-{_digest(payload)}\n---\n# {payload}\n\nIsi berita biasa.\n"
    return _Made(".md", text, payload, "Isi berita biasa.")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


CONTAINERS: dict[str, Callable[[str], _Made]] = {
    "single": _single, "page": _page, "front": _front_matter, "heading": _heading,
}


def _encodings(text: str) -> Iterator[tuple[str, bytes]]:
    yield "utf8", text.encode("utf-8", "surrogatepass")
    yield "utf8-bom", codecs.BOM_UTF8 + text.encode("utf-8")
    yield "utf16le-bom", codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    yield "utf16be-bom", codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    yield "crlf", text.replace("\n", "\r\n").encode("utf-8")
    yield "cr", text.replace("\n", "\r").encode("utf-8")
    # Legacy encodings only where they change something and can say everything.
    if not text.isascii():
        for name, codec in (("cp1252", "cp1252"), ("latin1", "latin-1")):
            try:
                data = text.encode(codec)
            except UnicodeEncodeError:
                continue
            # Latin-1 C1 controls are read back as Windows-1252 punctuation: skip those.
            if codec == "latin-1" and any(0x80 <= b <= 0x9F for b in data):
                continue
            yield name, data


def _yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar, escaping only what YAML cannot hold as it is."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\u2028\u2029":  # YAML line breaks, folded to spaces unless escaped
            out.append(f"\\u{code:04x}")
        elif code in (0x09, 0x0A, 0x0D) or 0x20 <= code <= 0x7E or (
                0xA0 <= code <= 0xD7FF) or 0xE000 <= code <= 0xFFFD or code >= 0x10000:
            out.append(char)
        else:
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
    return '"' + "".join(out) + '"'


def _generated() -> Iterator[Case]:
    for pname, payload in PAYLOADS.items():
        for cname, container in CONTAINERS.items():
            made = container(payload)
            for ename, data in _encodings(made.text):
                # A NUL byte near the start of a file without a BOM marks it as binary.
                binary = not ename.endswith("bom") and b"\x00" in data[:8192]
                yield Case(f"{cname}-{pname}-{ename}{made.suffix}", data,
                           "rejected" if binary else made.outcome, made.title, made.body,
                           controls=payload != xml_safe(payload))


def _billion_laughs(last: str) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + f"\n{last}\n---\n\nIsi.\n"


def _raw(rng: random.Random) -> Iterator[Case]:
    text = "Judul Berkas Mentah\n\nIsi berita.\n"
    yield Case("empty.txt", b"", "rejected")
    yield Case("empty.md", b"", "rejected")
    yield Case("whitespace.txt", b" \n\t\r\n   \r\n\n", "rejected")
    yield Case("whitespace-unicode.md", "\u00a0\u3000\u2003\n".encode(), "rejected")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    yield Case("png-header.txt", png + bytes(rng.randrange(256) for _ in range(512)), "rejected")
    yield Case("random.txt", bytes(rng.randrange(256) for _ in range(4096)), "rejected")
    noisy = bytes(rng.randrange(1, 256) for _ in range(4096))
    yield Case("random-no-nul.txt", noisy, "either")
    yield Case("random-no-nul.md", noisy, "either")
    yield Case("nul-bytes.txt", b"\x00" * 64, "rejected")
    yield Case("nul-in-text.txt", b"Judul\x00 NUL\n\nIsi\x00 berita.\n", "rejected")
    # A NUL past the binary sniff is a control character like any other.
    late = "Judul NUL Akhir\n\n" + "kata " * 2000 + "\x00akhir\n"
    yield Case("nul-late.txt", late.encode(), "entry", "Judul NUL Akhir", "kata kata akhir",
               controls=True)
    whole = "Judul Terpotong ü\n\nIsi café ü".encode()
    yield Case("truncated-utf8.txt", whole[:-1], "entry", "Judul Terpotong ü",
               "Isi café \ufffd")
    yield Case("truncated-utf8-bom.md", codecs.BOM_UTF8 + ("# Judul BOM Terpotong\n\nIsi é"
               .encode())[:-1], "entry", "Judul BOM Terpotong", "Isi \ufffd")
    yield Case("utf16-odd-length.txt", codecs.BOM_UTF16_LE + "Judul Ganjil\n\nIsi."
               .encode("utf-16-le") + b"\x41", "entry", "Judul Ganjil", "Isi.\ufffd")
    yield Case("utf16-without-bom.txt", text.encode("utf-16-le"), "rejected")
    yield Case("utf16-bom-garbage.txt", codecs.BOM_UTF16_LE + b"\x00\xdc\x41\x00" * 8,
               "rejected")
    surrogates = "Judul \ud800 Surrogat\n\nIsi \udfff akhir.\n"
    yield Case("surrogates-utf8.txt", surrogates.encode("utf-8", "surrogatepass"), "either")
    yield Case("surrogates-utf16.txt", codecs.BOM_UTF16_LE
               + surrogates.encode("utf-16-le", "surrogatepass"), "rejected")
    yield Case("surrogates-front-matter.md", b'---\ntitle: "Judul \\ud800 \\udfff Surrogat"\n'
               b"---\n\nIsi.\n", "entry", "Judul Surrogat", "Isi.", controls=True)
    # One line of 1 MB: alone (a paragraph, too long for a title), as a body, and as runs of
    # spaces where a backtracking regex would never finish.
    mega = "kata " * (2**20 // 5)
    yield Case("one-mb-line.txt", mega.encode(), "entry", titled(mega), "kata kata kata")
    yield Case("one-mb-body.txt", f"Judul Satu Mega\n\n{mega}\n".encode(), "entry",
               "Judul Satu Mega", "kata kata kata")
    spaces = " " * 2**20
    yield Case("one-mb-spaces-page.txt", (
        f"BERITA\n\nJudul Spasi Panjang\n\nSemarang, kpu.go.id – Kamis{spaces}x 1{spaces}y "
        f"(ana/{spaces}x\n").encode(), "entry", "Judul Spasi Panjang", "Kamis x 1 y")
    yield Case("one-mb-spaces-heading.md", f"# a{spaces}b\n\nIsi.\n".encode(), "entry",
               "a b", "Isi.")
    paragraph = "kata " * (2**17 // 5)
    yield Case("one-mb-paragraphs-page.txt", (
        "BERITA\n\nJudul Banyak Paragraf\n\nSemarang, kpu.go.id – Kamis (4/12) awal "
        + f"{paragraph}\u00a0 " * 8 + "akhir (ana/ed)\n").encode(), "entry",
        "Judul Banyak Paragraf", "kata akhir")
    yield Case("invalid-yaml.md", b"---\ntitle: [unclosed\nfoo: : :\n---\n\nIsi.\n", "rejected")
    yield Case("yaml-not-mapping.md", b"---\n- a\n- b\n---\n\nIsi.\n", "rejected")
    yield Case("yaml-deep.md", b"---\ntitle: " + b"[" * 20000 + b"\n---\n\nIsi.\n", "rejected")
    yield Case("yaml-huge-int.md", b"---\ntitle: T\nn: " + b"9" * 5000 + b"\n---\n\nIsi.\n",
               "rejected")
    yield Case("yaml-year-zero.md", b"---\ntitle: T\ndate: 0000-01-01\n---\n\nIsi.\n",
               "rejected")
    yield Case("yaml-ancient-date.md", b"---\ntitle: Judul Kuno\ndate: 0001-01-01\n---\n\n"
               b"Isi.\n", "entry", "Judul Kuno", "Isi.")
    yield Case("yaml-odd-keys.md", b"---\ntitle: Judul Kunci Aneh\n1: a\nnull: b\n2025-01-01: c"
               b"\n---\n\nIsi.\n", "entry", "Judul Kunci Aneh", "Isi.")
    yield Case("yaml-bomb-tags.md", _billion_laughs("title: Judul Bom\ntags: *i").encode(),
               "entry", "Judul Bom", "Isi.")
    yield Case("yaml-bomb-date.md", _billion_laughs("title: Judul Bom Tanggal\ndate: *i")
               .encode(), "entry", "Judul Bom Tanggal", "Isi.")
    yield Case("yaml-bomb-title.md", _billion_laughs("title: *i").encode(), "rejected")
    for n, tag in enumerate((
            '!!python/object/apply:os.system ["echo pwned > pwned.txt"]',
            "!!python/object/apply:subprocess.check_output [[touch, pwned.txt]]",
            "!!python/name:os.system",
            '!!python/object/new:type {args: ["x", !!python/tuple [], {}]}')):
        yield Case(f"yaml-python-tag-{n}.md", f"---\ntitle: {tag}\n---\n\nIsi.\n".encode(),
                   "rejected")
    yield Case("markdown-script-only.md", b"# Judul Skrip\n\n<script>alert(1)</script>\n",
               "entry", "Judul Skrip", "Judul Skrip")
    yield Case("markdown-html.md", b'# Judul HTML\n\n<a href="javascript:alert(1)">klik</a> '
               b"<iframe src=//evil></iframe> <style>body{}</style> <b onclick=x>tebal</b>\n",
               "entry", "Judul HTML", "klik tebal")


def _names() -> Iterator[Case]:
    for n, name in enumerate((
            "with spaces in it.txt", "ünïcödé 日本語 عربي.txt", "-rf.txt", "--help.md",
            "new\nline.txt", "tab\tname.txt", "$(id);`id`.txt", "quote'\"name.md",
            "back\\slash.txt", "\u202egnp.txt", "…dots….txt")):
        title = f"Judul Nama Berkas {n}"
        text = f"# {title}\n\nIsi.\n" if name.endswith(".md") else f"{title}\n\nIsi.\n"
        yield Case(name, text.encode(), "entry", title, "Isi.")


def cases(seed: int = 4) -> Iterator[Case]:
    """Every file of the corpus with what must become of it."""
    rng = random.Random(seed)
    yield from _generated()
    yield from _raw(rng)
    yield from _names()


def corpus(seed: int = 4) -> Iterator[tuple[str, bytes]]:
    """Every file of the corpus as ``(name, bytes)``."""
    for case in cases(seed):
        yield case.name, case.data


if __name__ == "__main__":
    sys.exit(print_page_scores(sys.argv[1:]))
