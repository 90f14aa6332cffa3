"""The fast readers stand in for the pure-Python ones only where they read alike: PyYAML's C
loader for front matter, pulldown-cmark (pyromark) for Markdown, regex scans for counting the
HTML the sanitiser removes. Each is checked against the reader it stands in for, on
generated text (hypothesis, derandomised) and on the inputs where they were found to part."""

from __future__ import annotations

import math
import time
from datetime import date
from typing import Any

import nh3
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import corpus
from feeder.parser import Context, markdown, parse
from feeder.parser.markdown import FRONT_MATTER, _Elements, _elements, _fast_html, load_yaml
from tests.support import ARRIVAL

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None)


def _read(text: str, loader: Any) -> tuple[str, Any]:
    try:
        return "value", loader(text)
    except RecursionError:
        return "error", "RecursionError"
    except Exception as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def _same(one: Any, other: Any) -> bool:
    """Equal values of equal types all the way down (NaN equal to NaN, a date not a
    datetime, 1 not True)."""
    if type(one) is not type(other):
        return False
    if isinstance(one, float) and math.isnan(one):
        return math.isnan(other)
    if isinstance(one, dict):
        return list(map(repr, one)) == list(map(repr, other)) and all(
            _same(a, b) for a, b in zip(one.values(), other.values(), strict=True))
    if isinstance(one, list | tuple):
        return len(one) == len(other) and all(map(_same, one, other))
    return bool(one == other) and repr(one) == repr(other)


YAML_PIECES = [
    "title", "date", "tags", ": ", ":", " ", "  ", "\n", "\n", "- ", "[", "]", "{", "}", ",",
    "'", '"', "#", " #", "&a ", "*a", "!!str ", "!!int ", "!!timestamp ", "!!binary ", "!!set ",
    "? ", "|", ">", "|-", ">+", "2025-08-01", "2025-08-01T10:30:00+07:00", "10:30", "190:20:30",
    "0x1F", "0o17", "010", "1_000", "1e3", ".inf", ".NaN", "~", "null", "yes", "No", "on",
    "\t", "\\", "\\n", "\\x41", "é", "\xa0", "\u2028", "\x85", "\ufeff", "---", "...", "<<: ",
    "=", "!", "!foo ", "Judul Berita", "1:2:3", "0.5", "-.5", "+1", "0b101", "%YAML 1.1\n",
]
yaml_texts = st.lists(st.sampled_from(YAML_PIECES), max_size=16).map("".join)


@SETTINGS
@given(yaml_texts)
def test_front_matter_reads_as_the_pure_loader_reads_it(text: str) -> None:
    (kind, got), (want_kind, want) = _read(text, load_yaml), _read(text, yaml.safe_load)
    assert kind == want_kind
    assert _same(got, want) if kind == "value" else got == want


@pytest.mark.parametrize("text", [
    "title: a\tb", "t: !", "t: |-#x", "\n\x85\ufeff", "title: [unclosed\nfoo: : :",
    "title: " + "[" * 5000, "x: \ud800",
])
def test_front_matter_the_loaders_read_otherwise_reads_as_before(text: str) -> None:
    (kind, got), (want_kind, want) = _read(text, load_yaml), _read(text, yaml.safe_load)
    assert (kind, got if kind == "error" else repr(got)) == (
        want_kind, want if kind == "error" else repr(want))


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")
def test_plain_front_matter_is_read_by_the_c_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise AssertionError("the pure-Python loader was used")
    monkeypatch.setattr(yaml, "safe_load", refuse)
    assert load_yaml("title: Judul\ndate: 2025-08-01\ntags: [a, b]") == {
        "title": "Judul", "date": date(2025, 8, 1), "tags": ["a", "b"]}


# Markdown pieces, steering generated text into every construct and into the places where
# the two renderers were found to part.
MARKDOWN_PIECES = [
    "*", "_", "**", "`", "```", "```py\n", "~~~", "[", "]", "(", ")", "<", ">", "|", "-", "#",
    "# ", "## ", "\n", "\n", "\n\n", " ", "  \n", "\\\n", "    ", "\t", "&amp;", "&nbsp;", "&#0;",
    "\\", "!", "kata", "Semarang", "1. ", "2) ", ":", "<b>", "</b>", "<div>\n*x*\n</div>\n",
    "<!-- c -->", "<script>", "===", "---", "***", "é", "+ ", "> ", "- ", "[x]: /u \"t\"\n",
    "[x]", "![i](/img.png \"t\")", "![*a* <b>b</b>](/i.png)", "[l](https://e.com \"t\")",
    "<https://a.b>", "<a@b.c>", "<http://x/%41>", "[l](http://ä.com/x)", "[l](</a b>)", "[l](http://x/%zz)",
    "[l](mailto:a@b.c)", "[l](foo:bar)", "[j](javascript:alert(1))", "[l](HTTP://X.Y)",
    "|a|b|\n|-|-|\n|1|2|\n", "| a\n---", ":-:", "\u00a0", "\u3000", "\x0b", "\x0c", "\u2028",
    "<span title=\"x\">", "<td>", "<textarea>", "<P>", "<br/>", "<a b='c'>", "snake_case_word",
]
markdown_texts = st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=24).map("".join)


