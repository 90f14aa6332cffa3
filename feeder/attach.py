"""Images travel with their articles: ``rapat.jpg`` beside ``rapat.txt``, or an image a
Markdown article references by a relative path.

A sibling image goes with the file's first (lead) article. Cleaned images are kept in the
state folder under content-hashed names until the build copies them to the output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feeder import media, output
from feeder.article import Article, Picture
from feeder.config import Config
from feeder.parser import SUFFIXES as ARTICLE_SUFFIXES

log = logging.getLogger(__name__)
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')
_CANDIDATES = [s for suffix in sorted(media.SUFFIXES) for s in (suffix, suffix.upper())]


class Attacher:
    """Finds, checks and stores the images of an article file."""

    def __init__(self, config: Config, reject: Callable[[Path, str], None]) -> None:
        self.config = config
        self.root = config.drop_dir.resolve()
        self._reject = reject
        # During a scan, the names each folder holds: probing ten image names per file
        # costs more than the rest of storing it.
        self.listing: Mapping[Path, set[str]] | None = None

    def attach(self, path: Path, articles: list[Article]) -> list[Article]:
        """*articles* with their images: the sibling image first, then Markdown's own."""
        if path.suffix.lower() in (".md", ".markdown"):
            articles = [self._inline(path, a) for a in articles]
        sibling = self._sibling(path)
        picture = self._publish(sibling) if sibling else None
        if articles and picture:
            articles[0] = replace(articles[0], image=picture)
        return articles

    def owners(self, image: Path) -> Iterator[Path]:
        """Article files that may use *image*: same name beside it, or Markdown there."""
        for candidate in sorted(image.parent.iterdir()) if image.parent.is_dir() else []:
            suffix = candidate.suffix.lower()
            if suffix in ARTICLE_SUFFIXES and (candidate.stem == image.stem or suffix == ".md"):
                yield candidate

    def _sibling(self, path: Path) -> Path | None:
        """The image named like *path*, if any. Probing a few names beats listing the
        folder, which may hold thousands of files, unless a listing is at hand."""
        names = self.listing.get(path.parent, set()) if self.listing is not None else None
        stem = path.stem
        for suffix in _CANDIDATES:
            if names is None or stem + suffix in names:
                candidate = path.with_suffix(suffix)
                if candidate.is_file():
                    return candidate
        return None

    def _inline(self, path: Path, article: Article) -> Article:
        first: list[Picture] = []

        def swap(match: re.Match[str]) -> str:
            picture = self._referenced(path, match[2])
            if picture is None:
                return match[0]
            first.append(picture)
            return match[1] + self.config.url(picture.path) + match[3]

        html = _IMG_SRC.sub(swap, article.content_html)
        return replace(article, content_html=html, image=article.image or next(iter(first), None))

    def _referenced(self, path: Path, src: str) -> Picture | None:
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or src.startswith("/"):
            return None  # absolute URLs are left as they are
        target = (path.parent / unquote(parts.path)).resolve()
        if self.root not in target.parents:
            log.warning("%s: image %r is outside the drop folder; not published", path, src)
            return None
        if not target.is_file():
            log.warning("%s: image %r not found; not published", path, src)
            return None
        return self._publish(target)

    def _publish(self, image: Path) -> Picture | None:
        try:
            picture, clean = media.prepare(image.read_bytes(), image.suffix,
                                           self.config.images_max_bytes)
        except media.ImageError as exc:
            self._reject(image, str(exc))
            return None
        except OSError as exc:
            log.warning("could not read image %s: %s", image, exc)
            return None
        output.write_if_changed(self.config.media_dir, picture.name, clean)
        return picture
