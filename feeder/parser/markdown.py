"""Markdown articles with YAML front matter, rendered to sanitised HTML."""

from __future__ import annotations

import html
import itertools
import re
import reprlib
from collections import Counter
from datetime import date, datetime, time
from html.parser import HTMLParser
from typing import Any

import nh3
import yaml
from markdown_it import MarkdownIt

from feeder.article import Article
from feeder.errors import ParseError
from feeder.parser.common import EARLIEST, LATEST, Context, Parsed, Problem, make_slug
from feeder.text import normalise_title, paragraphs_html, slugify, summarise, xml_safe

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
KNOWN_KEYS = {"title", "date", "updated", "author", "tags", "summary", "id", "slug", "source",
              "draft"}
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
# Front-matter values quoted in warnings: a YAML alias bomb must not be expanded by repr().
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxset = 2, 4, 4, 4


def parse_markdown(text: str, ctx: Context) -> Parsed:
    """Parse one Markdown article; front matter is optional but ``title`` is needed."""
    parsed = Parsed()
    meta, body, body_line = _front_matter(text, ctx)
    # Keys may be numbers, dates or None as well as text: sort them by their repr.
    for key in sorted((k for k in meta if k not in KNOWN_KEYS), key=repr):
        parsed.problems.append(Problem(path=ctx.path, line=1, message=(
            f"front matter key {_SHORT.repr(key)} is not known; ignored")))
    env: dict[str, Any] = {}
    tokens = _MARKDOWN.parse(body, env)
    title = _text(meta, "title", ctx, parsed) or _heading(tokens)
    if not title:
        raise ParseError(ctx.path, 1, "no title: give `title:` in the front matter or start "
                         "with a `# heading`")
    given = _when(meta.get("date"), ctx, "date", parsed)
    published = given or ctx.received
    updated = _when(meta.get("updated"), ctx, "updated", parsed) or published
    source = (_text(meta, "source", ctx, parsed) or "").lower() or ctx.source
    key = _key(meta, ctx, parsed, source, title, published if "date" in meta else None)
    rendered = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env)
    content = nh3.clean(rendered)
    _report_removed_html(rendered, content, ctx, body_line, parsed)
    plain = html.unescape(nh3.clean(content, tags=set()))
    if not content.strip():
        # Feeds need some content (JSON Feed requires it): say so and use the title.
        parsed.problems.append(Problem(path=ctx.path, line=body_line, message=(
            "no body text; the title is used as the body")))
        content = paragraphs_html([title])
    return Parsed(articles=[Article(
        key=key,
        source=source,
        title=title,
        published=published,
        updated=max(updated, published),
        content_html=content,
        summary=_text(meta, "summary", ctx, parsed) or summarise(plain) or title,
        slug=slugify(_text(meta, "slug", ctx, parsed) or "", 80)
        or make_slug(key, published.date().isoformat(), title),
        author=_text(meta, "author", ctx, parsed),
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
    except RecursionError:
        raise ParseError(ctx.path, 2, "front matter is not valid YAML: nested too "
                         "deeply") from None
    except Exception as exc:
        # PyYAML's constructors let others through: ValueError for `date: 0000-01-01` or a
        # 5,000-digit int, AttributeError for `!!timestamp x`, ...
        raise ParseError(ctx.path, 2, f"front matter is not valid YAML: a value cannot be "
                         f"read ({type(exc).__name__}: {_SHORT.repr(str(exc))[1:-1]})"
                         ) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ParseError(ctx.path, 2, "front matter must be a mapping of key: value")
    return meta, text[match.end():], text.count("\n", 0, match.end()) + 1


def _text(meta: dict[str, Any], key: str, ctx: Context, parsed: Parsed) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list, set)):
        raise ParseError(ctx.path, 1, f"front matter {key!r} must be text, not a "
                         f"{type(value).__name__}")
    return _clean(str(value), key, ctx, parsed) or None


def _clean(text: str, key: str, ctx: Context, parsed: Parsed) -> str:
    """*text* with its spaces collapsed and without what feeds cannot carry.

    YAML escapes (``"\\0"``, ``"\\ud800"``) bring back characters the decoder removed.
    """
    safe = xml_safe(text)
    if safe != text:
        parsed.problems.append(Problem(path=ctx.path, line=1, message=(
            f"removed {len(text) - len(safe)} character(s) that feeds cannot carry from "
            f"front matter {key!r}")))
    return " ".join(safe.split())


def _heading(tokens: list[Any]) -> str | None:
    """The first level-1 heading as Markdown reads it: ``# C#`` is "C#", a ``#`` line in a
    code block is no heading, and a 1 MB line takes linear time (a regex took cubic)."""
    for token, inline in itertools.pairwise(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return " ".join(str(inline.content).split()) or None
    return None


class _Elements(HTMLParser):
    """Counts the elements and attributes in a piece of HTML."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: Counter[str] = Counter()
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found[f"<{tag}>"] += 1
        self.found.update(f"{name}= on <{tag}>" for name, _ in attrs)


def _report_removed_html(rendered: str, cleaned: str, ctx: Context, line: int,
                         parsed: Parsed) -> None:
    """Warn about what the sanitiser took out: a script's text is never dropped silently."""
    removed = _Elements(rendered).found - _Elements(cleaned).found
    if removed:
        what = ", ".join(sorted(removed))
        parsed.problems.append(Problem(path=ctx.path, line=line, message=(
            f"removed HTML that feeds must not carry: {_SHORT.repr(what)[1:-1]}")))


def _when(value: Any, ctx: Context, key: str, parsed: Parsed) -> datetime | None:
    tz = ctx.received.tzinfo
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed.problems.append(Problem(path=ctx.path, line=1, message=(
                f"front matter {key} {_SHORT.repr(value)} is not an ISO date; ignored")))
            return None
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=tz)
    elif isinstance(value, date):
        when = datetime.combine(value, time(0), tzinfo=tz)
    else:
        parsed.problems.append(Problem(path=ctx.path, line=1, message=(
            f"front matter {key} must be a date, got {_SHORT.repr(value)}; ignored")))
        return None
    if not EARLIEST <= when <= LATEST:
        parsed.problems.append(Problem(path=ctx.path, line=1, message=(
            f"front matter {key} {when.isoformat()} is outside the years feeds can carry "
            f"({EARLIEST.year}–{LATEST.year}); ignored")))
        return None
    return when


def _key(meta: dict[str, Any], ctx: Context, parsed: Parsed, source: str, title: str,
         published: datetime | None) -> str:
    explicit = _text(meta, "id", ctx, parsed)
    if explicit:
        return f"id:{explicit}"
    slug = _text(meta, "slug", ctx, parsed)
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
    tags = (_clean(str(t), "tags", ctx, parsed) for t in value
            if isinstance(t, (str, int, float)))
    return tuple(dict.fromkeys(t for t in tags if t))

