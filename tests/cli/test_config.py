"""The documented configuration and how bad configuration is reported."""

from __future__ import annotations

import re
import socket
import tomllib
from pathlib import Path

import pytest

from feeder.config import SETTINGS, load_config
from feeder.errors import ConfigError
from tests.support import ROOT

CONFIG = ROOT / "config.toml"
SHOWN_UNSET = re.compile(r"# [a-z_]+ = ")


def test_every_setting_is_in_config_toml_with_a_comment() -> None:
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    section = ""
    documented = set()
    for number, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip("[]") + "."
        elif "=" in line and (not line.startswith("#") or SHOWN_UNSET.match(line)):
            # A setting left unset on purpose is shown commented out, with an example.
            key = section + line.removeprefix("# ").split("=")[0].strip()
            assert lines[number - 1].startswith("#"), f"{key} has no comment above it"
            documented.add(key)
    assert {s.key for s in SETTINGS} <= documented


def test_shipped_config_loads_and_resolves_paths_beside_itself() -> None:
    config = load_config(CONFIG)
    assert config.drop_dir == ROOT / "examples" / "drop"
    assert config.site_timezone == "Asia/Jakarta" and config.feed_max_entries == 50
    assert config.site_language == "id"


def test_defaults_match_the_shipped_values_where_both_exist() -> None:
    shipped = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    for setting in SETTINGS:
        section, _, name = setting.key.rpartition(".")
        value = shipped.get(section, {}).get(name) if section else shipped.get(name)
        if section != "site" or name in ("language", "timezone"):
            assert value == setting.default, setting.key
    assert "base_url" not in shipped["site"]  # unset: links follow where feeder is served


def test_base_url_unset_follows_the_server_address(tmp_path: Path) -> None:
    assert load_config(CONFIG).url("rss.xml") == "http://127.0.0.1:8080/rss.xml"
    assert load_config(CONFIG, {"server.port": 9000}).url() == "http://127.0.0.1:9000/"
    path = tmp_path / "c.toml"
    path.write_text("[site]\nbase_url = ''\n[server]\nhost = '::1'\nport = 80\n",
                    encoding="utf-8")
    assert load_config(path).url("atom.xml") == "http://[::1]/atom.xml"
    # Every interface is no address a reader can open: the machine's name stands in.
    path.write_text("[server]\nhost = '0.0.0.0'\nport = 9000\n", encoding="utf-8")
    assert load_config(path).url() == f"http://{socket.gethostname()}:9000/"
    # A port of 0 is learnt once listening; links then follow it. A set base_url stays.
    assert load_config(path, {"server.port": 0}).served_at(8123).url() == (
        f"http://{socket.gethostname()}:8123/")
    path.write_text("[site]\nbase_url = 'https://example.org/'\n", encoding="utf-8")
    assert load_config(path).served_at(8123).url() == "https://example.org/"


@pytest.mark.parametrize(("text", "message"), [
    ("[feed]\nmax_entries = 'many'", "feed.max_entries: must be int"),
    ("[feed]\nmax_entries = 0", "feed.max_entries: must be at least 1"),
    ("[site]\ntimezone = 'Mars/Olympus'", "site.timezone: unknown time zone"),
    ("[site]\nbase_url = 'example.org'", "site.base_url: must be an absolute http(s) URL"),
    ("[site]\ntitel = 'x'", "site.titel: unknown setting"),
    ("[server]\nport = 70000", "server.port: must be at most 65535"),
    ("[service]\npolling = 'yes'", "service.polling: must be bool"),
    ("[authors]\nana = 3", "authors: must be a table"),
    ("drop_dir = ''", "drop_dir: must be a non-empty path"),
    ("[feed\nmax_entries = 3", "not valid TOML"),
])
def test_bad_config_names_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert message in str(raised.value)


def test_base_url_gets_a_trailing_slash(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[site]\nbase_url = 'https://example.org/berita'", encoding="utf-8")
    assert load_config(path).url("rss.xml") == "https://example.org/berita/rss.xml"
