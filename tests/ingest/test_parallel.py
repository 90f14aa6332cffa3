"""Worker processes change how fast a large import is, never what it publishes."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from feeder import publish
from feeder.config import Config, load_config
from feeder.ingest import Ingestor
from feeder.ingest.scan import Read, read_chunk
from feeder.parallel import Workers, worker_count
from feeder.publish.build import MONTHS_AT_ONCE
from feeder.store import Store
from feeder.store.entries import encode
from tests.support import ARRIVAL, SAMPLES, set_mtime

BODY = "Rapat pleno terbuka digelar di kantor KPU untuk menetapkan hasil rekapitulasi.\n"


def _config(root: Path, processes: int) -> Config:
    return load_config(None, {"drop_dir": root / "drop", "output_dir": root / "out",
                              "state_dir": root / "state", "rejected_dir": root / "rejected",
                              "processes": processes,
                              # Every entry in the feeds, enough for the workers to make
                              # them; a URL of its own, so no entry made before is reused.
                              "feed.max_entries": 500,
                              "site.base_url": f"http://{root.name}.test/"})


def _fill(drop_dir: Path) -> None:
    """Enough files and pages for both the parse and the page workers to take part."""
    drop_dir.mkdir(parents=True)
    for sample in ("kpu-semarang-dec.txt", "kpu-semarang-jul.txt"):
        shutil.copyfile(SAMPLES / sample, drop_dir / sample)
    for n in range(150):
        (drop_dir / f"berita-{n:03}.txt").write_text(f"Berita Nomor {n}\n\n{BODY * 3}")
    (drop_dir / "kosong.txt").write_text("\n\n")  # rejected, from a worker's ParseError
    for path in drop_dir.iterdir():
        set_mtime(path, ARRIVAL)
    # Undated articles are dated by their arrival: a dozen months' archives, more than the
    # workers are handed at once.
    for n in range(150):
        set_mtime(drop_dir / f"berita-{n:03}.txt", ARRIVAL - timedelta(days=31 * (n % 12)))


def _publish(root: Path, processes: int) -> dict[str, bytes]:
    config = _config(root, processes)
    _fill(config.drop_dir)
    store = Store(config.store_path)
    try:
        with Workers(worker_count(processes)) as workers:
            Ingestor(store, config, workers).scan()
            publish.build(store, config, workers=workers)
    finally:
        store.close()
    outputs = {p.relative_to(root).as_posix(): p.read_bytes()
               for folder in ("out", "rejected") for p in (root / folder).rglob("*")
               if p.is_file()}
    return {name: data.replace(bytes(root), b"ROOT").replace(
        config.site_base_url.encode(), b"BASE/") for name, data in outputs.items()}


def test_workers_publish_exactly_what_one_process_does(tmp_path: Path) -> None:
    alone = _publish(tmp_path / "alone", processes=1)
    shared = _publish(tmp_path / "shared", processes=2)
    assert len([n for n in alone if n.startswith("out/articles/")]) == 162
    assert len([n for n in alone if n.startswith("out/archive/")]) > 2 * MONTHS_AT_ONCE
    assert any(n.startswith("rejected/") for n in alone)
    assert sorted(shared) == sorted(alone)
    assert [n for n in alone if shared[n] != alone[n] and "why" not in n] == []


def test_processes_setting_counts_workers() -> None:
    assert worker_count(1) == 0  # one process in all: no workers
    assert worker_count(3) == 3
    assert worker_count(0) == (len(os.sched_getaffinity(0)) if len(os.sched_getaffinity(0)) > 1
                               else 0)


def test_what_storing_needs_is_worked_out_in_the_worker_and_travels_back() -> None:
    config = load_config(None, {})
    job = ("kpu-semarang-dec.txt", (SAMPLES / "kpu-semarang-dec.txt").read_bytes(), ARRIVAL)
    with Workers(1) as workers:
        [[read]] = list(workers.map(read_chunk, [(config, [job])]))
    assert isinstance(read, Read) and read.entries
    for entry in read.entries:  # encoded there exactly as it would be here
        assert entry == encode(entry.article)


def die_in_worker(n: int) -> int:
    if multiprocessing.parent_process() is not None and n == 3:
        os._exit(1)  # as if the OOM killer took the worker
    return n * n


def test_work_of_a_dead_worker_is_finished_in_process(caplog: pytest.LogCaptureFixture) -> None:
    with Workers(2) as workers:
        assert list(workers.map(die_in_worker, range(10))) == [n * n for n in range(10)]
        assert list(workers.map(abs, [-1, -2])) == [1, 2]  # a fresh pool
    assert "a worker process died" in caplog.text


class _Unstartable:
    def submit(self, *args: object) -> None:
        raise OSError(38, "Function not implemented")  # as where /dev/shm is missing

    def shutdown(self, **kwargs: object) -> None:
        pass


@pytest.mark.parametrize("failure", ["pool", "worker"])
def test_without_worker_processes_the_work_is_done_in_process(
        failure: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def new_pool(count: int) -> object:
        if failure == "pool":
            raise NotImplementedError("This platform lacks a functioning sem_open")
        return _Unstartable()

    monkeypatch.setattr("feeder.parallel._new_pool", new_pool)
    with Workers(2) as workers:
        assert list(workers.map(abs, [-1, -2, -3])) == [1, 2, 3]
        assert workers.count == 0
    assert caplog.text.count("cannot start worker processes") == 1
