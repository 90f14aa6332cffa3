"""Atomic writes into the output folder: readers see the old file or the new one, never half.

Each file goes to a temporary file in the same folder, is flushed and fsynced, given normal
read permissions (``mkstemp`` makes it 0600, which a web server in front could not read),
and renamed over the old one; then the folder itself is fsynced so the rename survives.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from feeder.errors import BuildError

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def safe_join(root: Path, relative: str) -> Path:
    """*root*/*relative*, refusing anything that would land outside *root*."""
    target = (root / relative).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise BuildError(f"refusing to write outside {root}: {relative!r}")
    return target


def write_if_changed(root: Path, relative: str, data: bytes) -> bool:
    """Write *data* to *root*/*relative* atomically unless it is already there."""
    target = safe_join(root, relative)
    try:
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return True


def remove(root: Path, relative: str) -> bool:
    target = safe_join(root, relative)
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(target.parent)
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
