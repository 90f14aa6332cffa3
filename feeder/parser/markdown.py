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
import pyromark
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
    title = _text(meta, "title", ctx, parsed)
    # The fast renderer when it renders as markdown-it does; markdown-it's tokens when the
    # title has to come from the text's first heading.
    rendered = _fast_html(body) if title else None
    if rendered is None:
        env: dict[str, Any] = {}
        tokens = _MARKDOWN.parse(body, env)
        title = title or _heading(tokens)
        rendered = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env)
    if not title:
        raise ParseError(ctx.path, 1, "no title: give `title:` in the front matter or start "
                         "with a `# heading`")
    given = _when(meta.get("date"), ctx, "date", parsed)
    published = given or ctx.received
    updated = _when(meta.get("updated"), ctx, "updated", parsed) or published
    source = (_text(meta, "source", ctx, parsed) or "").lower() or ctx.source
    key = _key(meta, ctx, parsed, source, title, published if "date" in meta else None)
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
        meta = load_yaml(match["yaml"])
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


# libyaml (PyYAML's C loader, when built in) reads what the pure-Python loader reads, except
# around tabs, byte order marks, YAML's own line breaks (NEL, U+2028/9), an empty ``!`` tag and
# a block scalar header running into a comment: there it accepts text the pure loader rejects,
# or reads it otherwise. Such front matter, and any the C loader cannot read, goes to the pure
# loader, whose values and errors are the ones feeder has always given.
_C_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)
_PURE_ONLY = re.compile(r"[\t\x85\u2028\u2029\ufeff]|(?:^|[\s\[\]{},:?-])!|[|>][-+0-9]*#",
                        re.M)


def load_yaml(text: str) -> Any:
    """*text* read as ``yaml.safe_load`` reads it (the same values, the same errors), with
    libyaml's speed wherever the two loaders are known to agree."""
    if _C_LOADER is not None and not _PURE_ONLY.search(text):
        try:
            return yaml.load(text, Loader=_C_LOADER)
        except Exception:  # the pure loader, below, gives the error feeder reports
            pass
    return yaml.safe_load(text)


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


# pulldown-cmark (pyromark) and markdown-it-py both follow CommonMark; where they part, what
# feeds carry stays markdown-it-py's, so these inputs take it:
# - markdown-it-py strips Unicode spaces (NBSP, ideographic space, ...) from the edges of a
#   paragraph, heading or table cell, and takes a line of vertical tab or form feed for text;
#   a Unicode space between two letters or digits is never at such an edge;
# - its tables (a header line, then a delimiter row of pipes and dashes) differ from GFM's;
# - it stops reading blocks nested 20 deep (its maxNesting), which needs a deep prefix;
# - it starts a list item on a line of its own before an HTML block, and an empty item can
#   follow a link reference definition (which pulldown-cmark may read otherwise);
# - it expands a tab after quote or list markers otherwise, keeps a tab at the end of a line,
#   reads a backslash before trailing spaces otherwise (any backslash ending a line is left
#   to it), and keeps spaces at the very end of the text in an HTML block;
# - it keeps javascript:, vbscript:, file: and data: links as text and writes a host name in
#   punycode, so any URL in the output other than a plain http(s), mailto or relative one;
#   and it shows an autolink's %-escapes and punycode host name decoded.
_EDGE_SPACES = "\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
# Each is a search the regex engine can start from a literal newline or that a scan for a
# character rules out, so that the usual article, which has none of these, is read quickly.
_ODD_SPACE = re.compile(f"[\\v\\f\u2028\u2029{_EDGE_SPACES}]")
_ODD_SPACE_AT_EDGE = re.compile(
    f"[\\v\\f\u2028\u2029]|(?<![^\\W_])[{_EDGE_SPACES}]|[{_EDGE_SPACES}](?![^\\W_])")
_MARKER = r"(?:[-+*]|[0-9]+[.)])"  # a list item's
_PREFIX = rf"(?:[ \t>]|{_MARKER}(?=[ \t]|$))*"  # quote and list markers opening a line
_LINE_START = re.compile(  # searched in "\n" + body
    r"\n(?:(?=[ \t-]*[|:])[ \t|:]*-[ \t|:-]*$"  # a delimiter row: | --- |, --- |, :-:
    r"|(?=[ \t>*+.)0-9-]{12})"  # a line deep in quotes or lists
    r"|[ >*+.)0-9-]*\t"  # a tab among them, which each expands its own way
    rf"|{_PREFIX}{_MARKER}(?:[ \t]+(?:$|<)|$)"  # an empty item, or one of HTML
    rf"|{_PREFIX}\[[^\]]{{0,999}}\]:)",  # a link reference definition (labels < 1,000)
    re.M)
