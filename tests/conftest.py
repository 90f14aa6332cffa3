from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from feeder.config import Config, load_config
from feeder.store import Store
from tests.support import ARRIVAL, SAMPLES, RunningService, set_mtime

TRAVEL = Path(__file__).resolve().parent / "travel"


def pytest_configure(config: pytest.Config) -> None:
    """With ``FEEDER_TEST_DATE`` set (``make test-later``), the whole run, and every Python
    process it starts, lives at that date: a test that depends on today fails now, not on
    some future morning."""
    if os.environ.get("FEEDER_TEST_DATE"):
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(TRAVEL), os.environ.get("PYTHONPATH")]))
        import time_machine

        time_machine.travel(os.environ["FEEDER_TEST_DATE"], tick=True).start()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A configuration whose folders all live in a fresh temporary folder."""
    (tmp_path / "drop").mkdir()
    return load_config(None, {
        "drop_dir": tmp_path / "drop",
        "output_dir": tmp_path / "out",
        "state_dir": tmp_path / "state",
        "rejected_dir": tmp_path / "rejected",
    })


@pytest.fixture
def store(config: Config) -> Store:
    s = Store(config.store_path)
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def drop(config: Config) -> Callable[..., Path]:
    """Put a file into the drop folder: ``drop("a.txt", text_or_bytes, at=datetime)``."""

    def put(name: str, content: str | bytes | None = None, *, at: datetime = ARRIVAL,
            sample: str | None = None) -> Path:
        path = config.drop_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if sample is not None:
            shutil.copyfile(SAMPLES / sample, path)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content or b"")
        set_mtime(path, at)
        return path

    return put


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RunningService]:
    """``feeder run`` on folders in a fresh temporary folder, killed after the test if still
    running; ``service.start()`` starts it."""
    running = RunningService(tmp_path)
    yield running
    running.kill()
