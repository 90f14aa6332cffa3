"""The command line, driven through its entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from feeder.article import Article
from feeder.cli import main
from feeder.config import Config
from feeder.ingest import Ingestor, preview
from feeder.store import Store
from tests.support import ARRIVAL, ROOT, photo, read_feed


def dirs(tmp_path: Path) -> list[str]:
    return ["--drop-dir", str(tmp_path / "drop"), "--output-dir", str(tmp_path / "out"),
            "--state-dir", str(tmp_path / "state")]


def test_build_publishes_the_drop_folder(tmp_path: Path, drop: Callable[..., Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    drop("dec.txt", sample="kpu-semarang-dec.txt")
    assert main(["build", *dirs(tmp_path)]) == 0
    assert "6 new" in capsys.readouterr().out
    assert len(read_feed(tmp_path / "out" / "atom.xml").entries) == 6
    assert main(["build", *dirs(tmp_path)]) == 0
    assert "nothing to write" in capsys.readouterr().out


def test_check_prints_articles_and_warnings(drop: Callable[..., Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # The file's arrival (its mtime) is set, never its checkout time.
    page = drop("kpu-semarang-dec.txt", sample="kpu-semarang-dec.txt")
    assert main(["check", str(page)]) == 0
    out = capsys.readouterr().out
    assert "6 article(s), 4 warning(s)" in out
    assert "KPU se-Jawa Tengah Diminta Perkuat Pengelolaan Informasi Publik" in out
    assert "by ana; Foto: awh/KPU Kota Semarang; Semarang" in out
    assert "kpu-semarang-dec.txt:17: date 'Kamis (4/12' lacks its closing parenthesis" in out


def test_check_exits_nonzero_for_a_file_that_would_be_rejected(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: [x\n---\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("Judul\n\nIsi.", encoding="utf-8")
    assert main(["check", str(good), str(bad), str(tmp_path / "missing.txt")]) == 1
    out = capsys.readouterr().out
    assert "good.txt: 1 article(s)" in out
    assert "bad.md: REJECTED: front matter is not valid YAML" in out
    assert "missing.txt: REJECTED" in out
    assert bad.exists()  # check never moves files


def test_bad_config_is_a_message_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[feed]\nmax_entries = -1\n", encoding="utf-8")
    assert main(["build", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "feed.max_entries: must be at least 1" in err
    assert "Traceback" not in err


def test_status_reports_store_and_rejections(tmp_path: Path, drop: Callable[..., Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    drop("a.txt", "Judul\n\nIsi.")
    drop("b.pdf", b"%PDF")
    main(["build", *dirs(tmp_path), "--config", str(ROOT / "config.toml")])
    capsys.readouterr()
    assert main(["status", *dirs(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "entries: 1; files: 1" in out
    assert "b.pdf: unsupported file type '.pdf'" in out


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("build", "check", "status", "run"):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        assert "--config" in capsys.readouterr().out


def test_json_feed_is_valid_json(tmp_path: Path, drop: Callable[..., Path]) -> None:
    drop("a.txt", "Judul <b>&amp;\n\nIsi & lainnya.")
    main(["build", *dirs(tmp_path)])
    feed = json.loads((tmp_path / "out" / "feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["title"] == "Judul <b>&amp;"
    assert feed["items"][0]["content_html"] == "<p>Isi &amp; lainnya.</p>"


# feeder check shows what ingest stores -----------------------------------------------------

def test_check_shows_exactly_what_ingest_stores(drop: Callable[..., Path], config: Config,
                                                store: Store,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Source (the subfolder's, a forced one, a file's own), topics from the configured
    categories, images beside a file and referenced by Markdown: the same from both."""
    config = replace(config, categories={"Pemilih": ("pemilih",)},
                     folders={"arsip": {"source": "arsip-lama"}})
    files = [
        drop("kab-kendal.kpu.go.id/rapat.txt", "Rapat Pleno Daftar Pemilih\n\n"
             "Kendal - KPU menggelar rapat pleno daftar pemilih tetap.\n"),
        drop("kab-kendal.kpu.go.id/rapat.jpg", photo()),
        drop("arsip/lama.txt", "Sosialisasi Tahapan\n\nKPU menyosialisasikan tahapan.\n"),
        drop("atas.md", "---\ntitle: Bimtek PPK\nsource: kpu-jateng\n---\n\n"
             "Bimbingan teknis bagi pemilih pemula.\n\n![foto](gambar/bimtek.png)\n"),
        drop("gambar/bimtek.png", photo("PNG")),
        drop("kpu-semarang-dec.txt", sample="kpu-semarang-dec.txt"),
    ]
    Ingestor(store, config).scan()
    stored = {a.key: a for a in store.newest(-1, ARRIVAL + timedelta(days=400))}
    checked = {a.key: a for path in files if path.suffix in (".txt", ".md")
               for a in preview(path, config).articles}
    assert len(stored) == 9

    def shown(article: Article) -> tuple[object, ...]:
        return (article.title, article.published, article.source, article.tags,
                article.image, article.content_html)

    assert {k: shown(a) for k, a in checked.items()} == {k: shown(a) for k, a in stored.items()}
    sources = {a.title: (a.source, a.tags, bool(a.image)) for a in stored.values()}
    assert sources["Rapat Pleno Daftar Pemilih"] == ("kab-kendal.kpu.go.id", ("Pemilih",), True)
    assert sources["Sosialisasi Tahapan"] == ("arsip-lama", (), False)
    assert sources["Bimtek PPK"] == ("kpu-jateng", ("Pemilih",), True)
    # And the command prints them.
    config_file = config.state_dir.parent / "feeder.toml"
    config_file.write_text(f'drop_dir = "{config.drop_dir}"\nstate_dir = "{config.state_dir}"\n'
                           '[categories]\nPemilih = ["pemilih"]\n', encoding="utf-8")
    assert main(["check", "--config", str(config_file), str(files[0])]) == 0
    out = capsys.readouterr().out
    assert "kab-kendal.kpu.go.id; topics: Pemilih; image: images/" in out


def test_check_stores_moves_and_rejects_nothing(tmp_path: Path, config: Config,
                                                drop: Callable[..., Path]) -> None:
    page = drop("berita.txt", "Judul Berita\n\nIsi berita.\n")
    drop("berita.jpg", b"not an image")  # ingest would reject it
    seen = preview(page, config)
    assert [a.title for a in seen.articles] == ["Judul Berita"]
    assert seen.articles[0].image is None
    assert any("berita.jpg: would be rejected" in p for p in seen.problems)
    assert (config.drop_dir / "berita.jpg").exists()
    assert not config.media_dir.exists() or not any(config.media_dir.iterdir())
    assert not config.rejected_dir.exists() or not any(config.rejected_dir.iterdir())
