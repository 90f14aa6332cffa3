"""Sources: which office an entry belongs to, and how its feeds are titled.

A source is a key such as ``kota-semarang.kpu.go.id`` (the site in a dateline), a
``source`` from Markdown front matter, or a drop subfolder's name. ``[sources."KEY"]`` in
the config can title it; otherwise a title is made from the site name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeder.config import Config
from feeder.text import slugify

_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True)
class Source:
    key: str
    slug: str
    title: str
    description: str
    link: str | None
    language: str

    @property
    def prefix(self) -> str:
        """Folder of this source's feeds under the output root."""
        return f"sources/{self.slug}/"


def describe(key: str, config: Config) -> Source:
    """The source *key* with its configured or default title, description and link."""
    given = config.sources.get(key, {})
    title = given.get("title") or default_title(key)
    site = f"https://{key}/" if _DOMAIN.match(key) else None
    return Source(
        key=key,
        slug=slugify(key, 80) or "local",
        title=title,
        description=given.get("description") or f"{config.site_description} — {title}",
        link=given.get("link") or site,
        language=given.get("language") or config.site_language,
    )


def default_title(key: str) -> str:
    """A readable title from a site name.

    >>> default_title("kota-semarang.kpu.go.id")
    'KPU Kota Semarang'
    >>> default_title("berita-desa")
    'Berita Desa'
    """
    labels = key.split(".")
    place = labels[0].replace("-", " ").replace("_", " ").title()
    if len(labels) > 2 and len(labels[1]) <= 4:
        # Government sites name the office in the second label: kota-semarang.kpu.go.id.
        return f"{labels[1].upper()} {place}"
    return place
