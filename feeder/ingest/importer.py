"""``feeder import DIR``: copy article files into the drop folder, each under a hidden
temporary name first, so a running service never reads half a file."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from feeder.ingest.names import is_ignored
from feeder.logs import shown
from feeder.progress import Progress

log = logging.getLogger(__name__)


def copy_tree(source: Path, drop_dir: Path) -> int:
    """Copy the files under *source* into *drop_dir* (keeping mtimes); return how many.
    Nothing is written through a link in the drop folder."""
    paths = [p for p in sorted(source.rglob("*")) if p.is_file()
             and not is_ignored(p.relative_to(source).as_posix())]
    progress = Progress(len(paths), f"copying {source}")
    top = Path(os.path.realpath(drop_dir))
    copied = 0
    for done, path in enumerate(paths, 1):
        relative = path.relative_to(source)
        target = drop_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(os.path.realpath(target.parent)) != top / relative.parent:
            # A folder on the way is a link: writing through it would land elsewhere.
            log.warning("not copying %s: %s in the drop folder is a link", shown(str(path)),
                        shown(str(relative.parent)))
            continue
        temp = target.with_name(f".{target.name}.importing")
        shutil.copy2(path, temp)
        os.replace(temp, target)
        copied += 1
        progress(done)
    progress.close()
    return copied
