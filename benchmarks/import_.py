"""2. Cold import: ``feeder build`` on a fresh store of a large drop folder, in a child process.

The workspace it leaves behind (drop folder, store, outputs, config) is reused by the
rebuild and memory benchmarks.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import corpus
from benchmarks.common import (
    Scale,
    Section,
    corpus_newest,
    count,
    feeder_command,
    file_creation_us,
    mib,
    write_config,
)

TARGET_SECONDS = 20.0  # issue 18 (was 30 s, issue 8)
TARGET_RSS_MIB = 250  # issue 18: peak RSS of the import
TARGET_STORE_RATIO = 2.0  # issue 18: the store at most twice the drop folder's size
REBUILT = re.compile(r"rebuilt in ([\d.]+) s")


@dataclass
class ChildRun:
    """How a child process ended, and what it cost."""

    seconds: float
    exit_code: int | None  # None: killed at the time limit
    max_rss_kib: int
    user_seconds: float
    system_seconds: float


def run_child(command: list[str], cwd: Path, log: Path, limit: float) -> ChildRun:
    """Run *command*, killing it after *limit* seconds; rusage comes from ``wait4``."""
    killed = threading.Event()
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)

    def kill() -> None:
        killed.set()
        process.send_signal(signal.SIGKILL)

    timer = threading.Timer(limit, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(seconds, None if killed.is_set() else process.returncode,
                    usage.ru_maxrss, usage.ru_utime, usage.ru_stime)


def prepare(root: Path, articles: int) -> Path:
    """A drop folder of news pages (five articles each) and a config; return the config."""
    config = write_config(root)
    corpus.write_pages(root / "drop", articles, corpus_newest())
    return config


def run(scale: Scale, root: Path) -> Section:
    """Time and peak memory of the first ``feeder build`` over the whole drop folder."""
    section = Section("2. Cold import (feeder build, fresh store)")
    articles = scale.pick(100_000, 2_000)
    limit = scale.pick(420.0, 60.0)
    started = time.perf_counter()
    config = prepare(root, articles)
    files = articles // corpus.ARTICLES_PER_PAGE
    generate = time.perf_counter() - started
    creation = file_creation_us(root / "probe")
    log = root / "import.log"
    result = run_child(feeder_command("build", "--config", str(config), "--drop-dir",
                                      str(root / "drop"), "--output-dir", str(root / "out"),
                                      "--state-dir", str(root / "state")), root, log, limit)
    text = log.read_text(encoding="utf-8", errors="replace")
    if result.exit_code is None:
        section.add(f"{count(articles)} articles in {count(files)} files: time",
                    f"> {limit:.0f} s (killed)", f"< {TARGET_SECONDS:.0f} s", False)
        return section
    if result.exit_code != 0:
        raise RuntimeError(f"feeder build failed ({result.exit_code}):\n{text[-3000:]}")
    ok = result.seconds < TARGET_SECONDS if not scale.quick else None
    section.add(f"{count(articles)} articles in {count(files)} files: time",
                f"{result.seconds:.1f} s", f"< {TARGET_SECONDS:.0f} s", ok)
    section.add("articles/s", f"{articles / result.seconds:,.0f}")
    section.add("peak RSS (ru_maxrss of the child)", mib(result.max_rss_kib),
                f"< {TARGET_RSS_MIB} MiB", None if scale.quick else
                result.max_rss_kib < TARGET_RSS_MIB * 1024)
    built = REBUILT.findall(text)
    if built:
        build_seconds = float(built[-1])
        section.add("of which: scan + parse + store", f"{result.seconds - build_seconds:.1f} s")
        section.add("of which: build (render + write outputs)", f"{build_seconds:.1f} s")
    section.add("CPU user / system", f"{result.user_seconds:.1f} s / "
                f"{result.system_seconds:.1f} s")
    section.add("file creation on this disk just before (create + 5 KB + rename)",
                f"{creation:.0f} µs")
    store, drop = _size(root / "state"), _size(root / "drop")
    section.add("store size on disk: size, ratio to the drop folder",
                f"{mib(store / 1024)}, {store / drop:.2f}", f"<= {TARGET_STORE_RATIO:g}",
                store / drop <= TARGET_STORE_RATIO)
    section.add("output size on disk", mib(_size(root / "out") / 1024))
    section.notes.append(
        f"Generated {count(files)} page files ({mib(_size(root / 'drop') / 1024)}) in "
        f"{generate:.1f} s (not timed). `feeder build` runs as a child process with the "
        "default configuration (max_entries 50, INFO logging to a file); it writes one HTML "
        "page per article plus the feeds.")
    return section


def _size(folder: Path) -> int:
    """Bytes of the files under *folder*."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
