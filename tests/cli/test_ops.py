"""What operators meet: logs, import with progress, metrics, the systemd unit."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from feeder import metrics
from feeder.cli import main
from tests.support import ROOT, SAMPLES, Drop, read_feed


def folders(tmp_path: Path) -> list[str]:
    return ["--drop-dir", str(tmp_path / "drop"), "--output-dir", str(tmp_path / "out"),
            "--state-dir", str(tmp_path / "state")]


def feeder(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feeder", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=60, env={**os.environ})


def test_json_logs_are_one_object_a_line(tmp_path: Path, drop: Drop) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    (tmp_path / "c.toml").write_text('[service]\nlog_format = "json"\n', encoding="utf-8")
    done = feeder("build", "--config", str(tmp_path / "c.toml"), *folders(tmp_path),
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= lines[0].keys()
    assert any(line["level"] == "WARNING" and "Kamis (5/12)" in line["message"]
               for line in lines)


def test_text_logs_by_default(tmp_path: Path, drop: Drop) -> None:
    drop("jul.txt", sample="kpu-semarang-jul.txt")
    done = feeder("build", *folders(tmp_path), cwd=tmp_path)
    assert "INFO    feeder.ingest.ingestor: jul.txt: 6 article(s)" in done.stderr


def test_import_copies_and_publishes_with_progress_lines(tmp_path: Path) -> None:
    source = tmp_path / "arsip"
    for n in range(120):
        (source / f"{n // 50}").mkdir(parents=True, exist_ok=True)
        (source / f"{n // 50}" / f"berita-{n}.txt").write_text(f"Berita {n}\n\nIsi {n}.")
    (source / ".swp").write_text("ignored")
    done = feeder("import", str(source), *folders(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "copied 120 file(s)" in done.stdout
    assert "reading " in done.stderr and "120/120" in done.stderr  # not a terminal: log lines
    assert len(read_feed(tmp_path / "out" / "rss.xml").entries) == 50
    assert not list((tmp_path / "drop").rglob(".*importing"))


def test_import_of_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["import", str(tmp_path / "nope"), *folders(tmp_path)]) == 2


def test_progress_bar_on_a_terminal() -> None:
    from feeder.progress import Progress

    class Terminal:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

    screen = Terminal()
    bar = Progress(4, "reading", stream=screen)  # type: ignore[arg-type]
    for done in range(1, 5):
        bar(done)
    bar.close()
    assert screen.text.endswith(f"\rreading [{'#' * 30}] 4/4\n")


def test_metrics_count_files_rejections_and_rebuilds(tmp_path: Path, drop: Drop) -> None:
    def value(name: str) -> float:
        _, _, body = metrics.exposition()
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if sample.name == name:
                    return sample.value
        return 0.0

    before = {n: value(n) for n in ("feeder_files_seen_total", "feeder_files_rejected_total",
                                     "feeder_rebuild_seconds_count")}
    drop("a.txt", "Judul\n\nIsi.")
    drop("b.pdf", b"%PDF")
    main(["build", *folders(tmp_path)])
    assert value("feeder_files_seen_total") == before["feeder_files_seen_total"] + 1
    assert value("feeder_files_rejected_total") == before["feeder_files_rejected_total"] + 1
    assert value("feeder_rebuild_seconds_count") == before["feeder_rebuild_seconds_count"] + 1
    assert value("feeder_last_build_timestamp_seconds") > 0


def test_systemd_unit_runs_feeder_with_a_config() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "contrib" / "feeder.service")
    service = unit["Service"]
    assert " run --config " in service["ExecStart"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["LimitNOFILE"]) >= 8192  # not systemd's 1,024
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize("page", ["kpu-semarang-dec.txt"])
def test_check_needs_no_store(page: str, tmp_path: Path) -> None:
    done = feeder("check", str(SAMPLES / page), "--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    assert done.returncode == 0
    assert not (tmp_path / "s").exists()