def _sanitised(rendered: str) -> tuple[str, Any]:
    """What feeds get of *rendered*, and the elements the sanitiser removed from it."""
    clean = nh3.clean(rendered)
    return clean, _Elements(rendered).found - _Elements(clean).found


def _markdown_it(body: str) -> str:
    return markdown._MARKDOWN.render(body)


@settings(SETTINGS, max_examples=1500)
@given(markdown_texts)
def test_fast_markdown_sanitises_to_what_markdown_it_gives(body: str) -> None:
    fast = _fast_html(body)
    if fast is not None:
        assert _sanitised(fast) == _sanitised(_markdown_it(body))


@pytest.mark.parametrize("body", [
    "\xa0 paragraf\n", "akhir\xa0\n", "\x0c\n", "| a\n---\n", "a | b\n--|--\nc | d\n", ":-:\n",
    "[j](javascript:alert(1))\n", "[l](http://ä.com/x)\n", "[l](http://x/%zz)\n", ">\n",
    "    kode", "- <div>x</div>\n", "[x]: /u \"t\"\n- \n", "a\t\nb\n", "a\\  \nb\n",
    "> " * 12 + "dalam\n", "<http://x/a%41b>\n", "<http://xn--4ca.com/>\n", "<a%41@b.c>\n",
    "> \t<tr>x\n", "- > [x]: /u\n",
])
def test_markdown_the_renderers_read_otherwise_is_left_to_markdown_it(body: str) -> None:
    assert _fast_html(body) is None


@pytest.mark.parametrize("body", [
    "- " * 50_000, "\n[x" * 30_000, "<" + "%" * 100_000, "|" * 100_000 + "\n-",
    "\t" * 100_000 + "x", " \t" * 50_000 + "x", "\\\t" * 50_000 + "x", "a\xa0" * 50_000,
    "\n".join(["    x"] * 20_000),
])
def test_deciding_which_renderer_takes_linear_time(body: str) -> None:
    started = time.process_time()
    _fast_html(body)
    # A search that rereads the text from every character takes minutes here.
    assert time.process_time() - started < 2.0


def test_usual_markdown_articles_take_the_fast_renderer() -> None:
    for n in range(20):
        text = corpus.markdown_text(n, date(2025, 8, 1))
        match = FRONT_MATTER.match(text)
        assert match
        body = text[match.end():]
        fast = _fast_html(body)
        assert fast is not None
        assert _sanitised(fast) == _sanitised(_markdown_it(body))


HTML_PIECES = [
    "<", ">", "/", "a", "b", "P", "br", "script", "style", "textarea", "td", " ", "\n", "\t",
    "=", '"', "'", "x", "<!--", "-->", "<!", "<?", "&amp;", "title", "href", "<a", "<b>", "</b>",
    "</", '<img src="x" alt="y" />', '<a href="j">', "é", ":", "-", "_", "<![", "]]>",
    '<a title="<b>">', '</a b="<i>">', "<x-y z>", "<br/>", "< b>", "<td>", "<P CLASS=\"c\">",
    "<script>", "</script>", "<style>", "<textarea>", "<title>",
]
html_texts = st.lists(st.sampled_from(HTML_PIECES), max_size=25).map("".join)


@settings(SETTINGS, max_examples=1500)
@given(html_texts)
def test_elements_are_counted_as_html_parser_counts_them(markup: str) -> None:
    try:
        want = _Elements(markup).found
    except AssertionError:  # HTMLParser's own limits (an unknown marked section)
        return
    assert _elements(markup) == want


def test_a_panic_in_the_fast_renderer_leaves_the_text_to_markdown_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Panic(BaseException):  # as pyo3 raises a Rust panic: not an Exception
        pass

    def panic(text: str, **options: Any) -> str:
        raise Panic("index out of bounds")
    monkeypatch.setattr(markdown.pyromark, "html", panic)
    assert _fast_html("Isi *berita*.\n") is None
    parsed = parse(b"---\ntitle: Judul\n---\nIsi *berita*.\n",
                   Context(path="a.md", received=ARRIVAL))
    assert parsed.articles[0].content_html == "<p>Isi <em>berita</em>.</p>\n"
