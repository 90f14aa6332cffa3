"""The one value type that passes between the stages: parser → store → builder."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

# A fixed namespace keeps guids stable across hosts and base URLs.
_GUID_NAMESPACE = uuid.UUID("5b2f9a52-7f3e-4d55-9c1e-6a3d3f1f6a10")


@dataclass(frozen=True, kw_only=True)
class Picture:
    """A published image: its file name under ``images/`` and what enclosures need."""

    name: str
    type: str
    length: int
    width: int
    height: int

    @property
    def path(self) -> str:
        return f"images/{self.name}"


@dataclass(frozen=True, kw_only=True)
class Correction:
    """A change readers are told about: the title or the text changed after the entry was
    first published."""

    at: datetime
    what: str  # "title" or "text"
    before: str | None = None  # the title it replaced

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "what": self.what, "before": self.before}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        return cls(at=datetime.fromisoformat(data["at"]), what=data["what"],
                   before=data.get("before"))


@dataclass(frozen=True, kw_only=True)
class Article:
    """One published entry.

    ``key`` identifies the article itself (never the file it came in or the time it was
    seen), so the same article dropped twice is one entry. ``content_html`` is already
    sanitised; ``summary`` is plain text.
    """

    key: str
    source: str
    title: str
    published: datetime
    updated: datetime
    content_html: str
    summary: str
    slug: str
    author: str | None = None
    photo_credit: str | None = None
    place: str | None = None
    tags: tuple[str, ...] = ()
    line: int | None = None
    draft: bool = False
    # The date was written in full (not inferred), so a future one is an embargo.
    scheduled: bool = False
    image: Picture | None = None
    corrections: tuple[Correction, ...] = ()  # oldest first

    def __post_init__(self) -> None:
        for name in ("published", "updated"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Article.{name} must be timezone-aware, got {value!r}")
        if not self.key:
            raise ValueError("Article.key must not be empty")
        if not self.title.strip():
            raise ValueError("Article.title must not be blank")
        if not self.slug or "/" in self.slug or self.slug.startswith("."):
            raise ValueError(f"Article.slug is not a safe file name: {self.slug!r}")

    @property
    def guid(self) -> str:
        """An absolute URI that never changes for this article."""
        return _guid(self.key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (shallow: far cheaper than ``dataclasses.asdict``'s deep copy)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["published"] = self.published.isoformat()
        data["updated"] = self.updated.isoformat()
        data["tags"] = list(self.tags)
        data["image"] = dataclasses.asdict(self.image) if self.image else None
        if self.corrections:
            data["corrections"] = [c.to_dict() for c in self.corrections]
        else:
            del data["corrections"]  # what older versions stored, and the usual case
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        values = dict(data)
        values["published"] = datetime.fromisoformat(values["published"])
        values["updated"] = datetime.fromisoformat(values["updated"])
        values["tags"] = tuple(values.get("tags", ()))
        if values.get("image"):
            values["image"] = Picture(**values["image"])
        values["corrections"] = tuple(Correction.from_dict(c)
                                      for c in values.get("corrections", ()))
        return cls(**values)


@lru_cache(maxsize=8192)
def _guid(key: str) -> str:
    # Every feed an entry is in asks for it, on every rebuild: worth remembering.
    return f"urn:uuid:{uuid.uuid5(_GUID_NAMESPACE, key)}"


# How an article's text shows an image it carries (ingest rewrites Markdown's own to this).
_SHOWN = re.compile(r'<img[^>]*?\ssrc="\.\./images/([^"/?#]+)"')


def images_of(article: Article) -> tuple[str, ...]:
    """The names of the images *article* shows: its lead image, and every other one its text
    shows (a Markdown article may show several; only the first is its lead image)."""
    lead = (article.image.name,) if article.image else ()
    shown = tuple(_SHOWN.findall(article.content_html)) if "<img" in article.content_html else ()
    return tuple(dict.fromkeys(lead + shown))
