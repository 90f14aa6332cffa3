"""The promises under real faults (issue #16): each case starts the real `feeder run`.

Grouped by the case of the issue they pin; each would fail on the code before the fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import socket
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from feeder.ingest.drop import MAX_DEPTH, DropFolder, NotAFile
from feeder.ingest.watcher import _RateLimit
from feeder.logs import shown
from feeder.store.schema import is_corruption
from tests.support import (
    ROOT,
    RunningService,
    article,
    free_port,
    wait_for,
    without_root_override,
)

pytestmark = pytest.mark.slow


# 1. Nothing from outside the drop folder is read, published or moved -----------------------

def test_a_subfolder_swapped_for_a_link_publishes_and_moves_nothing_from_outside(
        service: RunningService, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_text(article("Rahasia Luar"), encoding="utf-8")
    (elsewhere / "y.txt").write_bytes(bytes(range(256)) * 8)  # what feeder would reject
    service.drop_file("sub/x.txt", article("Berita Satu"))
    service.drop_file("sub/y.txt", article("Berita Dua"))
    service.start()
    wait_for(lambda: service.titles() == {"Berita Satu", "Berita Dua"})
    # The swap of the issue: the watcher reports sub/x.txt and sub/y.txt, the old ends of
    # the moves, which now lead through the link.
    os.rename(service.drop / "sub", service.drop / "lama")
    os.symlink(elsewhere, service.drop / "sub")
    wait_for(lambda: "Rahasia Luar" in service.titles() or "rejected sub:" in service.log())
    wait_for(lambda: "sub/y.txt" in service.log())
    assert service.titles() == {"Berita Satu", "Berita Dua"}
    assert sorted(p.name for p in elsewhere.iterdir()) == ["x.txt", "y.txt"]
    assert (tmp_path / "rejected" / "sub").is_symlink()  # the link itself, with its note
    assert "symbolic link" in (tmp_path / "rejected" / "sub.why.txt").read_text("utf-8")


def test_the_drop_folder_is_read_and_moved_without_following_any_link(tmp_path: Path) -> None:
    root, outside = tmp_path / "drop", tmp_path / "luar"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "x.txt").write_text("rahasia", encoding="utf-8")
    (root / "sub" / "a.txt").write_text("boleh", encoding="utf-8")
    (root / "lewat").symlink_to(outside, target_is_directory=True)
    (root / "tautan.txt").symlink_to(outside / "x.txt")
    drop = DropFolder(root)
    assert drop.read("sub/a.txt", 100)[0] == b"boleh"
    for through in ("lewat/x.txt", "tautan.txt"):
        with pytest.raises(NotAFile):
            drop.read(through, 100)
    listing = drop.walk()
    assert listing.files == ["sub/a.txt"] and sorted(listing.odd) == ["lewat", "tautan.txt"]
    drop.move_out("tautan.txt", tmp_path / "ditolak")
    assert (tmp_path / "ditolak").is_symlink() and (outside / "x.txt").exists()


def test_import_writes_nothing_through_a_linked_folder(tmp_path: Path) -> None:
    from feeder.ingest import copy_tree

    source, drop, outside = tmp_path / "sumber", tmp_path / "drop", tmp_path / "luar"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.txt").write_text(article("Berita Satu"), encoding="utf-8")
    (source / "b.txt").write_text(article("Berita Dua"), encoding="utf-8")
    drop.mkdir()
    outside.mkdir()
    (drop / "sub").symlink_to(outside, target_is_directory=True)
    assert copy_tree(source, drop) == 1
    assert (drop / "b.txt").exists() and list(outside.iterdir()) == []


# 2. A missing drop folder is an error state, not an empty folder ---------------------------

def test_a_drop_folder_renamed_away_retracts_nothing_and_publishing_resumes(
        tmp_path: Path) -> None:
    service = RunningService(tmp_path, rebuild_interval=1.0)
    titles = {f"Berita {n}" for n in range(4)}
    for n in range(4):
        service.drop_file(f"a{n}.txt", article(f"Berita {n}"))
    try:
        service.start()
        wait_for(lambda: service.titles() == titles)
        os.rename(service.drop, tmp_path / "pindah")
        wait_for(lambda: service.titles() != titles or service.health()[0] == 503)
        assert service.titles() == titles
        # Past several safety-net rescans (one a second), each of which is a retry.
        wait_for(lambda: service.log().count("trying again") >= 3)
        assert service.titles() == titles
        status, body = service.health()
        assert status == 503 and "missing" in body["problems"]["drop"]
        assert (service.output / "articles").exists() and len(
            list((service.output / "articles").iterdir())) == 4
        os.rename(tmp_path / "pindah", service.drop)
        wait_for(lambda: service.health()[0] == 200)
        service.drop_file("baru.txt", article("Berita Baru"))
        wait_for(lambda: service.titles() == titles | {"Berita Baru"})
    finally:
        service.kill()


def test_an_empty_folder_in_place_of_the_drop_folder_retracts_nothing(
        tmp_path: Path) -> None:
    """What an unmounted share looks like: the same path, an empty folder, another inode."""
    service = RunningService(tmp_path, rebuild_interval=1.0)
    titles = {f"Berita {n}" for n in range(4)}
    for n in range(4):
        service.drop_file(f"a{n}.txt", article(f"Berita {n}"))
    try:
        service.start()
        wait_for(lambda: service.titles() == titles)
        os.rename(service.drop, tmp_path / "share")
        service.drop.mkdir()
        wait_for(lambda: service.titles() != titles or "not the folder" in str(
            service.health()[1]["problems"]))
        assert service.titles() == titles
        service.drop.rmdir()
        os.rename(tmp_path / "share", service.drop)  # mounted again
        wait_for(lambda: service.health()[0] == 200)
        (service.drop / "a0.txt").unlink()  # a real deletion still retracts
        wait_for(lambda: service.titles() == titles - {"Berita 0"})
    finally:
        service.kill()


def test_feeder_build_with_the_drop_folder_gone_exits_4_and_changes_nothing(
        tmp_path: Path) -> None:
    from feeder.cli import main

    drop = tmp_path / "drop"
    folders = ["--drop-dir", str(drop), "--output-dir", str(tmp_path / "out"),
               "--state-dir", str(tmp_path / "state")]
    assert main(["build", *folders]) == 0  # a first run makes the folder
    (drop / "a.txt").write_text(article("Berita Satu"), encoding="utf-8")
    assert main(["build", *folders]) == 0
    drop.rename(tmp_path / "pindah")
    assert main(["build", *folders]) == 4
    feed = json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))
    assert [item["title"] for item in feed["items"]] == ["Berita Satu"]


# 3. Busy, locked and full are waited out; only corruption moves the store aside -------------

def _published(service: RunningService) -> dict[str, str]:
    # rss.xml, which titles() reads, is written a moment before feed.json.
    _, _, body = wait_for(lambda: (got := service.get("/feed.json"))[0] == 200 and got)
    return {item["title"]: item["date_published"] for item in json.loads(body)["items"]}


def test_a_locked_store_at_start_is_waited_for_not_moved_aside(
        service: RunningService, tmp_path: Path) -> None:
    path = service.drop_file("a.txt", article("Berita Lama"))
    os.utime(path, (1_700_000_000, 1_700_000_000))  # arrived long ago: its history counts
    service.start()
    wait_for(lambda: service.titles() == {"Berita Lama"})
    before = _published(service)
    service.stop()
    path.write_text(article("Berita Lama", "Isi yang diperbaiki."), encoding="utf-8")
    lock = sqlite3.connect(tmp_path / "state" / "feeder.sqlite3", isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # another process in the middle of writing
        service.start()
        wait_for(lambda: "locked" in str(service.health()[1]["problems"]))
        status = service.command("status")
        assert status.returncode == 0 and "entries: 1" in status.stdout
    finally:
        lock.close()
    wait_for(lambda: service.health()[0] == 200)
    wait_for(lambda: "diperbaiki" in service.get("/feed.json")[2].decode())
    assert _published(service) == before  # the edit kept the entry's first publication
    assert not list((tmp_path / "state").glob("*broken*"))


def _can_mount_in_a_namespace() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"],
        capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _can_mount_in_a_namespace(),
                    reason="needs unshare and user namespaces to mount a small disk")
def test_a_full_state_disk_at_start_is_waited_out_not_moved_aside(tmp_path: Path) -> None:
    """The state disk fills up while feeder is down: the service then runs in a mount
    namespace of its own whose state folder is a small tmpfs, filled to the last block."""
    # The same port both times (a new one would make every page due again), and retries at
    # most 5 s apart: the doubling backoff must not outlast the wait for the recovery.
    service = RunningService(tmp_path, server={"port": free_port()}, rebuild_interval=5.0)
    state = tmp_path / "state"
    try:
        for n in range(3):
            path = service.drop_file(f"a{n}.txt", article(f"Berita {n}"))
            os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))
        service.start()
        wait_for(lambda: len(service.titles()) == 3)
        before = _published(service)
        service.kill()  # the write-ahead log stays: the next start writes to it first
        os.rename(state, tmp_path / "staged")
        state.mkdir()
        size = sum(p.stat().st_size for p in (tmp_path / "staged").iterdir()) + 65536
        script = (f"mount -t tmpfs -o size={size} tmpfs {state} && cp -a {tmp_path}/staged/. "
                  f"{state}/ && (cat /dev/zero > {state}/filler 2>/dev/null; true) && "
                  'exec "$@"')
        service.wrap = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                        script, "sh"]
        service.start()
        wait_for(lambda: "disk is full" in str(service.health()[1]["problems"]))
        assert service.process is not None
        inside = Path(f"/proc/{service.process.pid}/root{state}")
        (inside / "filler").unlink()  # room again
        wait_for(lambda: service.health()[0] == 200, timeout=20)
        assert _published(service) == before
        assert sorted(p.name for p in inside.iterdir() if "broken" in p.name) == []
    finally:
        service.kill()


def test_only_corruption_moves_the_store_aside() -> None:
    def error(code: int, message: str) -> sqlite3.Error:
        exc = sqlite3.OperationalError(message)
        exc.sqlite_errorcode = code
        return exc

    assert is_corruption(error(sqlite3.SQLITE_CORRUPT, "database disk image is malformed"))
    assert is_corruption(error(sqlite3.SQLITE_NOTADB, "file is not a database"))
    for code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL,
                 sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
        assert not is_corruption(error(code, "transient"))


def test_a_failed_commit_is_not_logged_as_stored(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    from feeder.config import load_config
    from feeder.ingest import Ingestor
    from feeder.store import Store

    (tmp_path / "drop").mkdir()
    config = load_config(None, {"drop_dir": tmp_path / "drop", "output_dir": tmp_path / "out",
                                "state_dir": tmp_path / "state"})
    paths = [tmp_path / "drop" / f"a{n}.txt" for n in range(3)]
    for n, path in enumerate(paths):
        # Text that does not compress away (stored rows are compressed): storing it needs
        # pages the full disk cannot give.
        words = " ".join(hashlib.sha256(f"{n}/{i}".encode()).hexdigest() for i in range(100))
        path.write_text(article(f"Berita {n}", f"Isi {words}."), encoding="utf-8")
    store = Store(config.store_path)
    try:
        ingestor = Ingestor(store, config)
        (pages,) = store._db.execute("PRAGMA page_count").fetchone()
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
        with caplog.at_level(logging.INFO, logger="feeder.ingest.ingestor"), pytest.raises(
                sqlite3.OperationalError):
            ingestor.ingest_many(paths)
        assert "new" not in caplog.text
        assert "could not store what 3 file(s) carry" in caplog.text
        assert store.count() == 0
        store._db.execute("PRAGMA max_page_count = 1073741823")  # room again
        with caplog.at_level(logging.INFO, logger="feeder.ingest.ingestor"):
            ingestor.ingest_many(paths)
        assert store.count() == 3 and caplog.text.count("1 new") == 3
    finally:
        store.close()


# 4. One undecodable row is quarantined; everything else keeps publishing -------------------

def test_an_undecodable_stored_entry_is_quarantined_and_read_again(
        service: RunningService, tmp_path: Path) -> None:
    service.drop_file("a.txt", article("Berita Satu"))
    service.drop_file("b.txt", article("Berita Dua"))
    service.start()
    wait_for(lambda: service.titles() == {"Berita Satu", "Berita Dua"})
    service.stop()
    with sqlite3.connect(tmp_path / "state" / "feeder.sqlite3") as db:
        db.execute("UPDATE entries SET data = substr(data, 1, 40) WHERE key LIKE ?",
                   ("%berita satu%",))  # still a healthy database to SQLite
    db.close()
    service.start()
    service.drop_file("c.txt", article("Berita Tiga"))
    wait_for(lambda: service.titles() == {"Berita Satu", "Berita Dua", "Berita Tiga"})
    assert service.health()[0] == 200
    assert service.metric("feeder_quarantined_entries_total") == 1
    status = service.command("status")
    assert "quarantined" in status.stdout and "a.txt" in status.stdout


def test_feeder_build_quarantines_an_undecodable_row_and_reads_its_file_again(
        tmp_path: Path) -> None:
    from feeder.cli import main

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.txt").write_text(article("Berita Satu"), encoding="utf-8")
    (drop / "b.txt").write_text(article("Berita Dua"), encoding="utf-8")
    folders = ["--drop-dir", str(drop), "--output-dir", str(tmp_path / "out"),
               "--state-dir", str(tmp_path / "state")]
    assert main(["build", *folders]) == 0
    with sqlite3.connect(tmp_path / "state" / "feeder.sqlite3") as db:
        db.execute("UPDATE entries SET data = '{\"key\": 1}' WHERE key LIKE '%satu%'")
    db.close()
    (drop / "c.txt").write_text(article("Berita Tiga"), encoding="utf-8")
    assert main(["build", *folders]) == 0
    feed = json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))
    assert {item["title"] for item in feed["items"]} == {"Berita Satu", "Berita Dua",
                                                         "Berita Tiga"}


@pytest.mark.parametrize("damage", ["substr(data, 1, 40)", "'{\"key\": 1}'"])
def test_a_build_of_every_page_quarantines_an_undecodable_row(tmp_path: Path,
                                                              damage: str) -> None:
    """Every page is written again after a change of look or address (another port): a row
    that is not JSON, or lacks a slug, is quarantined then too, never a build that fails."""
    from feeder.cli import main

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.txt").write_text(article("Berita Satu"), encoding="utf-8")
    (drop / "b.txt").write_text(article("Berita Dua"), encoding="utf-8")
    folders = ["--drop-dir", str(drop), "--output-dir", str(tmp_path / "out"),
               "--state-dir", str(tmp_path / "state")]
    assert main(["build", *folders]) == 0
    with sqlite3.connect(tmp_path / "state" / "feeder.sqlite3") as db:
        db.execute(f"UPDATE entries SET data = {damage} WHERE key LIKE '%satu%'")
    db.close()
    assert main(["build", "--force", *folders]) == 0
    feed = json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))
    assert {item["title"] for item in feed["items"]} == {"Berita Satu", "Berita Dua"}
    assert main(["build", *folders]) == 0  # nothing left pending that cannot be built


# 5. The server closes idle connections, bounds headers, caps connections -------------------

def _port(service: RunningService) -> int:
    return int(service.url.rstrip("/").rsplit(":", 1)[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_1100_idle_sockets_under_ulimit_1024_neither_lock_out_readers_nor_files(
        tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip("the test itself needs 1,300 descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))

    def systemd_default() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    # Idle connections live long here, so the cap, not the idle timeout, is what holds.
    service = RunningService(tmp_path, preexec=systemd_default, server={"idle_timeout": 60.0})
    sockets: list[socket.socket] = []
    try:
        service.start()
        wait_for(lambda: service.health()[0] == 200)
        for _ in range(1100):
            sockets.append(socket.create_connection(("127.0.0.1", _port(service))))
        for n in range(3):
            service.drop_file(f"a{n}.txt", article(f"Berita {n}"))
        # New readers get in, and the files are read (their descriptors are there).
        wait_for(lambda: service.titles() == {f"Berita {n}" for n in range(3)})
        assert service.health()[0] == 200
        assert "Too many open files" not in service.log()
        assert service.process is not None
        assert len(os.listdir(f"/proc/{service.process.pid}/fd")) < 1024
    finally:
        for sock in sockets:
            sock.close()
        service.kill()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_100_mb_header_is_refused_with_431_at_once(service: RunningService) -> None:
    service.start()
    wait_for(lambda: service.health()[0] == 200)
    assert service.process is not None
    cpu = _cpu_seconds(service.process.pid)
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", _port(service)), timeout=10) as sock:
        sock.sendall(b"GET /rss.xml HTTP/1.1\r\nHost: feeder\r\nX-Besar: ")
        chunk = b"a" * (1 << 20)
        try:
            while sent < 100 << 20:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: it answered already
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 ")
    # What the client still sent was dropped unread for a second (so it could read the
    # answer rather than a reset), then the connection was closed.
    assert time.monotonic() - started < 4.0
    used = _cpu_seconds(service.process.pid) - cpu
    print(f"server CPU for {sent >> 20} MB sent: {used:.2f} s")
    assert used < 1.0
    assert service.get("/rss.xml")[0] == 200  # and everyone else is served


def test_slow_headers_get_408_and_idle_connections_are_closed(tmp_path: Path) -> None:
    service = RunningService(tmp_path, server={"idle_timeout": 1.0, "header_timeout": 1.0})
    try:
        service.start()
        with socket.create_connection(("127.0.0.1", _port(service)), timeout=10) as slow, \
                socket.create_connection(("127.0.0.1", _port(service)), timeout=10) as idle:
            slow.sendall(b"GET /rss.xml HTTP/1.1\r\nHost: feeder\r\n")  # and no more
            assert slow.recv(4096).startswith(b"HTTP/1.1 408 ")
            assert idle.recv(4096) == b""  # closed without a word: it never asked anything
    finally:
        service.kill()


# 6. Slow writers are read once, complete --------------------------------------------------

def _write_slowly(path: Path, pieces: list[tuple[float, str]]) -> None:
    """One writer holding the file open: each piece after a pause of its own."""
    with path.open("w", encoding="utf-8") as handle:
        for pause, text in pieces:
            threading.Event().wait(pause)
            handle.write(text)
            handle.flush()


def test_slow_writers_are_read_once_when_they_are_done(tmp_path: Path) -> None:
    service = RunningService(tmp_path, empty_seconds=5.0, close_wait_seconds=5.0)  # shipped
    try:
        _slow_writers(service)
    finally:
        service.kill()


def _slow_writers(service: RunningService) -> None:
    service.start()
    wait_for(lambda: service.health()[0] == 200)
    writers = {
        # Created empty, written half a second later.
        "kosong.txt": [(0.0, ""), (0.5, article("Berita Terlambat"))],
        # Front matter still being written when a settle time has passed.
        "rapat.md": [(0.0, "---\n"), (0.3, "title: Rapat"), (0.3, " Pleno\n---\n\n"),
                     (0.3, "Isi berita rapat.\n")],
        # A titled file written in many pieces.
        "panjang.txt": [(0.0, "Laporan Panjang\n\n"), *[(0.1, f"Kalimat {n}. ")
                                                         for n in range(12)]],
    }
    threads = [threading.Thread(target=_write_slowly, args=(service.drop / name, pieces))
               for name, pieces in writers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wanted = {"Berita Terlambat", "Rapat Pleno", "Laporan Panjang"}
    wait_for(lambda: service.titles() == wanted)
    log = service.log()
    assert "rejected" not in log
    for name in writers:
        assert log.count(f"{name}: 1 article(s), 1 new") == 1, name
        assert f"{name}: 1 article(s), 0 new, 1 updated" not in log, name
    wait_for(lambda: "Kalimat 11." in service.get("/feed.json")[2].decode())


def test_a_file_rejected_while_its_writer_was_at_work_comes_back(tmp_path: Path) -> None:
    service = RunningService(tmp_path, close_wait_seconds=0.3)
    try:
        service.start()
        wait_for(lambda: service.health()[0] == 200)
        path = service.drop / "rapat.md"
        with path.open("w", encoding="utf-8") as handle:
            handle.write("---\n")
            handle.flush()  # then a pause longer than anything feeder waits for
            wait_for(lambda: "rejected rapat.md" in service.log())
            handle.write("title: Rapat Pleno\n---\n\nIsi berita.\n")
        wait_for(lambda: "Rapat Pleno" in service.titles())
        assert not (tmp_path / "rejected" / "rapat.md").exists()
        assert not (tmp_path / "rejected" / "rapat.md.why.txt").exists()
        assert "rapat.md changed after it was rejected" in service.log()
    finally:
        service.kill()


# 7. Every name is accounted for --------------------------------------------------------------

def test_a_fifo_and_an_unreadable_file_are_listed_and_nothing_hangs(tmp_path: Path) -> None:
    service = RunningService(tmp_path, preexec=without_root_override)
    try:
        service.start()
        wait_for(lambda: service.health()[0] == 200)
        os.mkfifo(service.drop / "pipa.txt")
        secret = service.drop / "tertutup.txt"
        secret.write_text(article("Berita Tertutup"), encoding="utf-8")
        secret.chmod(0)
        service.drop_file("baru.txt", article("Berita Baru"))
        wait_for(lambda: service.titles() == {"Berita Baru"})
        wait_for(lambda: service.metric("feeder_unreadable_files") == 2)
        status = service.command("status").stdout
        assert "pipa.txt: a FIFO (named pipe), not a file" in status
        assert "tertutup.txt: permission denied" in status
        secret.chmod(0o644)  # readable now: picked up on its own
        wait_for(lambda: "Berita Tertutup" in service.titles())
        assert service.metric("feeder_unreadable_files") == 1
        assert service.log().count("cannot read pipa.txt") == 1
    finally:
        service.kill()


def test_links_devices_folders_named_like_files_and_unlistable_folders_are_accounted_for(
        tmp_path: Path) -> None:
    service = RunningService(tmp_path, preexec=without_root_override, rebuild_interval=1.0)
    service.drop_file("sub/lama.txt", article("Berita Lama"))
    try:
        service.start()
        wait_for(lambda: service.titles() == {"Berita Lama"})
        (service.drop / "hilang.txt").symlink_to(tmp_path / "tidak-ada.txt")  # dangling
        (service.drop / "putar.txt").symlink_to("putar.txt")  # a loop
        try:
            os.mknod(service.drop / "alat.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
            device = True
        except PermissionError:
            device = False
        service.drop_file("folder.md/isi.txt", article("Berita Dalam"))
        (service.drop / "sub").chmod(0)  # its file cannot be listed: not the same as gone
        wait_for(lambda: service.titles() == {"Berita Lama", "Berita Dalam"})
        wanted = ["sub/: the folder cannot be listed: permission denied",
                  "folder.md: a folder named like an article file"]
        wanted += ["alat.txt: a device, not a file"] if device else []
        wait_for(lambda: all(w in service.command("status").stdout for w in wanted))
        for name in ("hilang.txt", "putar.txt"):
            wait_for(lambda name=name: (tmp_path / "rejected" / name).is_symlink())
            assert "symbolic link" in (tmp_path / "rejected" / f"{name}.why.txt").read_text(
                "utf-8")
        scans = service.metric("feeder_scans_total")
        wait_for(lambda: service.metric("feeder_scans_total") >= scans + 3)
        # Several rescans later: still there, logged once, nothing retracted.
        assert service.titles() == {"Berita Lama", "Berita Dalam"}
        assert service.log().count("cannot read sub/") == 1
    finally:
        (service.drop / "sub").chmod(0o755)
        service.kill()


# 8. One odd name never holds up the others, nor forges a log line ---------------------------

def test_an_invalid_utf8_name_in_a_burst_delays_nothing(service: RunningService,
                                                         tmp_path: Path) -> None:
    service.start()
    wait_for(lambda: service.health()[0] == 200)
    staging = tmp_path / "staging"
    staging.mkdir()
    titles = {f"Berita {n}" for n in range(30)}
    for n in range(30):
        (staging / f"b{n:02}.txt").write_text(article(f"Berita {n}"), encoding="utf-8")
    bad = os.fsencode(staging) + b"/rusak-\xff\xfe.txt"
    with open(bad, "wb") as handle:
        handle.write(article("Nama Rusak").encode())
    (staging / "baris\nrejected palsu.txt").write_text(article("Nama Dua Baris"),
                                                       encoding="utf-8")
    for name in sorted(os.listdir(os.fsencode(staging))):  # the burst: renamed in at once
        os.rename(os.fsencode(staging) + b"/" + name, os.fsencode(service.drop) + b"/" + name)
    # Read within seconds, in the same batches, not at the next safety-net scan.
    wait_for(lambda: service.titles() == titles | {"Nama Dua Baris"}, timeout=5)
    wait_for(lambda: os.path.exists(os.fsencode(tmp_path) + b"/rejected/rusak-\xff\xfe.txt"))
    log = service.log()
    assert "not valid UTF-8" in log
    assert "baris\\nrejected palsu.txt: 1 article(s)" in log  # escaped, on its own line
    assert not [line for line in log.splitlines() if line.startswith("rejected palsu")]
    assert "UnicodeEncodeError" not in log and "Traceback" not in log


def test_a_200_level_folder_tree_floods_neither_the_log_nor_the_feeds(
        tmp_path: Path) -> None:
    # watchdog walks a new tree once per level it learns of, which can hold its events up
    # for seconds; the safety-net rescan (every second here) does not wait for it.
    service = RunningService(tmp_path, rebuild_interval=1.0)
    try:
        _deep_tree(service)
    finally:
        service.kill()


def _deep_tree(service: RunningService) -> None:
    service.start()
    wait_for(lambda: service.health()[0] == 200)
    folder = os.open(service.drop, os.O_RDONLY)
    for _ in range(200):  # longer than PATH_MAX in all: built one level at a time
        os.mkdir("lapisan" * 5, dir_fd=folder)
        inner = os.open("lapisan" * 5, os.O_RDONLY, dir_fd=folder)
        os.close(folder)
        folder = inner
    handle = os.open("dalam.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=folder)
    os.write(handle, article("Berita Dalam").encode())
    os.close(handle)
    os.close(folder)
    service.drop_file("atas.txt", article("Berita Atas"))
    wait_for(lambda: "Berita Atas" in service.titles())
    wait_for(lambda: "nested more than" in service.command("status").stdout)
    assert service.titles() == {"Berita Atas"}
    assert service.log_path.stat().st_size < 200_000
    assert "already exists" not in service.log()


def test_folders_nested_too_deep_are_listed_not_walked(tmp_path: Path) -> None:
    deep = tmp_path / "drop" / "/".join(["d"] * (MAX_DEPTH + 3))
    deep.mkdir(parents=True)
    (deep / "a.txt").write_text("x", encoding="utf-8")
    listing = DropFolder(tmp_path / "drop").walk()
    assert listing.files == []
    assert list(listing.unlistable.values()) == [
        f"folders nested more than {MAX_DEPTH} deep are not read"]


def test_watchdog_warnings_are_rate_limited() -> None:
    now = [0.0]
    limit = _RateLimit(burst=3, period=60.0, clock=lambda: now[0])
    records = [logging.LogRecord("watchdog", logging.WARNING, "", 0, "cannot watch %s",
                                 (n,), None) for n in range(10)]
    assert [limit.filter(r) for r in records] == [True] * 3 + [False] * 7
    now[0] = 61.0
    assert limit.filter(records[0])
    assert "7 similar message(s) left out" in records[0].getMessage()


def test_names_are_logged_escaped() -> None:
    assert shown("baris\nbaru.txt") == "baris\\nbaru.txt"
    assert shown(os.fsdecode(b"rusak-\xff.txt")) == "rusak-\\xff.txt"
    assert shown("\x1b[31mmerah") == "\\x1b[31mmerah"
    assert shown("Berita Satu — ok") == "Berita Satu — ok"


# 9. /healthz says what is wrong; a failed build is retried within seconds --------------------

def test_healthz_turns_503_with_a_read_only_output_folder_and_recovers(
        tmp_path: Path) -> None:
    service = RunningService(tmp_path, preexec=without_root_override)
    try:
        service.start()
        wait_for(lambda: service.health()[0] == 200)
        service.output.chmod(0o555)
        service.drop_file("a.txt", article("Berita Satu"))
        wait_for(lambda: service.health()[0] == 503)
        problems = wait_for(lambda: {"output", "build"} <= set(
            body := service.health()[1]["problems"]) and body)
        assert "cannot be written" in problems["output"]
        assert service.metric("feeder_build_failures_total") >= 1
        service.output.chmod(0o755)
        # Back within seconds: the retry (1, 2, 4 ... s), not the 60 s safety net.
        wait_for(lambda: service.titles() == {"Berita Satu"}, timeout=8)
        wait_for(lambda: service.health()[0] == 200, timeout=4)
    finally:
        service.output.chmod(0o755)
        service.kill()


def test_a_deleted_output_folder_is_written_again_within_seconds(
        service: RunningService) -> None:
    service.drop_file("a.txt", article("Berita Satu"))
    service.start()
    wait_for(lambda: service.titles() == {"Berita Satu"})
    # Gone at once (a build may be writing into it: removing it file by file would race).
    gone = service.output.with_name("out-gone")
    service.output.rename(gone)
    shutil.rmtree(gone)
    # Found by the folder check (every 2 s), not the 60 s safety net.
    wait_for(lambda: service.titles() == {"Berita Satu"}, timeout=6)
    assert (service.output / "index.html").exists()


# 10. Folders given on the command line keep everything away from the config's folder ---------

def test_rejected_files_go_beside_the_drop_folder_given_on_the_command_line(
        tmp_path: Path) -> None:
    before = _checkout_rejected()
    service = RunningService(tmp_path, config=ROOT / "config.toml", args=[
        "--drop-dir", "drop", "--output-dir", "out", "--state-dir", "state", "--port", "0"])
    try:
        service.start()
        service.drop_file("b.pdf", "%PDF")
        wait_for(lambda: (tmp_path / "rejected" / "b.pdf.why.txt").exists())
    finally:
        service.kill()
    assert _checkout_rejected() == before


def _checkout_rejected() -> set[Path]:
    return {p for folder in (ROOT / "rejected", ROOT / "examples" / "rejected")
            for p in folder.rglob("*")}


def test_rejected_dir_on_the_command_line(tmp_path: Path) -> None:
    service = RunningService(tmp_path, args=["--rejected-dir", "elsewhere/ditolak"])
    try:
        service.start()
        service.drop_file("b.pdf", "%PDF")
        wait_for(lambda: (tmp_path / "elsewhere" / "ditolak" / "b.pdf").exists())
    finally:
        service.kill()
    assert not (tmp_path / "rejected").exists()
