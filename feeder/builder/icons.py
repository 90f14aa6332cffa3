"""The site's icon in every size feeds and browsers use, from one image (``site.icon``, or
feeder's own)."""

from __future__ import annotations

import io
from importlib import resources

from PIL import Image

from feeder.builder.channels import FAVICON, ICON, LOGO, RSS_IMAGE, SMALL_ICON

DEFAULT = "icon.png"  # in feeder/assets/


def default_icon() -> bytes:
    return (resources.files("feeder") / "assets" / DEFAULT).read_bytes()


def render_icons(image: bytes) -> dict[str, bytes]:
    """*image* (any format Pillow reads; a square is best, other shapes are centred on
    one) as the favicon, the 512, 144 and 64 px icons and a 2:1 logo."""
    with Image.open(io.BytesIO(image)) as opened:
        source = opened.convert("RGBA")
    side = max(source.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(source, ((side - source.width) // 2, (side - source.height) // 2))
    logo = Image.new("RGBA", (288, 144), (0, 0, 0, 0))
    logo.paste(_sized(square, 144), (72, 0))
    favicon = io.BytesIO()
    _sized(square, 48).save(favicon, "ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return {FAVICON: favicon.getvalue(), ICON: _png(_sized(square, 512)),
            RSS_IMAGE: _png(_sized(square, 144)), SMALL_ICON: _png(_sized(square, 64)),
            LOGO: _png(logo)}


def _sized(image: Image.Image, side: int) -> Image.Image:
    return image.resize((side, side), Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    data = io.BytesIO()
    image.save(data, "PNG", optimize=True)
    return data.getvalue()
