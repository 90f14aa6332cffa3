"""File bytes → articles. Pure: the caller reads the file and supplies the context.

>>> from datetime import datetime, timezone
>>> ctx = Context(path="a.txt", received=datetime(2025, 7, 20, tzinfo=timezone.utc))
>>> parse(b"Judul\\n\\nIsi berita.", ctx).articles[0].title
'Judul'
"""

from __future__ import annotations

from pathlib import PurePath

from feeder.errors import ParseError
from feeder.parser.common import Context, Parsed, Problem
from feeder.parser.decode import decode
from feeder.parser.markdown import parse_markdown
from feeder.parser.page import parse_text

__all__ = ["SUFFIXES", "Context", "ParseError", "Parsed", "Problem", "parse"]

_FORMATS = {".txt": parse_text, ".text": parse_text, ".md": parse_markdown,
            ".markdown": parse_markdown}
SUFFIXES = frozenset(_FORMATS)


def parse(data: bytes, ctx: Context) -> Parsed:
    """Parse one file's bytes; raise ParseError when it yields no article at all."""
    suffix = PurePath(ctx.path).suffix.lower()
    parser = _FORMATS.get(suffix)
    if parser is None:
        raise ParseError(ctx.path, None, f"unsupported file type {suffix or '(none)'!r}; "
                         f"expected one of {', '.join(sorted(SUFFIXES))}")
    text, problems = decode(data, ctx.path)
    if not text.strip():
        raise ParseError(ctx.path, None, "empty file: no text to publish")
    parsed = parser(text, ctx)
    if not parsed.articles:
        raise ParseError(ctx.path, None, "no article found")
    parsed.problems[:0] = problems
    return parsed
