"""Crashes: SIGKILL the real service mid-ingestion and mid-rebuild; read feeds mid-write.

After any crash and a restart, every dropped file is accounted for (its entries are in the
feeds, or it is in ``rejected/`` beside a note) and the feeds on disk are complete and valid.
A reader never sees a partial feed, however often the feeds are replaced.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feeder import publish
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.store import Store
from tests.support import ARRIVAL, RunningService, wait_for

pytestmark = pytest.mark.slow

FEEDS = ("rss.xml", "atom.xml", "feed.json")
REBUILDS = 200
BODY = "Isi berita yang cukup panjang untuk membuat pembangunan ulang terasa. " * 200  # 14 KB


@dataclass
class Burst:
    """Files to drop: valid articles (each one title) and invalid files (each one note)."""

    valid: dict[str, str] = field(default_factory=dict)  # file name → title
    invalid: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [*self.valid, *self.invalid]


INVALID: dict[str, Callable[[int], bytes]] = {
    ".txt": lambda n: b"",  # empty
    ".md": lambda n: f"---\ntitle: [tak ditutup {n}\n---\nIsi.\n".encode(),
    ".docx": lambda n: b"PK\x03\x04" + bytes(range(256)),
}


def make_burst(folder: Path, rng: random.Random, count: int, prefix: str) -> Burst:
    """Write *count* files into *folder*: about one in five invalid, chosen by *rng*."""
    burst = Burst()
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        stem = f"{prefix}-{n:03}"
        if rng.random() < 0.2:
            suffix = rng.choice(sorted(INVALID))
            name = stem + suffix
            (folder / name).write_bytes(INVALID[suffix](n))
            burst.invalid.append(name)
        else:
            title = f"Berita {prefix} nomor {n}"
            name = stem + rng.choice([".txt", ".md"])
            text = (f"# {title}\n\n{BODY}\n" if name.endswith(".md") else f"{title}\n\n{BODY}\n")
            (folder / name).write_text(text, encoding="utf-8")
            burst.valid[name] = title
    return burst


def move_in(staging: Path, drop: Path) -> None:
    """Drop every staged file the way careful tools do: one atomic rename each."""
    for path in sorted(staging.iterdir()):
        path.rename(drop / path.name)


HANDLED = re.compile(r"^.*(?:: \d+ article\(s\)|rejected \S+:).*$", re.M)


def handled(service: RunningService) -> int:
    """How many files the service has ingested or rejected, by its log."""
    return len(HANDLED.findall(service.log()))


def feed_titles(output: Path) -> dict[str, set[str]]:
    """Titles in each feed on disk, asserting each is complete and valid."""
    titles = {}
    for name in ("rss.xml", "atom.xml"):
        data = (output / name).read_bytes()
        etree.fromstring(data)
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        titles[name] = {e.title for e in parsed.entries}
    feed = json.loads((output / "feed.json").read_text(encoding="utf-8"))
    titles["feed.json"] = {item["title"] for item in feed["items"]}
    return titles


def assert_accounted(service: RunningService, bursts: list[Burst]) -> None:
    """Every file dropped is an entry in every feed or rejected with a note; nothing else."""
    valid = {t for b in bursts for t in b.valid.values()}
    invalid = [n for b in bursts for n in b.invalid]
    rejected = service.root / "rejected"
    assert sorted(p.name for p in service.drop.iterdir()) == sorted(
        n for b in bursts for n in b.valid)
    notes = sorted(p.name for p in rejected.glob("*.why.txt")) if rejected.exists() else []
    assert notes == sorted(f"{n}.why.txt" for n in invalid)
    assert all((rejected / n).is_file() for n in invalid)
    for name, titles in feed_titles(service.output).items():
        assert titles == valid, name
    assert len(valid) + len(notes) == sum(len(b.names) for b in bursts)
    # Temporary files a killed writer left behind are hidden and never served as feeds.
    for path in service.output.rglob("*.tmp"):
        assert path.name.startswith("."), path
        assert service.get("/" + path.relative_to(service.output).as_posix())[0] == 404


def settled(service: RunningService, bursts: list[Burst]) -> bool:
    """The service has caught up: every valid title served, every invalid file noted."""
    notes = len(list((service.root / "rejected").glob("*.why.txt")))
    want = {t for b in bursts for t in b.valid.values()}
    return notes == sum(len(b.invalid) for b in bursts) and service.titles() == want


def test_kill_during_ingestion_loses_no_file(service: RunningService) -> None:
    rng = random.Random(41)
    burst = make_burst(service.root / "staging", rng, 300, "a")
    service.start()
    wait_for(lambda: "rebuilt in" in service.log())
    move_in(service.root / "staging", service.drop)
    wait_for(lambda: handled(service) >= 20, timeout=20, interval=0.005)
    service.kill()
    at_kill = handled(service)
    assert at_kill < len(burst.names), "ingestion finished before the kill; make it slower"
    service.start()
    wait_for(lambda: settled(service, [burst]), timeout=30, interval=0.2)
    assert_accounted(service, [burst])


def test_kill_during_rebuilds_loses_no_file(service: RunningService) -> None:
    """Each round drops a burst, waits until the service has read it all (so the rebuild
    is starting) and SIGKILLs it a seeded random moment later: during the rebuild."""
    rng = random.Random(7)
    bursts: list[Burst] = []
    service.start()
    interrupted = 0
    for round_ in range(5):
        staging = service.root / f"staging-{round_}"
        bursts.append(make_burst(staging, rng, 40, f"r{round_}"))
        move_in(staging, service.drop)
        total = sum(len(b.names) for b in bursts)
        wait_for(lambda total=total: handled(service) >= total, timeout=20, interval=0.005)
        threading.Event().wait(rng.uniform(0.0, 0.15))  # a rebuild takes 0.1–1 s
        service.kill()
        interrupted += "rebuilt in" not in HANDLED.split(service.log())[-1]
        service.start()
    wait_for(lambda: settled(service, bursts), timeout=30, interval=0.2)
    assert_accounted(service, bursts)
    assert interrupted, "no kill landed in a rebuild"


def test_readers_never_see_a_partial_feed(drop: Callable[..., Path], config: Config,
                                          store: Store) -> None:
    """A thread reads the three feeds in a loop while 200 builds replace them. (Checked:
    with the atomic write swapped for a plain chunked write, it sees a torn feed at once.)"""
    config = replace(config, feed_max_entries=25)
    out = config.output_dir
    ingestor = Ingestor(store, config)
    short = BODY[:1500]
    for n in range(40):
        drop(f"awal-{n:02}.txt", f"Berita Awal {n}\n\n{short}\n")
    ingestor.scan()
    publisher = publish.Publisher(config)  # one for every build, as the service keeps
    publisher.build(store)
    stop = threading.Event()
    reads: list[int] = []
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            for name in FEEDS:
                data = b""
                try:  # a missing file is as wrong as a torn one
                    data = (out / name).read_bytes()
                    if name == "feed.json":
                        assert json.loads(data)["items"]
                    else:
                        root = etree.fromstring(data)
                        assert root.find(".//{http://www.w3.org/2005/Atom}entry") is not None \
                            or root.find("channel/item") is not None
                except Exception as exc:  # anything wrong is a torn read
                    errors.append(f"{name}: {len(data)} bytes: {exc!r}")
                reads.append(len(data))

    thread = threading.Thread(target=reader, name="reader")
    thread.start()
    rng = random.Random(3)
    try:
        for n in range(REBUILDS):
            body = short[: rng.randrange(100, len(short))]
            # Each newer than the last, so every build changes every feed.
            path = drop(f"berita-{n:03}.txt", f"Berita Nomor {n}\n\n{body}\n",
                        at=ARRIVAL + timedelta(minutes=n))
            ingestor.ingest(path)
            if n % 3 == 2:  # retract one now and then, so feeds shrink as well as grow
                gone = config.drop_dir / f"berita-{n - 1:03}.txt"
                gone.unlink()
                ingestor.ingest(gone)
            publisher.build(store)
            if errors:
                break
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not errors, errors[:3]
    assert len(reads) > REBUILDS and len(set(reads)) > 50  # many reads of many versions
    assert not list(out.rglob("*.tmp"))
    for name in ("rss.xml", "atom.xml"):
        assert feedparser.parse((out / name).read_bytes()).bozo == 0
