"""Article images: checked to be what their names claim, stripped of GPS, content-named.

Every image is decoded and re-encoded with Pillow, so what is published is a real image of
the claimed type (never a polyglot file), with EXIF location data removed and the rest of
its EXIF (orientation, copyright) kept.
"""

from __future__ import annotations

import hashlib
import io
import warnings

from PIL import ExifTags, Image, UnidentifiedImageError

from feeder.article import Picture
from feeder.errors import FeederError

# Suffix → (Pillow format, MIME type).
FORMATS = {
    ".jpg": ("JPEG", "image/jpeg"), ".jpeg": ("JPEG", "image/jpeg"),
    ".png": ("PNG", "image/png"), ".webp": ("WEBP", "image/webp"), ".gif": ("GIF", "image/gif"),
}
SUFFIXES = frozenset(FORMATS)
MAX_PIXELS = 40_000_000


class ImageError(FeederError):
    """An image is not what its name says, too large, or unreadable."""


def prepare(data: bytes, suffix: str, max_bytes: int) -> tuple[Picture, bytes]:
    """Check and clean an image file's bytes; raise ImageError saying what is wrong."""
    expected, mime = FORMATS.get(suffix.lower(), (None, ""))
    if expected is None:
        raise ImageError(f"not an image type feeder publishes: {suffix!r}")
    if len(data) > max_bytes:
        raise ImageError(f"image is {len(data)} bytes, more than images.max_bytes = {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list({f for f, _ in FORMATS.values()}))
            if image.format != expected:
                raise ImageError(f"content is {image.format}, but the name says {expected}")
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(f"image is {image.width}×{image.height} pixels, too large")
            image.load()
            clean = _reencode(image, expected)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"not a readable image: {exc}") from None
    digest = hashlib.sha256(clean).hexdigest()[:16]
    canonical = ".jpg" if expected == "JPEG" else suffix.lower()
    picture = Picture(name=f"{digest}{canonical}", type=mime, length=len(clean),
                      width=image.width, height=image.height)
    return picture, clean


def _reencode(image: Image.Image, fmt: str) -> bytes:
    exif = image.getexif()
    exif.pop(ExifTags.IFD.GPSInfo, None)
    out = io.BytesIO()
    options: dict[str, object] = {"exif": exif.tobytes()} if len(exif) else {}
    if fmt == "JPEG":
        options["quality"] = "keep" if image.mode in ("RGB", "L", "CMYK") else 90
    if fmt == "GIF" and getattr(image, "n_frames", 1) > 1:
        options["save_all"] = True
    image.save(out, format=fmt, **options)
    return out.getvalue()
