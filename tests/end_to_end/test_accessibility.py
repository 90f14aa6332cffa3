"""Accessible pages in the site's language: axe-core, run inside headless Chromium on the
served site, finds no serious or critical violation on the index pages, an article page and
the feed previews; and what a person sees there is Indonesian.

Indonesian law asks public information services to be accessible to all citizens: this is
how the project shows it. Skipped only without a Chromium binary; CI installs one.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from feeder.cli import main
from feeder.serve.server import FeedServer, make_config
from tests.support import ARRIVAL, CHROMIUM, SAMPLES, set_mtime

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary installed")

playwright = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The samples and a second office, built and served on loopback."""
    tmp = tmp_path_factory.mktemp("a11y")
    drop, out = tmp / "drop", tmp / "out"
    (drop / "kendal").mkdir(parents=True)
    for sample in SAMPLES.glob("*.txt"):
        shutil.copyfile(sample, drop / sample.name)
        set_mtime(drop / sample.name, ARRIVAL)
    (drop / "kendal" / "rapat.txt").write_text(
        "Rapat Pleno Daftar Pemilih\n\nKendal – KPU menggelar rapat pleno, Senin (1/12/2025)."
        " (bud/ed. Foto: dok KPU Kendal)", encoding="utf-8")
    set_mtime(drop / "kendal" / "rapat.txt", ARRIVAL)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = tmp / "feeder.toml"
    config.write_text(f'[site]\nbase_url = "{base_url}"\nlanguage = "id"\n'
                      '[categories]\nPemilih = ["pemilih"]\n', encoding="utf-8")
    assert main(["build", "--config", str(config), "--drop-dir", str(drop),
                 "--output-dir", str(out), "--state-dir", str(tmp / "state")]) == 0
    server = uvicorn.Server(make_config(FeedServer(out), "127.0.0.1", sock.getsockname()[1]))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield base_url, out
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield chromium
        finally:
            chromium.close()


def pages(out: Path) -> list[str]:
    article = sorted((out / "articles").glob("*.html"))[0].relative_to(out).as_posix()
    source = next((out / "sources").glob("*/index.html")).relative_to(out).as_posix()
    topic = next((out / "tags").glob("*/index.html")).relative_to(out).as_posix()
    return ["index.html", source, topic, article, "rss.xml", "atom.xml"]


def test_axe_core_finds_no_serious_violation(served: tuple[str, Path], browser: object,
                                             tmp_path: Path) -> None:
    base_url, out = served
    axe = axe_playwright.Axe()
    page = browser.new_page()  # type: ignore[attr-defined]
    found = {}
    for name in pages(out):
        page.goto(base_url + name)
        page.screenshot(path=str(tmp_path / (name.replace("/", "_") + ".png")))
        violations = axe.run(page).response["violations"]
        found[name] = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in violations
                       if v["impact"] in SERIOUS]
    assert found == {name: [] for name in found}


@pytest.mark.parametrize(("name", "words"), [
    ("index.html", ["Ikuti lewat aplikasi pembaca umpan", "Berita terbaru", "Desember 2025"]),
    ("article", ["Juli 2025", "Foto:", "Umpan berita:"]),
    ("rss.xml", ["Ini adalah umpan web RSS", "Alamat umpan:"]),
])
def test_what_a_person_sees_is_indonesian(served: tuple[str, Path], browser: object,
                                          name: str, words: list[str]) -> None:
    base_url, out = served
    target = pages(out)[3] if name == "article" else name
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(base_url + target)
    # What Chromium lays out, including the feed preview's CSS-generated text.
    seen = page.evaluate("""() => {
        const parts = [document.body ? document.body.innerText : ''];
        for (const el of document.querySelectorAll('*')) {
            for (const pseudo of ['::before', '::after']) {
                const content = getComputedStyle(el, pseudo).content;
                if (content && content !== 'none' && content !== 'normal') parts.push(content);
            }
        }
        return parts.join('\\n');
    }""")
    for word in words:
        assert word in seen, (target, word)
    for english in ("Follow in a feed reader", "Latest articles", "This is an RSS web feed"):
        assert english not in seen
