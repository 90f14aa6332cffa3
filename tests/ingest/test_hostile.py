"""Whatever is dropped, every file is accounted for and every output stays valid and inert.

The generated corpus of tests/support.py is dropped into one folder, ingested and built once
(module fixture); each test then checks one promise of issue #4 on the result:

- every file ends EITHER as entries in the store OR in ``rejected/`` beside a ``.why.txt``
  note, and the counts add up;
- every feed parses with feedparser (bozo 0) and lxml, every page with lxml.html;
- the text of every accepted file survives exactly, escaped and never executed;
- nothing from a file can run: no ``<script>`` element or ``on…`` handler anywhere in the
  feeds' HTML content or in the pages, and YAML python tags are never constructed.

"Survives exactly" means: the title (and the body text) a reader sees is the text of the
file with (1) the characters XML 1.0 cannot carry deleted, not replaced (U+0000–U+001F
except tab, LF and CR, lone surrogates, U+FFFE, U+FFFF; the parser reports each such file
with a warning, checked below), and (2) runs of whitespace compared as one space, since
HTML, YAML and the feed readers collapse them anyway. Nothing else may change: no
character escaped twice, no markup interpreted, no word lost.
"""

from __future__ import annotations

import logging
import os
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from feeder import publish
from feeder.config import Config, load_config
from feeder.ingest import Ingestor
from feeder.parser import Context, ParseError, parse
from feeder.store import Store
from feeder.text import xml_safe
from tests.support import (
    ARRIVAL,
    ATOM,
    Case,
    atom_title,
    cases,
    check_atom,
    check_rss,
    local_file,
    read_json_feed,
    rss_title,
    set_mtime,
    visible,
)

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
# Elements that run code, load other documents or change the page, in an entry's HTML.
LIVE = ("script", "iframe", "frame", "object", "embed", "applet", "style", "form", "base",
        "meta", "link", "svg", "math")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Published:
    root: Path
    config: Config
    store: Store
    cases: list[Case]
    log: list[str] = field(default_factory=list)

    def note(self, case: Case) -> Path:
        return self.config.rejected_dir / f"{case.name}.why.txt"


def make_config(root: Path, **overrides: object) -> Config:
    (root / "drop").mkdir(exist_ok=True)
    return load_config(None, {
        "drop_dir": root / "drop", "output_dir": root / "out", "state_dir": root / "state",
        "rejected_dir": root / "rejected", "feed.max_entries": 1000, **overrides})


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    root = tmp_path_factory.mktemp("hostile")
    config = make_config(root)
    store = Store(config.store_path)
    corpus = list(cases())
    for case in corpus:
        path = config.drop_dir / case.name
        path.write_bytes(case.data)
        set_mtime(path, ARRIVAL)
    records = _Records()
    logger = logging.getLogger("feeder")
    logger.addHandler(records)
    cwd = os.getcwd()
    os.chdir(root)  # where a YAML python tag that ran would leave its pwned.txt
    try:
        Ingestor(store, config).scan()
        publish.build(store, config)
    finally:
        os.chdir(cwd)
        logger.removeHandler(records)
    yield Published(root, config, store, corpus, [r.getMessage() for r in records.records])
    store.close()


def test_corpus_is_large_and_varied() -> None:
    corpus = list(cases())
    assert len(corpus) > 300
    assert len({c.name for c in corpus}) == len(corpus)
    assert {c.outcome for c in corpus} == {"entry", "rejected", "either"}
    assert list(cases()) == corpus  # deterministic


def test_every_file_is_an_entry_or_rejected_with_a_note(published: Published) -> None:
    files = published.store.files()
    notes = sorted(published.config.rejected_dir.rglob("*.why.txt"))
    for case in published.cases:
        stored, note = case.name in files, published.note(case).is_file()
        assert stored != note, (case.name, stored, note)
        if case.outcome != "either":
            assert ("entry" if stored else "rejected") == case.outcome, case.name
        if note:
            # Moved whole, never deleted or changed; the note says why, naming the file.
            moved = published.config.rejected_dir / case.name
            assert moved.read_bytes() == case.data, case.name
            assert published.note(case).read_text(encoding="utf-8").startswith(case.name)
            assert not (published.config.drop_dir / case.name).exists()
    assert len(published.cases) == len(files) + len(notes)
    assert published.store.count() > 0


