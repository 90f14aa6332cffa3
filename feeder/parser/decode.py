"""Bytes → text: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1."""

from __future__ import annotations

import codecs

from feeder.errors import ParseError
from feeder.parser.common import Problem
from feeder.text import has_xml_illegal, xml_illegal, xml_safe

_BINARY_SAMPLE = 8192


def decode(data: bytes, path: str) -> tuple[str, list[Problem]]:
    """Decode *data* and normalise line ends; raise ParseError for what is not text."""
    problems: list[Problem] = []
    utf8: bytes | None = None  # what text was decoded from as UTF-8, if it was
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16", path, problems)
    elif data.startswith(codecs.BOM_UTF8):
        text = _strict(utf8 := data[len(codecs.BOM_UTF8) :], "utf-8", path, problems)
    else:
        if data.find(b"\x00", 0, _BINARY_SAMPLE) != -1:
            raise ParseError(path, None, "binary file (contains NUL bytes), not text")
        try:
            text = _truncated(utf8 := data, "utf-8", path, problems)
        except UnicodeDecodeError as exc:
            utf8 = None
            text = _legacy(data, path, exc, problems)
    if "\r" in text:  # a scan for one character is far quicker than replace() finding none
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if has_xml_illegal(text, utf8):
        bad = xml_illegal(text)
        line = text.count("\n", 0, bad[0]) + 1
        problems.append(
            Problem(path=path, line=line, message=f"removed {len(bad)} control character(s) "
                    "that feeds cannot carry")
        )
        text = xml_safe(text)
    return text, problems


def _truncated(data: bytes, encoding: str, path: str, problems: list[Problem]) -> str:
    """*data* decoded, tolerating only a last character cut off (a copy that stopped short).

    Falling back to Windows-1252 for that would garble every other non-ASCII character.
    """
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.end != len(data) or exc.reason not in ("unexpected end of data",
                                                       "truncated data"):
            raise
        cut = exc.start
    problems.append(Problem(path=path, line=data.count(b"\n", 0, cut) + 1, message=(
        "the file ends in the middle of a character (an incomplete copy?); it is shown "
        "as \ufffd")))
    return data[:cut].decode(encoding) + "\ufffd"


def _strict(data: bytes, encoding: str, path: str, problems: list[Problem]) -> str:
    try:
        return _truncated(data, encoding, path, problems)
    except UnicodeDecodeError as exc:
        raise ParseError(path, None, f"declares {encoding} by its BOM but is not: {exc.reason} "
                         f"at byte {exc.start}") from None


def _legacy(data: bytes, path: str, exc: UnicodeDecodeError, problems: list[Problem]) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    try:
        text = data.decode("cp1252")
        encoding = "Windows-1252"
    except UnicodeDecodeError:
        # Latin-1 maps every byte, so this cannot fail.
        text = data.decode("latin-1")
        encoding = "Latin-1"
    problems.append(Problem(path=path, line=line, message=f"not valid UTF-8 (first bad byte "
                            f"here); read as {encoding}"))
    return text