# Every search below reads each character a bounded number of times, whatever the text.
_PIPE_OVER_DASHES = re.compile(r"\|[^|\n]*+\n[ \t|:]*-[ \t|:-]*$", re.M)  # a delimiter row too
# A tab, or a backslash, before a line break (the tab found from where the spaces begin).
_LINE_END = re.compile(r"\\[ \t]*+$|(?<![ \t])[ ]*+\t[ \t]*+$", re.M)
_AUTOLINK = re.compile(r"<[^<>\s]*+>")


def _renders_otherwise(body: str) -> bool:
    """Whether markdown-it-py could render *body* otherwise than pulldown-cmark."""
    return bool(
        "\v" in body or "\f" in body
        or (not body.isascii() and _ODD_SPACE.search(body) and _ODD_SPACE_AT_EDGE.search(body))
        or body.endswith((" ", "\t")) or _LINE_START.search("\n" + body)
        or ("|" in body and _PIPE_OVER_DASHES.search(body))
        or (("\t" in body or "\\" in body) and _LINE_END.search(body))
        or ("<" in body and any("%" in link or "xn--" in link.lower()
                                for link in _AUTOLINK.findall(body))))


_HREF, _SRC = re.compile(r'href="([^"]*)"'), re.compile(r'src="([^"]*)"')
# What both leave as it is in a URL (markdown-it-py escapes a lone %, pulldown-cmark does not).
_URL_CHAR = r"(?:[A-Za-z0-9;/?@=+$,_.!~*'()#-]|&amp;|%[0-9A-Fa-f]{2})"
_PLAIN_URL = re.compile(
    rf"(?:https?://[a-z0-9.-]*(?:[:/?#](?:{_URL_CHAR}|:)*)?|mailto:{_URL_CHAR}*|{_URL_CHAR}*)")
_FAST_OPTIONS = pyromark.Options.ENABLE_TABLES


def _fast_html(body: str) -> str | None:
    """*body* as markdown-it-py renders it, by pulldown-cmark; None where the two could
    differ in what survives sanitising."""
    if _renders_otherwise(body):
        return None
    try:
        rendered = pyromark.html(body, options=_FAST_OPTIONS)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # a panic in the Rust renderer (pyo3's PanicException is no Exception)
        return None  # markdown-it-py renders it, as it always did
    # markdown-it-py writes an empty quote on one line, and ends a code block's last line
    # with a newline even at the very end of the text.
    if "<blockquote>\n</blockquote>" in rendered or (
            not body.endswith("\n") and "</code></pre>" in rendered):
        return None
    if not all(map(_PLAIN_URL.fullmatch, _HREF.findall(rendered))) or (
            "src=" in rendered and not all(map(_PLAIN_URL.fullmatch, _SRC.findall(rendered)))):
        return None
    return rendered


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


# HTML as renderers and nh3 write it: text without "<", end tags, start tags with
# double-quoted attributes. HTMLParser reads such HTML as these patterns do, so its elements
# can be counted by two regex scans; anything else (comments, odd quoting, elements whose
# text HTMLParser does not read as HTML) is left to HTMLParser.
_NAME = r"[a-zA-Z][a-zA-Z0-9-]*"
_ATTRIBUTES = r'(?:[ \t\n]+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*'
_PLAIN_HTML = re.compile(  # atomic: a scan that fails fails in linear time
    rf"(?>[^<]+|<{_NAME}{_ATTRIBUTES}[ \t\n]*/?>|</{_NAME}[ \t\n]*>|<(?![a-zA-Z/!?]))*+")
_START_TAG = re.compile(rf"<({_NAME})({_ATTRIBUTES})[ \t\n]*/?>")
_ATTRIBUTE = re.compile(r'([^ \t\n="]+)(?:="[^"]*")?')
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                       "noframes", "noscript", "plaintext"})


def _elements(markup: str) -> Counter[str]:
    """What ``_Elements(markup).found`` counts, quickly for plain HTML."""
    if _PLAIN_HTML.fullmatch(markup):
        found: Counter[str] = Counter()
        for name, attributes in _START_TAG.findall(markup):
            tag = name.lower()
            if tag in _RAW_TEXT:
                break
            found[f"<{tag}>"] += 1
            if attributes:
                found.update(f"{attribute.lower()}= on <{tag}>"
                             for attribute in _ATTRIBUTE.findall(attributes))
        else:
            return found
    return _Elements(markup).found


def _report_removed_html(rendered: str, cleaned: str, ctx: Context, line: int,
                         parsed: Parsed) -> None:
    """Warn about what the sanitiser took out: a script's text is never dropped silently."""
    removed = _elements(rendered) - _elements(cleaned)
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

