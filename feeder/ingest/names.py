"""Which names in the drop folder are never articles: one rule for the watcher, the scan,
``feeder import`` and ``feeder check``."""

from __future__ import annotations

from pathlib import PurePosixPath

TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", ".temp", ".part", ".partial", ".crdownload",
                 ".download", ".bak")


def is_ignored(relative: str) -> bool:
    """Hidden files, editor swap/backup files and tools' temp names are never articles.

    >>> is_ignored("kendal/.rapat.txt.swp"), is_ignored("kendal/rapat.txt")
    (True, False)
    """
    parts = PurePosixPath(relative).parts
    name = parts[-1] if parts else ""
    return (
        not name
        or any(p.startswith(".") for p in parts)
        or name.endswith("~")
        or name.lower().endswith(TEMP_SUFFIXES)
        or (name.startswith("#") and name.endswith("#"))
        or name == "4913"  # vim's probe file
    )


def is_utf8(name: str) -> bool:
    """Whether a name (as os.fsdecode gave it) is text: undecodable bytes become surrogates."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str) -> str:
    """*name* with undecodable bytes shown as U+FFFD: for notes, logs and the store."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
