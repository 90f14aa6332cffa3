"""Markdown articles with YAML front matter, rendered to sanitised HTML."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time
from typing import Any

import nh3
import yaml
from markdown_it import MarkdownIt

from feeder.article import Article
from feeder.errors import ParseError
from feeder.parser.common import Context, Parsed, Problem, make_slug
from feeder.text import normalise_title, slugify, summarise

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
KNOWN_KEYS = {"title", "date", "updated", "author", "tags", "summary", "id", "slug", "source",
              "draft"}
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")


def parse_markdown(text: str, ctx: Context) -> Parsed:
    """Parse one Markdown article; front matter is optional but ``title`` is needed."""
    parsed = Parsed()
    meta, body, body_line = _front_matter(text, ctx)
    for key in sorted(set(meta) - KNOWN_KEYS):
        parsed.problems.append(Problem(path=ctx.path, line=1, message=(
            f"front matter key {key!r} is not known; ignored")))
    title = _text(meta, "title", ctx) or _heading(body)
    if not title:
        raise ParseError(ctx.path, 1, "no title: give `title:` in the front matter or start "
                         "with a `# heading`")
    given = _when(meta.get("date"), ctx, "date", parsed)
    published = given or ctx.received
    updated = _when(meta.get("updated"), ctx, "updated", parsed) or published
    source = (_text(meta, "source", ctx) or "").lower() or ctx.source
    key = _key(meta, ctx, source, title, published if "date" in meta else None)
    content = nh3.clean(_MARKDOWN.render(body))
    plain = nh3.clean(content, tags=set())
    return Parsed(articles=[Article(
        key=key,
        source=source,
        title=title,
        published=published,
        updated=max(updated, published),
        content_html=content,
        summary=_text(meta, "summary", ctx) or summarise(html.unescape(plain)),
        slug=slugify(_text(meta, "slug", ctx) or "", 80)
        or make_slug(key, published.date().isoformat(), title),
        author=_text(meta, "author", ctx),
        tags=_tags(meta.get("tags"), ctx, parsed),
        line=body_line,
        draft=meta.get("draft") is True,
        scheduled=given is not None,
    )], problems=parsed.problems)


def _front_matter(text: str, ctx: Context) -> tuple[dict[str, Any], str, int]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, 1
    try:
        meta = yaml.safe_load(match["yaml"])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise ParseError(ctx.path, line, f"front matter is not valid YAML: "
                         f"{getattr(exc, 'problem', None) or exc}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ParseError(ctx.path, 2, "front matter must be a mapping of key: value")
    return meta, text[match.end():], text.count("\n", 0, match.end()) + 1


def _text(meta: dict[str, Any], key: str, ctx: Context) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise ParseError(ctx.path, 1, f"front matter {key!r} must be text, not a "
                         f"{type(value).__name__}")
    return " ".join(str(value).split()) or None


def _heading(body: str) -> str | None:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", body, re.M)
    return match[1] if match else None


def _when(value: Any, ctx: Context, key: str, parsed: Parsed) -> datetime | None:
    tz = ctx.received.tzinfo
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed.problems.append(Problem(path=ctx.path, line=1, message=(
                f"front matter {key} {value!r} is not an ISO date; ignored")))
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=tz)
    parsed.problems.append(Problem(path=ctx.path, line=1, message=(
        f"front matter {key} must be a date, got {value!r}; ignored")))
    return None


def _key(meta: dict[str, Any], ctx: Context, source: str, title: str,
         published: datetime | None) -> str:
    explicit = _text(meta, "id", ctx)
    if explicit:
        return f"id:{explicit}"
    slug = _text(meta, "slug", ctx)
    if slug:
        return f"{source}/{slug}"
    day = published.date().isoformat() if published else ""
    return "/".join(p for p in (source, day, normalise_title(title)) if p)


def _tags(value: Any, ctx: Context, parsed: Parsed) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        parsed.problems.append(Problem(path=ctx.path, line=1, message=(
            "front matter tags must be a list or comma-separated text; ignored")))
        return ()
    tags = (" ".join(str(t).split()) for t in value if isinstance(t, (str, int, float)))
    return tuple(dict.fromkeys(t for t in tags if t))

