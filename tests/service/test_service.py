"""End to end: the real `feeder run` process, its watcher, scheduler and HTTP server."""

from __future__ import annotations

import gzip
import http.client
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.support import SAMPLES, RunningService, article, wait_for

pytestmark = pytest.mark.slow


def test_dropped_file_appears_in_the_feed_over_http(service: RunningService) -> None:
    service.start()
    assert service.titles() == set()
    service.drop_file("baru.txt", article("Berita Baru"))
    wait_for(lambda: "Berita Baru" in service.titles(), timeout=5)
    shutil.copy(SAMPLES / "kpu-semarang-jul.txt", service.drop / "jul.txt")
    wait_for(lambda: len(service.titles()) == 7, timeout=5)


def test_slowly_written_file_is_parsed_once_and_complete(service: RunningService) -> None:
    service.start()
    text = (SAMPLES / "kpu-semarang-dec.txt").read_text(encoding="utf-8")
    chunks = [text[i:i + len(text) // 8 + 1] for i in range(0, len(text), len(text) // 8 + 1)]
    with (service.drop / "lambat.txt").open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            time.sleep(0.03)  # a slow writer, well inside the settle time
    wait_for(lambda: len(service.titles()) == 6, timeout=5)
    assert service.log().count("lambat.txt: 6 article(s)") == 1
    assert "lambat.txt: 1 article" not in service.log()


def test_burst_of_200_files_is_published_in_one_rebuild(service: RunningService) -> None:
    """The watcher hands a burst over in a few batches: the service reads them all, and
    those still settling, before it builds."""
    service.start()
    wait_for(lambda: "rebuilt in" in service.log())
    before = service.log().count("rebuilt in")
    staging = service.root / "staging"
    staging.mkdir()
    for n in range(200):
        (staging / f"berita-{n:03}.txt").write_text(article(f"Berita nomor {n}"))
    for path in staging.iterdir():
        path.rename(service.drop / path.name)
    wait_for(lambda: len(service.titles()) == 200, timeout=20)
    wait_for(lambda: "rebuilt in" in service.log().rsplit("berita-", 1)[1])
    assert service.log().count("rebuilt in") - before == 1
    assert service.log().count("berita-007.txt: 1 article(s)") == 1


def test_edits_and_deletions_reach_the_feed(service: RunningService) -> None:
    service.start()
    path = service.drop_file("a.txt", article("Judul Lama", "Isi lama."))
    wait_for(lambda: "Judul Lama" in service.titles())
    service.drop_file("a.txt", article("Judul Lama", "Isi yang diperbaiki."))
    wait_for(lambda: b"diperbaiki" in service.get("/rss.xml")[2])
    path.unlink()
    wait_for(lambda: service.titles() == set())


def test_files_dropped_while_stopped_are_caught_up(service: RunningService) -> None:
    service.start()
    kept = service.drop_file("tetap.txt", article("Tetap"))
    gone = service.drop_file("hapus.txt", article("Dihapus"))
    wait_for(lambda: service.titles() == {"Tetap", "Dihapus"})
    assert service.stop() == 0
    gone.unlink()
    service.drop_file("baru.txt", article("Baru Saat Mati"))
    kept.write_text(article("Tetap", "Diubah saat mati."))
    service.start()
    wait_for(lambda: service.titles() == {"Tetap", "Baru Saat Mati"})
    wait_for(lambda: b"Diubah saat mati" in service.get("/rss.xml")[2])


def test_rejected_file_does_not_stop_the_service(service: RunningService) -> None:
    service.start()
    service.drop_file("rusak.md", "---\ntitle: [x\n---\n")
    service.drop_file("bagus.txt", article("Bagus"))
    wait_for(lambda: "Bagus" in service.titles())
    wait_for(lambda: (service.root / "rejected" / "rusak.md.why.txt").exists())
    assert "rejected rusak.md" in service.log()


def test_conditional_get_and_gzip(service: RunningService) -> None:
    service.start()
    service.drop_file("a.txt", article("Judul"))
    wait_for(lambda: "Judul" in service.titles())
    status, headers, body = service.get("/rss.xml")
    assert status == 200
    assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert service.get("/rss.xml", {"If-None-Match": headers["ETag"]})[0] == 304
    assert service.get("/rss.xml", {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    _, zipped_headers, zipped = service.get("/rss.xml", {"Accept-Encoding": "gzip"})
    assert zipped_headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped) == body
    assert service.get("/")[1]["Content-Type"] == "text/html; charset=utf-8"
    assert service.get("/feed.json")[1]["Content-Type"] == "application/feed+json; charset=utf-8"
    assert service.get("/healthz")[0] == 200


@pytest.mark.parametrize("path", ["/../feeder.toml", "/%2e%2e/feeder.toml",
                                  "/articles/../../feeder.toml", "/%252e%252e/feeder.toml",
                                  "//etc/passwd", "/nope.xml"])
def test_nothing_outside_the_output_folder_is_served(service: RunningService,
                                                     path: str) -> None:
    service.start()
    host, port = service.url.split("//")[1].rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status in (400, 404)
    assert b"drop_dir" not in body and b"root:" not in body


def test_sigint_stops_cleanly(service: RunningService) -> None:
    service.start()
    assert service.stop(signal.SIGINT) == 0
    assert "stopped" in service.log()


def test_ctrl_c_stops_service_and_workers_without_tracebacks(service: RunningService) -> None:
    service.start()
    assert service.stop(signal.SIGINT, group=True) == 0
    assert "stopped" in service.log()
    assert "Traceback" not in service.log()


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            children = {int(c) for c in task.read_text().split()}
            found |= children
            todo += children
    return found


def test_killed_service_leaves_no_worker_processes(service: RunningService) -> None:
    service.start()
    assert service.process is not None
    helpers = wait_for(lambda: len(found := _descendants(service.process.pid)) >= 2 and found)
    service.kill()  # SIGKILL: nothing of feeder's gets to shut its pool down
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), timeout=15)