def test_no_file_met_a_parser_bug(published: Published) -> None:
    assert not [m for m in published.log if "could not parse this file" in m]


def _feeds(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.name in ("rss.xml", "atom.xml")
                  or (p.parent.name == "archive" and p.suffix == ".xml"))


def test_every_feed_is_well_formed(published: Published) -> None:
    out, base = published.config.output_dir, published.config.site_base_url
    feeds = _feeds(out)
    assert out / "rss.xml" in feeds and out / "atom.xml" in feeds
    for path in feeds:
        etree.fromstring(path.read_bytes())  # lxml: well-formed, no illegal characters
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
    check_rss(out / "rss.xml", base)
    check_atom(out / "atom.xml", base)
    for path in out.rglob("feed.json"):
        read_json_feed(path)
    for path in out.rglob("*.html"):
        lxml.html.fromstring(path.read_bytes())


def _text(html: str) -> str:
    """The text a reader sees in *html*, paragraphs (and other elements) apart."""
    return visible(" ".join(lxml.html.fragment_fromstring(html, create_parent="div")
                            .itertext()))


def test_text_survives_exactly_in_every_format(published: Published) -> None:
    out = published.config.output_dir
    atom = etree.fromstring((out / "atom.xml").read_bytes()).findall(ATOM + "entry")
    rss = etree.fromstring((out / "rss.xml").read_bytes()).findall("channel/item")
    items = read_json_feed(out / "feed.json")["items"]
    formats = {
        # A title with "<" is HTML in Atom (escaped once), and in RSS keeps a word joiner
        # between "<" and "/": what a reader shows is the text as written.
        "atom": [(atom_title(e), e.findtext(ATOM + "content") or "") for e in atom],
        "rss": [(rss_title(i), i.findtext(CONTENT) or "") for i in rss],
        "json": [(i["title"], i["content_html"]) for i in items],
    }
    files = published.store.files()
    checked = 0
    for case in published.cases:
        if case.title is None or case.name not in files:
            continue
        for name, entries in formats.items():
            bodies = [_text(html) for title, html in entries if visible(title) == visible(
                case.title)]
            assert bodies, (name, case.name, "title lost or changed")
            assert case.body is not None
            assert any(visible(case.body) in body for body in bodies), (name, case.name)
        checked += 1
    assert checked > 250


def test_each_file_parses_to_its_own_text(published: Published) -> None:
    """Entries of the same article from several files merge; check every file alone too."""
    for case in published.cases:
        if case.title is None or case.outcome != "entry":
            continue
        context = Context(path=case.name, received=ARRIVAL)
        parsed = parse(case.data, context)
        texts = [(visible(a.title), _text(a.content_html)) for a in parsed.articles]
        assert any(title == visible(case.title) and visible(case.body or "") in body
                   for title, body in texts), (case.name, texts[:1])


def test_removed_characters_are_reported(published: Published) -> None:
    files = published.store.files()
    for case in published.cases:
        if case.controls and case.name in files:
            assert any(case.name in m and "cannot carry" in m for m in published.log), case.name


def test_article_pages_show_the_entry_titles(published: Published) -> None:
    out, base = published.config.output_dir, published.config.site_base_url
    for entry in etree.fromstring((out / "atom.xml").read_bytes()).findall(ATOM + "entry"):
        link = entry.find(ATOM + "link")
        assert link is not None
        page = lxml.html.fromstring(local_file(out, base, link.get("href", "")).read_bytes())
        title = visible(atom_title(entry))
        assert title in [visible(h.text_content()) for h in page.iter("h1")]


def _assert_inert(tree: lxml.html.HtmlElement, where: str) -> None:
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        assert element.tag not in LIVE, (where, element.tag)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, element.tag, name)
            assert not value.strip().lower().startswith(("javascript:", "vbscript:", "data:t")), (
                where, name, value)


