"""Configuration: one table of defaults, read from TOML, validated key by key.

Relative paths in a config file are resolved against the file's folder, so the service
behaves the same whatever directory it is started from.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeder.address import served_url
from feeder.errors import ConfigError
from feeder.language import language


@dataclass(frozen=True)
class Setting:
    key: str  # dotted TOML key, e.g. "site.title"
    default: Any
    help: str
    kind: type = str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def attr(self) -> str:
        return self.key.replace(".", "_")


# The single source of defaults: validation, `--help` and the docs test are built from it.
SETTINGS: tuple[Setting, ...] = (
    Setting("drop_dir", "examples/drop", "Folder watched for article files.", Path),
    Setting("output_dir", "feeds", "Folder the feeds and pages are written to.", Path),
    Setting("state_dir", "state", "Folder holding the SQLite store.", Path),
    Setting("rejected_dir", "", "Folder unparseable files are moved to; empty: a folder named "
            "rejected beside the drop folder.", Path),
    Setting("site.title", "feeder", "Title of the feeds and the index page."),
    Setting("site.description", "", "Description of the feeds; empty: \"Latest articles\" in "
            "the site's language."),
    Setting("site.language", "id", "Language code of the articles (BCP 47)."),
    Setting("site.base_url", "", "Public URL of the output folder; empty: where feeder serves "
            "it, http://HOST:PORT/ of server.host and server.port."),
    Setting("site.timezone", "Asia/Jakarta", "Time zone for dates that carry none (IANA name)."),
    Setting("site.icon", "", "Image for the favicon and the feeds' icons (PNG, JPEG, …; "
            "square is best); empty: feeder's own."),
    Setting("feed.max_entries", 50, "How many entries each feed holds.", int, 1),
    Setting("feed.archive_after_days", 7, "Days after a month ends (in the site's time zone) "
            "before its archive page says it is complete: files may still arrive late.", int,
            0, 27),
    Setting("on_delete", "retract", "What deleting a file does to its entries: \"retract\" "
            "or \"keep\"."),
    Setting("processes", 0, "Processes that parse and render large imports and bursts; 0: "
            "one per core.", int, 0),
    Setting("parse.future_tolerance_hours", 36, "How far ahead of a file's arrival an inferred "
            "date may lie.", int, 0),
    Setting("parse.max_file_bytes", 10_000_000, "Files larger than this are rejected unread.",
            int, 1),
    Setting("images.max_bytes", 5_000_000, "Images larger than this are rejected.", int, 1),
    Setting("websub.hub", "", "WebSub hub URL to ping after each change; empty: none."),
    Setting("server.host", "127.0.0.1", "Address the HTTP server binds to."),
    Setting("server.port", 8080, "Port the HTTP server listens on.", int, 0),
    Setting("server.cache_control", "public, max-age=60", "Cache-Control header for feeds."),
    Setting("server.idle_timeout", 5.0, "Seconds an idle connection is kept open.", float,
            0.1),
    Setting("server.header_timeout", 10.0, "Seconds a client has to send a request's headers "
            "(then 408).", float, 0.1),
    Setting("server.max_header_bytes", 16384, "Largest request line and headers accepted "
            "(larger: 431).", int, 1024),
    Setting("server.max_connections", 0, "Open connections at most; 0: as many as the "
            "descriptor limit leaves room for.", int, 0),
    Setting("service.rebuild_interval", 60.0, "Seconds between safety-net rescans and rebuilds.",
            float, 1),
    Setting("service.settle_seconds", 0.1, "A file must be unchanged this long before it is "
            "read.", float, 0),
    Setting("service.close_wait_seconds", 5.0, "A file still open for writing is read once "
            "closed, or once quiet this long.", float, 0),
    Setting("service.empty_seconds", 5.0, "An empty file waits this long for its writer "
            "before it is rejected.", float, 0),
    Setting("service.polling", False, "Use polling instead of inotify (network filesystems).",
            bool),
    Setting("service.log_level", "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting("service.log_format", "text", "\"text\" for people, \"json\" for collectors."),
)
_BY_KEY = {s.key: s for s in SETTINGS}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ON_DELETE = ("retract", "keep")


@dataclass(frozen=True)
class Config:
    drop_dir: Path
    output_dir: Path
    on_delete: str
    processes: int
    state_dir: Path
    rejected_dir: Path
    site_title: str
    site_description: str
    site_language: str
    site_base_url: str
    site_timezone: str
    site_icon: str
    feed_max_entries: int
    feed_archive_after_days: int
    parse_future_tolerance_hours: int
    parse_max_file_bytes: int
    images_max_bytes: int
    websub_hub: str
    server_host: str
    server_port: int
    server_cache_control: str
    server_idle_timeout: float
    server_header_timeout: float
    server_max_header_bytes: int
    server_max_connections: int
    service_rebuild_interval: float
    service_settle_seconds: float
    service_close_wait_seconds: float
    service_empty_seconds: float
    service_polling: bool
    service_log_level: str
    service_log_format: str
    authors: Mapping[str, str] = field(default_factory=dict)
    # Per-source feed metadata, by source key (e.g. "kota-semarang.kpu.go.id").
    sources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Per drop-subfolder settings ("source", "on_delete"), by folder name.
    folders: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Category name → keywords; an article mentioning any keyword gets the category as a tag.
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # True when site.base_url is unset and site_base_url is worked out from the server's
    # address (see served_url), so links follow wherever feeder is served.
    base_url_derived: bool = False

    def on_delete_for(self, relative: str) -> str:
        """``keep`` or ``retract`` for a file at *relative* (POSIX) in the drop folder."""
        folder = subfolder(relative)
        return self.folders.get(folder, {}).get("on_delete", self.on_delete) if folder else (
            self.on_delete)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site_timezone)

    @property
    def store_path(self) -> Path:
        return self.state_dir / "feeder.sqlite3"

    @property
    def media_dir(self) -> Path:
        """Cleaned images waiting to be published, named by their content."""
        return self.state_dir / "media"

    def url(self, path: str = "") -> str:
        """Absolute URL of a path under the output folder."""
        return self.site_base_url + path.lstrip("/")

    def served_at(self, port: int) -> Config:
        """This configuration as published by a server that answers on *port* of
        ``server.host``: with ``site.base_url`` unset, the links point there. (A server
        told to take any free port, 0, learns its port only once it is listening.)"""
        if not self.base_url_derived:
            return self
        return replace(self, server_port=port, site_base_url=served_url(self.server_host, port))


def subfolder(relative: str) -> str | None:
    """The drop subfolder a file at *relative* (POSIX, in the drop folder) is in, whose
    name is its source and whose ``[folders."NAME"]`` settings apply; None at the top.

    >>> subfolder("kendal/2025/rapat.txt"), subfolder("rapat.txt")
    ('kendal', None)
    """
    return relative.split("/", 1)[0] if "/" in relative else None


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read *path* (or only the defaults), apply *overrides* (dotted keys), validate.

    >>> load_config(None, {"feed.max_entries": 10}).feed_max_entries
    10
    """
    raw: dict[str, Any] = {}
    base = Path.cwd()
    where = None
    if path is not None:
        where = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("--config", f"no such file: {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError("(file)", f"not valid TOML: {exc}", where) from None
        base = Path(path).resolve().parent
    values = _flatten(raw, where)
    tables = {name: values.pop(name, {}) for name in TABLES}
    unknown = sorted(set(values) - set(_BY_KEY))
    if unknown:
        raise ConfigError(unknown[0], "unknown setting", where)
    checked = {s.attr: _check(s, values.get(s.key, s.default), where) for s in SETTINGS}
    for key, value in (overrides or {}).items():
        if value is not None:
            checked[_BY_KEY[key].attr] = _check(_BY_KEY[key], value, "command line")
    for s in SETTINGS:
        if s.kind is Path and checked[s.attr] is not None:
            # Command-line paths are relative to where the command runs, like any CLI's.
            origin = Path.cwd() if (overrides or {}).get(s.key) is not None else base
            checked[s.attr] = (origin / checked[s.attr]).resolve()
    if not checked["site_description"]:
        checked["site_description"] = language(checked["site_language"]).gettext(
            "Latest articles")
    if checked["site_icon"]:
        checked["site_icon"] = str((base / checked["site_icon"]).resolve())
    derived = not checked["site_base_url"]
    if derived:
        # Where `feeder run` with this configuration answers; it corrects the port once
        # listening, should it be 0 (see Config.served_at).
        checked["site_base_url"] = served_url(checked["server_host"], checked["server_port"])
    if checked["rejected_dir"] is None:
        # Beside the drop folder, wherever that is: a --drop-dir elsewhere never leaves
        # rejected files beside the config file.
        checked["rejected_dir"] = checked["drop_dir"].parent / "rejected"
    return Config(**checked, **tables, base_url_derived=derived)


def _flatten(raw: dict[str, Any], where: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TABLES:
            out[key] = _table(key, value, where)
        elif isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


# Free-form tables: name → the keys each entry may have (None: the entry is a plain string).
TABLES: dict[str, frozenset[str] | None] = {
    "authors": None,
    "categories": None,
    "sources": frozenset({"title", "description", "link", "language"}),
    "folders": frozenset({"source", "on_delete"}),
}


def _table(name: str, value: Any, where: str | None) -> dict[str, Any]:
    allowed = TABLES[name]
    if not isinstance(value, dict):
        raise ConfigError(name, "must be a table", where)
    if name == "categories":
        for category, words in value.items():
            if not isinstance(words, list) or not all(isinstance(w, str) and w.strip()
                                                      for w in words):
                raise ConfigError(f"categories.{category}", "must be a list of keywords",
                                  where)
        return {k: tuple(w.strip() for w in v) for k, v in value.items()}
    if allowed is None:
        if not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(name, 'must be a table of initials = "Name"', where)
        return {k.lower(): v for k, v in value.items()}
    for entry, fields in value.items():
        if not isinstance(fields, dict):
            raise ConfigError(f"{name}.{entry}", "must be a table", where)
        for field_name, field_value in fields.items():
            key = f"{name}.{entry}.{field_name}"
            if field_name not in allowed:
                raise ConfigError(key, "unknown setting", where)
            if not isinstance(field_value, str):
                raise ConfigError(key, f"must be str, got {field_value!r}", where)
            if field_name == "on_delete":
                _check_meaning("on_delete", field_value, where, key)
    return {k.lower() if name == "sources" else k: dict(v) for k, v in value.items()}


def _check(setting: Setting, value: Any, where: str | None) -> Any:
    key, kind = setting.key, setting.kind
    if kind is Path:
        if key == "rejected_dir" and isinstance(value, str) and not value.strip():
            return None  # the default, worked out from the drop folder
        if not isinstance(value, str | Path) or not str(value).strip():
            raise ConfigError(key, "must be a non-empty path", where)
        return Path(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(key, f"must be {kind.__name__}, got {value!r}", where)
    if setting.minimum is not None and cast(float, value) < setting.minimum:
        raise ConfigError(key, f"must be at least {setting.minimum:g}, got {value!r}", where)
    if setting.maximum is not None and cast(float, value) > setting.maximum:
        raise ConfigError(key, f"must be at most {setting.maximum:g}, got {value!r}", where)
    return _check_meaning(key, value, where)


def _check_meaning(key: str, value: Any, where: str | None, name: str | None = None) -> Any:
    if key == "on_delete" and value not in ON_DELETE:
        raise ConfigError(name or key, f"must be one of {', '.join(ON_DELETE)}", where)
    if key == "site.timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(key, f"unknown time zone {value!r}", where) from None
    elif key == "site.base_url":
        if not value.strip():
            return ""  # unset: derived from the server's address
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(key, f"must be an absolute http(s) URL, got {value!r}", where)
        return value if value.endswith("/") else value + "/"
    elif key == "websub.hub" and value and urlsplit(value).scheme not in ("http", "https"):
        raise ConfigError(key, f"must be an http(s) URL or empty, got {value!r}", where)
    elif key == "service.log_level" and value.upper() not in LOG_LEVELS:
        raise ConfigError(key, f"must be one of {', '.join(LOG_LEVELS)}", where)
    elif key == "service.log_format" and value not in ("text", "json"):
        raise ConfigError(key, 'must be "text" or "json"', where)
    elif key == "server.port" and value > 65535:
        raise ConfigError(key, "must be at most 65535", where)
    return value
