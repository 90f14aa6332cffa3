"""The promises under real faults (issue #16): each case starts the real `feeder run`.

Grouped by the case of the issue they pin; each would fail on the code before the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.service import RunningService, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    running = RunningService(tmp_path)
    yield running
    running.kill()


def article(title: str, body: str = "Isi berita.") -> str:
    return f"{title}\n\n{body}\n"


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