def test_no_script_is_ever_live(published: Published) -> None:
    out = published.config.output_dir
    for path in _feeds(out):
        root = etree.fromstring(path.read_bytes())
        for content in [*root.iter(ATOM + "content"), *root.iter(CONTENT)]:
            if content.text:
                _assert_inert(lxml.html.fragment_fromstring(content.text, create_parent="div"),
                              str(path))
    for path in out.rglob("feed.json"):
        for item in read_json_feed(path)["items"]:
            _assert_inert(lxml.html.fragment_fromstring(item["content_html"],
                                                        create_parent="div"), str(path))
    pages = list(out.rglob("*.html"))
    assert len(pages) > 50
    for path in pages:
        # The page's own <head> has its style sheet, meta and feed links; a body has none.
        page = lxml.html.fromstring(path.read_bytes())
        assert not page.xpath("//script | //iframe | //object | //embed | //base"), path
        _assert_inert(page.body, str(path))


def test_rss_description_is_inert_html(published: Published) -> None:
    for item in etree.fromstring((published.config.output_dir / "rss.xml").read_bytes()
                                 ).iter("item"):
        description = item.findtext("description") or ""
        _assert_inert(lxml.html.fragment_fromstring(description, create_parent="div"),
                      item.findtext("title") or "")


def test_yaml_python_tags_never_run(published: Published) -> None:
    assert not list(published.root.rglob("pwned.txt"))
    tagged = [c for c in published.cases if c.name.startswith("yaml-python-tag")]
    assert tagged and all(published.note(c).is_file() for c in tagged)


@pytest.mark.parametrize("name", [c.name for c in cases() if c.name.startswith("one-mb")])
def test_one_megabyte_lines_parse_in_linear_time(name: str) -> None:
    """No regex may backtrack over a long line: this returns in well under a second."""
    case = next(c for c in cases() if c.name == name)
    context = Context(path=name, received=ARRIVAL)
    if case.outcome == "rejected":
        with pytest.raises(ParseError):
            parse(case.data, context)
    else:
        assert parse(case.data, context).articles


def test_fifty_megabyte_file_is_rejected_without_being_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(tmp_path)
    assert config.parse_max_file_bytes == 10_000_000
    big = config.drop_dir / "besar sekali.txt"
    with big.open("wb") as handle:
        handle.write(b"Judul\n\nIsi ")
        handle.truncate(50 * 2**20)  # sparse: nothing written past the first bytes
    (config.drop_dir / "kecil.txt").write_text("Judul Kecil\n\nIsi.\n", encoding="utf-8")
    real = pathlib.Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        assert self.name != big.name, "the oversized file was read"
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    store = Store(config.store_path)
    try:
        Ingestor(store, config).scan()
        publish.build(store, config)
        assert set(store.files()) == {"kecil.txt"}
    finally:
        store.close()
    note = config.rejected_dir / "besar sekali.txt.why.txt"
    assert "parse.max_file_bytes" in note.read_text(encoding="utf-8")
    assert (config.rejected_dir / big.name).stat().st_size == 50 * 2**20


def test_file_name_that_is_not_utf8_stops_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    bad = os.path.join(os.fsencode(config.drop_dir), b"berita-\xff\xfe.txt")
    with open(bad, "wb") as handle:
        handle.write(b"Judul Nama Rusak\n\nIsi.\n")
    (config.drop_dir / "z-berita.txt").write_text("Judul Sesudahnya\n\nIsi.\n",
                                                  encoding="utf-8")
    store = Store(config.store_path)
    try:
        Ingestor(store, config).scan()
        publish.build(store, config)
        assert "z-berita.txt" in store.files()
        assert len(store.files()) + len(list(config.rejected_dir.rglob("*.why.txt"))) == 2
    finally:
        store.close()


def test_rejection_that_cannot_write_its_note_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(tmp_path)
    (config.drop_dir / "rusak.md").write_bytes(b"---\ntitle: [tak ditutup\n---\nIsi.\n")
    real = pathlib.Path.write_text

    def full_disk(self: Path, *args: object, **kwargs: object) -> int:
        if self.name.endswith(".why.txt"):
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "write_text", full_disk)
    store = Store(config.store_path)
    try:
        Ingestor(store, config).scan()
    finally:
        store.close()
    # Still in the drop folder, to be rejected again once there is room; or noted.
    assert (config.drop_dir / "rusak.md").exists() or (
        config.rejected_dir / "rusak.md.why.txt").exists()


