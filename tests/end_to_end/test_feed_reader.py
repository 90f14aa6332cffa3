"""A real terminal feed reader subscribes to the served sample feeds, as the README says.

Skipped only when newsboat is not installed; CI installs it (see .ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import NEWSBOAT, SAMPLES, RunningService

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(NEWSBOAT is None, reason="newsboat is not installed")]


@pytest.mark.parametrize("feed", ["rss.xml", "atom.xml", "sources/kota-semarang-kpu-go-id/rss.xml"])
def test_newsboat_reads_the_sample_feeds(tmp_path: Path, feed: str) -> None:
    service = RunningService(tmp_path)
    for sample in SAMPLES.glob("*.txt"):
        shutil.copyfile(sample, service.drop / sample.name)
    service.start()
    try:
        service.wait_built()
        urls = tmp_path / "urls"
        urls.write_text(service.url + feed + "\n", encoding="utf-8")
        assert NEWSBOAT is not None
        done = subprocess.run(
            [NEWSBOAT, "-u", str(urls), "-c", str(tmp_path / "cache.db"), "-x", "reload",
             "print-unread"], capture_output=True, text=True, timeout=60,
            env={**os.environ, "HOME": str(tmp_path)})
    finally:
        service.kill()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "12 unread articles"
