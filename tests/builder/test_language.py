"""The interface speaks the site's language: every string in one catalogue per language."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from lxml import html

from feeder import publish
from feeder.config import Config
from feeder.ingest import Ingestor
from feeder.language import language, languages
from feeder.store import Store
from tests.support import JAKARTA, ROOT, Drop, read_json_feed


def interface_strings() -> set[str]:
    """Every string the templates and the code mark for translation."""
    found = extract_from_dir(
        ROOT / "feeder",
        method_map=[("templates/**.j2", "jinja2"), ("**.py", "python")],
        options_map={"templates/**.j2": {"extensions": "jinja2.ext.i18n"}})
    return {message if isinstance(message, str) else message[0]
            for _, _, message, _, _ in found}


def test_every_interface_string_is_translated_in_every_catalogue() -> None:
    strings = interface_strings()
    assert {"Latest articles", "Follow in a feed reader:", "All articles"} <= strings
    assert languages() == ["id"]
    for code in languages():
        translations = language(code).translations
        missing = sorted(s for s in strings if translations.gettext(s) == s
                         and s not in ("Photo:",))  # the same word in both languages
        assert not missing, (code, missing)


def test_dates_are_written_the_languages_way() -> None:
    when = datetime(2025, 12, 3, 10, 15, tzinfo=JAKARTA)
    assert language("id").moment(when) == "3 Desember 2025 10.15 WIB"
    assert language("id").date(when) == "3 Desember 2025"
    assert language("en").date(when) == "December 3, 2025"
    assert language("id-ID").gettext("Latest articles") == "Berita terbaru"
    assert language("xx").gettext("Latest articles") == "Latest articles"


@pytest.mark.parametrize(("code", "words"), [
    ("id", ["Ikuti lewat aplikasi pembaca umpan", "Sumber", "Berita terbaru", "Desember"]),
    ("en", ["Follow in a feed reader", "Sources", "Latest articles", "December"]),
])
def test_pages_and_feed_previews_speak_the_sites_language(
        drop: Drop, store: Store, config: Config, code: str, words: list[str]) -> None:
    config = replace(config, site_language=code)
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    drop("kendal/rapat.txt", "Rapat Pleno\n\nKendal – Rapat digelar Senin (1/12/2025). (bud)")
    Ingestor(store, config).scan()
    publish.build(store, config, now=datetime(2026, 1, 10, tzinfo=JAKARTA))
    index = html.fromstring((config.output_dir / "index.html").read_bytes())
    text = index.text_content()
    assert index.get("lang") == code
    for word in words:
        assert word in text, word
    css = (config.output_dir / "feed.css").read_text(encoding="utf-8")
    assert ("umpan web RSS" in css) == (code == "id")
    opml = (config.output_dir / "feeds.opml").read_text(encoding="utf-8")
    assert ("Semua berita" in opml) == (code == "id")


def test_icons_are_written_and_named_by_every_feed(
        drop: Drop, store: Store, config: Config) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    Ingestor(store, config).scan()
    publish.build(store, config, now=datetime(2026, 1, 10, tzinfo=JAKARTA))
    out = config.output_dir
    for name in ("favicon.ico", "icon.png", "icon-144.png", "favicon-64.png", "logo.png"):
        assert (out / name).stat().st_size > 100, name
    rss = (out / "rss.xml").read_text(encoding="utf-8")
    assert f"<url>{config.url('icon-144.png')}</url>" in rss
    atom = (out / "atom.xml").read_text(encoding="utf-8")
    assert f"<icon>{config.url('icon.png')}</icon>" in atom
    assert f"<logo>{config.url('logo.png')}</logo>" in atom
    feed = read_json_feed(out / "feed.json")
    assert (feed["icon"], feed["favicon"]) == (config.url("icon.png"),
                                               config.url("favicon-64.png"))
    assert all(item["author"] == item["authors"][0] for item in feed["items"])
    page = html.fromstring((out / "index.html").read_bytes())
    assert page.xpath("//link[@rel='icon']/@href") == [config.url("favicon.ico")]


def test_a_configured_icon_replaces_feeders_own(
        drop: Drop, store: Store, config: Config, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (300, 200), "navy").save(tmp_path / "logo-kpu.png")
    config = replace(config, site_icon=str(tmp_path / "logo-kpu.png"))
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    Ingestor(store, config).scan()
    publish.build(store, config, now=datetime(2026, 1, 10, tzinfo=JAKARTA))
    with Image.open(config.output_dir / "icon.png") as icon:
        assert icon.size == (512, 512)
        assert icon.convert("RGB").getpixel((256, 256)) == (0, 0, 128)
