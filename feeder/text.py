"""Small text helpers shared by the parser and the builder."""

from __future__ import annotations

import html
import re
import unicodedata

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE, U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The C0 controls XML 1.0 forbids (all but tab, LF and CR), as bytes.
_CONTROLS = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"\w+")


def xml_illegal(text: str) -> list[int]:
    """Offsets of the characters XML cannot carry."""
    return [m.start() for m in _XML_ILLEGAL.finditer(text)]


def has_xml_illegal(text: str, utf8: bytes | None = None) -> bool:
    """Whether *text* holds a character XML 1.0 forbids: ``bool(xml_illegal(text))``.

    Three scans in C (encoding fails on a lone surrogate; deleting the control bytes of the
    encoding shortens it; U+FFFE and U+FFFF are searched for) beat the regex stepping
    through every character threefold, and nearly every text is clean. *utf8*, the bytes
    *text* was decoded from as UTF-8 (line ends aside, and a last character cut off),
    spares the encoding: such bytes hold the same controls, and never a surrogate.
    """
    if utf8 is None:
        try:
            utf8 = text.encode()
        except UnicodeEncodeError:
            return True
    return (len(utf8.translate(None, _CONTROLS)) != len(utf8)
            or "\ufffe" in text or "\uffff" in text)


def xml_safe(text: str) -> str:
    """*text* without the characters XML 1.0 forbids (lxml refuses them)."""
    return _XML_ILLEGAL.sub("", text)


def slugify(text: str, limit: int = 60) -> str:
    """A lowercase ASCII slug: ``slugify("Rapat & Kajian!") == "rapat-kajian"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def normalise_title(title: str) -> str:
    """Titles that differ only in case, spacing or punctuation identify the same article.

    A title with no letters or digits at all ("🎉 🎉") keeps its symbols: otherwise every
    such title would be the same article and each would replace the one before.
    """
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_WORD.findall(folded)) or " ".join(folded.split())


def paragraphs_html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


# Whitespace runs become one space, but a no-break space is kept: it binds what it joins
# ("Rp\u00a05", "10\u00a0Desember") in the summary as in the text.
_BREAKING_SPACE = re.compile(r"[^\S\u00a0]+")


def _collapse(text: str) -> str:
    if "\u00a0" not in text:
        return " ".join(text.split())  # the same, several times faster
    return _BREAKING_SPACE.sub(" ", text).strip()


def summarise(text: str, limit: int = 300) -> str:
    """The first *limit* characters of *text*, cut at a word boundary."""
    # Whitespace runs shrink to one space, so a long text's head of 4 * limit characters
    # yields the same first characters; the whole is needed only if that comes up short.
    head = _collapse(text[:4 * limit])
    text = head if len(head) > limit or len(text) <= 4 * limit else _collapse(text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
