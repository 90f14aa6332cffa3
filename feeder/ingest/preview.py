"""``feeder check``: what ingest would store of a file, by ingest's own steps, storing,
moving and rejecting nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from feeder.article import Article
from feeder.config import Config
from feeder.ingest.attach import Attacher
from feeder.ingest.drop import DropFolder
from feeder.ingest.scan import Rejection, arrival, oversize, read


@dataclass(frozen=True)
class Preview:
    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # warnings, as the service logs them
    rejected: str | None = None  # why the file would be moved to rejected/


def preview(path: Path, config: Config) -> Preview:
    """The articles ingest would store of the file at *path*: a file in the drop folder is
    read as there; any other as if dropped into a subfolder named like its own folder (so
    that folder names its source, as a subfolder of the drop folder would)."""
    root, relative = _as_dropped(path, config)
    drop = DropFolder(root)
    try:
        st = drop.lstat(relative)
        if (too_large := oversize(st, config)) is not None:
            return Preview(rejected=too_large)
        data, st = drop.read(relative, config.parse_max_file_bytes)
    except OSError as exc:
        return Preview(rejected=exc.strerror or str(exc))
    result = read((relative, data, arrival(st, config)), config)
    if isinstance(result, Rejection):
        where = f" (line {result.line})" if result.line else ""
        return Preview(rejected=result.reason + where)
    problems = [str(problem) for problem in result.problems]
    attacher = Attacher(config, drop, lambda image, why: problems.append(
        f"{image}: would be rejected: {why}"), dry=True)
    articles = attacher.attach(relative, [entry.article for entry in result.entries])
    return Preview(articles, problems)


def _as_dropped(path: Path, config: Config) -> tuple[Path, str]:
    """The folder to read *path* from, and its name there (POSIX)."""
    path = path.absolute()
    drop = Path(config.drop_dir).resolve()
    try:
        return drop, path.parent.resolve().relative_to(drop).joinpath(path.name).as_posix()
    except ValueError:
        folder = path.parent.resolve()
        if folder.parent == folder:  # a file at the top of the filesystem
            return folder, path.name
        return folder.parent, f"{folder.name}/{path.name}"