def test_symlink_out_of_the_drop_folder_is_not_published(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("Kunci Rahasia\n\nsangat rahasia\n", encoding="utf-8")
    (config.drop_dir / "tautan.txt").symlink_to(secret)
    store = Store(config.store_path)
    try:
        Ingestor(store, config).scan()
        publish.build(store, config)
        assert "sangat rahasia" not in (config.output_dir / "feed.json").read_text("utf-8")
    finally:
        store.close()
    assert secret.read_text(encoding="utf-8").startswith("Kunci")


def test_dates_in_output_are_real(published: Published) -> None:
    """An ancient front-matter date is ignored (with a warning), never written as year 1."""
    entries = etree.fromstring((published.config.output_dir / "atom.xml").read_bytes())
    for entry in entries.iter(ATOM + "entry"):
        for stamp in ("published", "updated"):
            when = datetime.fromisoformat(entry.findtext(ATOM + stamp) or "")
            assert datetime(1000, 1, 1, tzinfo=UTC) <= when
            assert when.utcoffset() is not None and not when.utcoffset().seconds % 60  # type: ignore[union-attr]
    assert any("yaml-ancient-date.md" in m and "outside the years" in m for m in published.log)


# Regressions: each parser bug the corpus or the properties found, pinned by its smallest
# example (the fix is named in the comment).
@pytest.mark.parametrize(("name", "data", "title"), [
    # markdown._heading: `# C#` is the heading "C#" (the regex cut the closing "#").
    ("c.md", b"# C#\n\nIsi.", "C#"),
    # text.normalise_title: titles without letters were all the same article ("local/").
    ("e1.txt", "🎉 🎉\n\nIsi.".encode(), "🎉 🎉"),
    # decode._truncated: one cut-off character at the end no longer garbles the rest.
    ("t.txt", "Judul é\n\nIsi é".encode()[:-1], "Judul é"),
    # markdown._clean: YAML escapes bring back characters XML cannot carry.
    ("y.md", b'---\ntitle: "a\\x00b\\ud800c"\ntags: ["\\x01x"]\n---\nIsi.', "abc"),
    # markdown: no body left after sanitising: the title is the body, with a warning.
    ("s.md", b"# Skrip\n\n<script>alert(1)</script>", "Skrip"),
])
def test_parser_regressions_accepted(name: str, data: bytes, title: str) -> None:
    parsed = parse(data, Context(path=name, received=ARRIVAL))
    (article,) = parsed.articles
    assert article.title == title
    assert article.content_html.strip() and article.summary.strip()
    for text in (article.title, article.summary, article.content_html, *article.tags):
        assert xml_safe(text) == text


def test_titles_without_letters_are_distinct_articles() -> None:
    keys = {parse(f"{t}\n\nIsi.".encode(), Context(path="a.txt", received=ARRIVAL))
            .articles[0].key for t in ("🎉", "🔥", "!!!", "???")}
    assert len(keys) == 4


@pytest.mark.parametrize("data", [
    b"#\n\nfoo",  # an empty heading is no title (the regex crossed the line break)
    b"---\ntitle: !!timestamp x\n---\nIsi.",  # AttributeError inside PyYAML
    b"---\ntitle: T\ndate: 0000-01-01\n---\nIsi.",  # ValueError inside PyYAML
    b"---\ntitle: T\nn: " + b"9" * 5000 + b"\n---\nIsi.",  # int too long to convert
    b"---\ntitle: " + b"[" * 5000 + b"\n---\nIsi.",  # RecursionError inside PyYAML
])
def test_parser_regressions_rejected(data: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        parse(data, Context(path="x.md", received=ARRIVAL))
    assert "could not parse this file" not in raised.value.reason


def test_removed_html_is_reported() -> None:
    parsed = parse(b'# T\n\na <script>x()</script> <b onclick="y">b</b>',
                   Context(path="x.md", received=ARRIVAL))
    (message,) = [p.message for p in parsed.problems if "removed HTML" in p.message]
    assert "<script>" in message and "onclick" in message
