"""Images travel with their articles: ``rapat.jpg`` beside ``rapat.txt``, or an image a
Markdown article references by a relative path.

A sibling image goes with the file's first (lead) article. Cleaned images are kept in the
state folder under content-hashed names until the build copies them to the output.
"""

from __future__ import annotations

import logging
import posixpath
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from feeder import atomic as output
from feeder.article import Article, Picture
from feeder.config import Config
from feeder.ingest import media
from feeder.ingest.drop import DropFolder
from feeder.parser import SUFFIXES as ARTICLE_SUFFIXES

log = logging.getLogger(__name__)
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')
_CANDIDATES = [s for suffix in sorted(media.SUFFIXES) for s in (suffix, suffix.upper())]


class Attacher:
    """Finds, checks and stores the images of an article file, read through *drop* (never
    through a link). Paths are relative to the drop folder, in POSIX form."""

    def __init__(self, config: Config, drop: DropFolder,
                 reject: Callable[[str, str], None], *, dry: bool = False) -> None:
        """*reject* is told of images that cannot be published; *dry* (``feeder check``)
        works out the same pictures but stores none."""
        self.config = config
        self.dry = dry
        self.drop = drop
        self.root = drop.root
        self._reject = reject
        # During a scan, the names each folder holds: probing ten image names per file
        # costs more than the rest of storing it.
        self.listing: Mapping[Path, set[str]] | None = None

    def attach(self, relative: str, articles: list[Article]) -> list[Article]:
        """*articles* with their images: the sibling image first, then Markdown's own."""
        if PurePosixPath(relative).suffix.lower() in (".md", ".markdown"):
            articles = [self._inline(relative, a) for a in articles]
        sibling = self._sibling(relative)
        picture = self._publish(sibling) if sibling else None
        if articles and picture:
            articles[0] = replace(articles[0], image=picture)
        return articles

    def owners(self, image: str) -> Iterator[str]:
        """Article files that may use *image*: same name beside it, or Markdown there."""
        folder = posixpath.dirname(image)
        try:
            names = self.drop.listdir(folder)
        except OSError:
            return
        stem = PurePosixPath(image).stem
        for name in sorted(names):
            candidate = PurePosixPath(name)
            suffix = candidate.suffix.lower()
            if suffix in ARTICLE_SUFFIXES and (candidate.stem == stem or suffix == ".md"):
                yield posixpath.join(folder, name)

    def _sibling(self, relative: str) -> str | None:
        """The image named like *relative*, if any. Probing a few names beats listing the
        folder, which may hold thousands of files, unless a listing is at hand."""
        path = self.root / relative
        names = self.listing.get(path.parent, set()) if self.listing is not None else None
        stem = str(PurePosixPath(relative).with_suffix(""))
        base = PurePosixPath(relative).stem
        for suffix in _CANDIDATES:
            if names is None or base + suffix in names:
                candidate = stem + suffix
                if self._is_file(candidate):
                    return candidate
        return None

    def _is_file(self, relative: str) -> bool:
        try:
            return stat.S_ISREG(self.drop.lstat(relative).st_mode)
        except OSError:
            return False

    def _inline(self, relative: str, article: Article) -> Article:
        first: list[Picture] = []

        def swap(match: re.Match[str]) -> str:
            picture = self._referenced(relative, match[2])
            if picture is None:
                return match[0]
            first.append(picture)
            # Relative to the article's page (articles/SLUG.html, see
            # builder.channels.article_path), never absolute: what is stored must not
            # depend on base_url, which follows the port feeder is served on. Feeds make
            # it absolute as they are written.
            return match[1] + "../" + picture.path + match[3]

        html = _IMG_SRC.sub(swap, article.content_html)
        if not first:
            return article  # the same value: what was worked out of it still holds
        return replace(article, content_html=html, image=article.image or first[0])

    def _referenced(self, relative: str, src: str) -> Picture | None:
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or src.startswith("/"):
            return None  # absolute URLs are left as they are
        target = posixpath.normpath(posixpath.join(posixpath.dirname(relative),
                                                   unquote(parts.path)))
        if target == ".." or target.startswith(("../", "/")) or "\x00" in target:
            log.warning("%s: image %r is outside the drop folder; not published", relative, src)
            return None
        if not self._is_file(target):
            log.warning("%s: image %r not found; not published", relative, src)
            return None
        return self._publish(target)

    def _publish(self, image: str) -> Picture | None:
        try:
            data, st = self.drop.read(image, self.config.images_max_bytes)
            if st.st_size > self.config.images_max_bytes:  # only the start was read
                raise media.ImageError(f"image is {st.st_size} bytes, more than "
                                       f"images.max_bytes = {self.config.images_max_bytes}")
            picture, clean = media.prepare(data, PurePosixPath(image).suffix,
                                           self.config.images_max_bytes)
        except media.ImageError as exc:
            self._reject(image, str(exc))
            return None
        except OSError as exc:
            log.warning("could not read image %s: %s", image, exc)
            return None
        if not self.dry:
            output.write_if_changed(self.config.media_dir, picture.name, clean)
        return picture
