"""The drop folder, read without ever leaving it.

Every file feeder reads or moves is reached from the drop folder's own descriptor, one
folder at a time, refusing symbolic links at every step (``O_NOFOLLOW``, ``dir_fd``): a
subfolder swapped for a link to ``/etc`` leads nowhere, where checking only the last part
of a path, or resolving it and comparing, leaves a window for exactly that swap. The drop
folder's own path may be a link (it is the configured place); nothing under it may.

Only regular files are opened, never blocking (``O_NONBLOCK``: a FIFO swapped in after the
check cannot hang the service), and what was opened is checked to be what was listed.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from feeder.errors import DropFolderUnavailable
from feeder.parser import SUFFIXES as ARTICLE_SUFFIXES

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
# Deeper folders are listed as unreadable rather than walked: each level of the walk holds
# a descriptor open, and no real drop folder nests this deep.
MAX_DEPTH = 32


class NotAFile(OSError):
    """The name is there but is not a regular file feeder may read (a link, a FIFO, a
    device, a folder); ``reason`` says what it is, for the note or the listing."""

    def __init__(self, reason: str, *, link: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.link = link  # a symbolic link: moved to rejected/ (moving it moves only the link)


def kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


@dataclass
class Listing:
    """What a walk of the drop folder found."""

    files: list[str] = field(default_factory=list)  # regular files, root-relative POSIX
    stats: dict[str, os.stat_result] = field(default_factory=dict)  # of those files
    odd: dict[str, os.stat_result] = field(default_factory=dict)  # links, FIFOs, devices…
    unlistable: dict[str, str] = field(default_factory=dict)  # folder → why it can't be read

    def hides(self, relative: str) -> bool:
        """Could *relative* be there, in a folder that could not be listed?"""
        return any(relative.startswith(folder + "/") for folder in self.unlistable)


class DropFolder:
    """Reads, lists and moves files under *root*, never through a symbolic link."""

    def __init__(self, root: Path, skip: set[Path] | None = None) -> None:
        self.root = root
        # Folders inside the drop folder that are feeder's own (output, state, rejected).
        self._skip = skip or set()
        self._skip_ids: set[tuple[int, int]] = set()

    def identity(self) -> tuple[int, int]:
        """(device, inode) of the drop folder: it changes when the folder is replaced or a
        share is unmounted, which an empty listing alone cannot tell from deletion."""
        try:
            st = os.stat(self.root)
        except OSError as exc:
            raise DropFolderUnavailable(problem(self.root, exc)) from exc
        if not stat.S_ISDIR(st.st_mode):
            raise DropFolderUnavailable(f"the drop folder {self.root} is not a folder")
        return st.st_dev, st.st_ino

    def walk(self) -> Listing:
        """Every name under the drop folder, sorted; raises DropFolderUnavailable if the
        folder itself cannot be listed. Hidden names and feeder's own folders are left out."""
        listing = Listing()
        self._skip_ids = {ids for path in self._skip if (ids := _identity(path))}
        try:
            top = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise DropFolderUnavailable(problem(self.root, exc)) from exc
        try:
            self._walk(top, "", 0, listing)
        except OSError as exc:  # the top folder itself: nothing may be concluded
            raise DropFolderUnavailable(problem(self.root, exc)) from exc
        finally:
            os.close(top)
        listing.files.sort()
        return listing

    def _walk(self, fd: int, prefix: str, depth: int, listing: Listing) -> None:
        with os.scandir(fd) as entries:
            names = sorted((e.name, e) for e in entries if not e.name.startswith("."))
        for name, entry in names:
            relative = prefix + name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # gone since the listing
            if stat.S_ISREG(st.st_mode):
                listing.files.append(relative)
                listing.stats[relative] = st
            elif stat.S_ISDIR(st.st_mode):
                if PurePosixPath(name).suffix.lower() in ARTICLE_SUFFIXES:
                    listing.odd[relative] = st  # noted, and walked like any folder
                self._descend(fd, name, relative, st, depth + 1, listing)
            else:
                listing.odd[relative] = st

    def _descend(self, parent: int, name: str, relative: str, st: os.stat_result, depth: int,
                 listing: Listing) -> None:
        if depth > MAX_DEPTH:
            listing.unlistable[relative] = (f"folders nested more than {MAX_DEPTH} deep are "
                                            "not read")
            return
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            listing.unlistable[relative] = _why(exc)
            return
        try:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
                return  # swapped since the listing: the next scan sees what is there
            if (opened.st_dev, opened.st_ino) in self._skip_ids:
                return
            self._walk(fd, relative + "/", depth, listing)
        except OSError as exc:
            listing.unlistable[relative] = _why(exc)
        finally:
            os.close(fd)

    @contextmanager
    def folder(self, relative: str) -> Iterator[int]:
        """A descriptor of the folder holding *relative*, reached without following any
        link; FileNotFoundError if a part of the way is missing, NotAFile if a part is a
        link or not a folder."""
        with self._directory(_parts(relative)[:-1]) as fd:
            yield fd

    @contextmanager
    def _directory(self, parts: tuple[str, ...]) -> Iterator[int]:
        if len(parts) > MAX_DEPTH:  # as the walk: what it does not list is not read
            raise NotAFile(f"in a folder nested more than {MAX_DEPTH} deep; not read")
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts:
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise NotAFile(f"{part}/ in its path is not a folder but "
                                       f"{_kind_at(fd, part)}") from exc
                    raise
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def lstat(self, relative: str) -> os.stat_result:
        """The file's own status (a link's, not its target's), reached without links."""
        with self.folder(relative) as fd:
            return os.stat(_parts(relative)[-1], dir_fd=fd, follow_symlinks=False)

    def read(self, relative: str, limit: int) -> tuple[bytes, os.stat_result]:
        """The bytes of a regular file (at most *limit* + 1 of them) and its status, taken
        from the open file; NotAFile for anything else."""
        name = _parts(relative)[-1]
        with self.folder(relative) as folder:
            before = os.stat(name, dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISREG(before.st_mode):
                raise NotAFile(f"{kind(before.st_mode)}, not a file",
                               link=stat.S_ISLNK(before.st_mode))
            fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise NotAFile(f"{kind(st.st_mode)}, not a file")
            chunks = []
            left = min(st.st_size, limit) + 1
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks), st
        finally:
            os.close(fd)

    def move_out(self, relative: str, destination: Path) -> None:
        """Move the name *relative* (a file or a link, never what a link points to) to
        *destination*, outside the drop folder."""
        name = _parts(relative)[-1]
        with self.folder(relative) as folder:
            try:
                os.rename(name, destination, src_dir_fd=folder)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
            # Another file system: copy what the name is, then remove the name.
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(name, dir_fd=folder), destination)
            else:
                fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
                with os.fdopen(fd, "rb") as source, destination.open("xb") as target:
                    shutil.copyfileobj(source, target)
                os.utime(destination, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.unlink(name, dir_fd=folder)

    def listdir(self, relative_folder: str) -> set[str]:
        """The names in a folder of the drop folder ("" for the top), reached without links."""
        with self._directory(_parts(relative_folder) if relative_folder else ()) as fd:
            return set(os.listdir(fd))

    def put_back(self, source: Path, relative: str) -> bool:
        """Move *source* (from outside) to *relative* unless that name is taken; False if
        it is, or if the way there is gone."""
        name = _parts(relative)[-1]
        try:
            with self.folder(relative) as folder:
                try:
                    os.stat(name, dir_fd=folder, follow_symlinks=False)
                    return False
                except FileNotFoundError:
                    pass
                os.rename(source, name, dst_dir_fd=folder)
                return True
        except FileNotFoundError:
            return False


def problem(root: Path, exc: OSError | None = None) -> str:
    """Why the drop folder *root* cannot be used, in words."""
    if isinstance(exc, FileNotFoundError) or exc is None:
        return (f"the drop folder {root} is missing (renamed, deleted or not mounted); "
                "nothing is retracted until it is back")
    if isinstance(exc, NotADirectoryError):
        return f"the drop folder {root} is not a folder"
    return f"the drop folder {root} cannot be read: {_why(exc)}"


def check(root: Path) -> str | None:
    """What is wrong with the drop folder *root* now, or None: a cheap look (no listing)."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        return problem(root, exc)
    os.close(fd)
    return None


def _why(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _kind_at(fd: int, name: str) -> str:
    try:
        return kind(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
    except OSError:
        return "gone"


def _parts(relative: str) -> tuple[str, ...]:
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("..", ".") for p in parts):
        raise ValueError(f"not a path inside the drop folder: {relative!r}")
    return parts
