"""Atomic writes into the output folder: readers see the old file or the new one, never half.

Each file goes to a hidden temporary file in the same folder, created with normal read
permissions (``mkstemp`` would make it 0600, which a web server in front could not read),
is flushed and fsynced, and renamed over the old one; then the folder itself is fsynced so
the rename survives.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from feeder.errors import BuildError

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
_serial = itertools.count()
_TEMP = re.compile(r"\..+\.(\d+)\.\d+\.tmp")  # what write() names its files: .NAME.PID.N.tmp


def safe_join(root: Path, relative: str) -> Path:
    """*root*/*relative*, refusing anything that could land outside *root*.

    Checked by its parts rather than resolved on disk: the builder makes these names
    itself, so anything absolute or climbing out is a bug to stop, not a path to follow.
    """
    parts = PurePosixPath(relative).parts
    if (not parts or relative.startswith("/") or "\\" in relative or "\x00" in relative
            or any(p in ("..", ".") for p in parts)):
        raise BuildError(f"refusing to write outside {root}: {relative!r}")
    return root / relative


class Writer:
    """Atomic writes under one root; the folders' entries are fsynced once, in ``finish``.

    ``durable=True`` also fsyncs the file's data before the rename, for the feeds. Pages and
    images skip that (a kill -9 cannot lose data the kernel already has; only a power cut
    could, and `feeder build --force` rewrites them), which makes large builds many times
    faster.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[Path] = set()
        self._made: set[Path] = set()  # folders known to exist: one mkdir each, not per file
        self._staged: list[tuple[Path, Path]] = []  # temporary file, and the file it is for

    def write(self, relative: str, data: bytes, *, durable: bool = True) -> bool:
        """Write *data* to *relative* unless it is already there; True if written."""
        staged = self._stage(relative, data, durable)
        if staged is None:
            return False
        self._rename(*staged)
        return True

    def stage(self, relative: str, data: bytes, *, durable: bool = True) -> bool:
        """Write *data* beside *relative* now, to take its place at ``commit`` (unless it is
        already there; True if staged): a large build keeps what it made on disk rather than
        in memory until its turn comes."""
        staged = self._stage(relative, data, durable)
        if staged is not None:
            self._staged.append(staged)
        return staged is not None

    def commit(self) -> list[str]:
        """Put the staged files in place, in the order they were staged; their names."""
        names = []
        while self._staged:
            tmp, target = self._staged[0]
            self._rename(tmp, target)
            self._staged.pop(0)
            names.append(target.relative_to(self.root).as_posix())
        return names

    def discard(self) -> None:
        """Remove the staged files not committed (a build that failed)."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()

    def _stage(self, relative: str, data: bytes, durable: bool) -> tuple[Path, Path] | None:
        """The temporary file holding *data* and the file it is for, or None if that file
        holds *data* already."""
        target = safe_join(self.root, relative)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                return None
        except FileNotFoundError:
            pass
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{next(_serial)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, target

    def _rename(self, tmp: Path, target: Path) -> None:
        try:
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._folders.add(target.parent)

    def remove(self, relative: str) -> bool:
        target = safe_join(self.root, relative)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        self._folders.add(target.parent)
        return True

    def finish(self) -> None:
        """Make the renames and removals durable."""
        for folder in sorted(self._folders):
            _fsync_dir(folder)
        self._folders.clear()


def write_if_changed(root: Path, relative: str, data: bytes) -> bool:
    """Write one file atomically and durably unless it is already there."""
    writer = Writer(root)
    written = writer.write(relative, data)
    writer.finish()
    return written


def problem(root: Path) -> str | None:
    """Why files cannot be written into *root* now, or None: a file is created and removed
    there (what a build does), and a disk with no room left is named as such."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe.{os.getpid()}.{next(_serial)}.tmp"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.close(fd)
        probe.unlink()
        room = os.statvfs(root)
    except OSError as exc:
        return f"the output folder {root} cannot be written: {exc.strerror or exc}"
    if room.f_bavail == 0:
        return f"the output folder {root} is on a full disk"
    return None


def remove_stale_temps(root: Path, running: Callable[[int], bool]) -> list[Path]:
    """Remove the temporary files under *root* that a killed writer left behind: those
    whose process is gone (another feeder may be writing the rest). The paths removed."""
    removed = []
    for folder, _, names in os.walk(root):
        for name in names:
            if (match := _TEMP.fullmatch(name)) and not running(int(match[1])):
                path = Path(folder, name)
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
