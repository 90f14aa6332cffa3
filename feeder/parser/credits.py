"""Who wrote an article: the credit in brackets that ends its text, or a byline line.

Credits seen on real pages: ``(ana/ed. Foto: awh/KPU Kota Semarang)``, ``(rhd/ed: Foto
rap/…)``, ``(ana, ed. Foto: …)``, ``(bud/ed Foto: dok KPU Kendal)``, ``(HumasKPUKendal)``,
``(HumasKPUKendal/NMI)``, ``(Tim)``, ``(Humas KPU RI)``, ``(syp_ed sks)``, ``(SHD-Red)``,
``(***vit/kpuklt)``, ``(re/rd/kominfo)``, ``(MC Batang, Jateng/Roza/Jumadi)``, ``[Humas KPU
Kota Palu, cml/ft andika/ed rudy]``, ``(*)``. The rule they follow: parts separated by
``/`` (or ``,``, ``_``, ``-Red``); the writer is the first part that names a person (a
single word: initials or a first name), and a team or office (``Humas…``, ``Tim``, ``MC …``,
a word with capitals inside) is the writer only when no person follows; after the editor
(``ed``) or photo (``Foto``, ``ft``) marker nobody is the writer any more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRAILING_TAGS = re.compile(r"(?:\s+#[\w-]+)+\s*\Z")
CREDIT_REACH = 160
_EDITOR = re.compile(r"(?:ed|red|redaksi|editor|rd)\b", re.IGNORECASE)
_PHOTO = re.compile(r"(?:foto|ft|photo|dok)\b\s*[:.]?\s*", re.IGNORECASE)
_PHOTO_END = re.compile(r"\s*/\s*(?:ed|red)\b.*", re.IGNORECASE)
_PARTS = re.compile(r"\s*(?:/|\||_(?=ed\b)|-(?=red\b)|_)\s*", re.IGNORECASE)
_TEAM = re.compile(r"humas|\btim\b|\bmc\b|kpu|bakohumas|[a-z][A-Z]|\s", re.IGNORECASE)
_PERSON = re.compile(r"[^\W\d_][^\W\d_.'’-]{0,14}")
_TEAMISH = re.compile(r"(?i:humas|\btim\b|\bmc\b|bakohumas)|[a-z][A-Z]|\s")


@dataclass(frozen=True)
class Credit:
    author: str | None
    photo: str | None
    start: int  # where the credit starts in the text it ends
    closed: bool = True
    team: bool = False  # the writer named is a team or an office, not a person


def find_credit(text: str) -> Credit | None:
    """The credit that ends *text* (trailing hashtags aside), if it ends with one."""
    tail_start = max(0, len(text) - CREDIT_REACH)
    tail = text[tail_start:]
    # Trailing hashtags, and a full stop some put after the bracket, are not the credit.
    tail = (TRAILING_TAGS.sub("", tail) if "#" in tail else tail).rstrip()
    stopped = tail[-1:] in ".;" and tail[-2:-1] in ")]"
    tail = tail[:-1] if stopped else tail
    close = tail[-1:] if tail[-1:] in ")]" else ""
    opening = {")": "(", "]": "["}.get(close, "(")
    start = tail.rfind(opening)
    if start < 0 or (not close and tail.find(")", start) >= 0):
        return None
    inner = tail[start + 1:len(tail) - len(close)].strip()
    before = tail[:start].rstrip()
    sentence_before = not before or before[-1] in ".!?\"”’"
    if stopped and not sentence_before:
        return None  # "(…)." closing a sentence is part of it, not a credit after it
    if not _looks_like_credit(inner, sentence_before, bool(close)):
        return None
    author, photo, team = _read(inner)
    return Credit(author, photo, tail_start + start, closed=bool(close), team=team)


def _looks_like_credit(inner: str, sentence_before: bool, closed: bool) -> bool:
    if not inner or len(inner.split()) > 12 or inner.endswith((".", "?", "!")):
        return False
    if set(inner) <= {"*", " "}:
        return True
    marked = "/" in inner or _EDITOR.search(inner) or _PHOTO.match(inner)
    if not closed:  # "(rud/ed. Foto: rud/KPU Surakarta" cut off: only a marked one
        return bool(marked)
    return bool(marked) or (sentence_before and bool(_TEAM.search(inner) or
                                                     _PERSON.fullmatch(inner)))


def _read(inner: str) -> tuple[str | None, str | None, bool]:
    photo_marker = re.search(r"(?:^|[\s/,.])(?:foto|ft|photo)\b\s*[:.]?\s*", inner,
                             re.IGNORECASE)
    photo = None
    if photo_marker:
        photo = _PHOTO_END.sub("", inner[photo_marker.end():]).strip(" .,") or None
        inner = inner[:photo_marker.start()]
    team = person = desk = None
    groups = [g for g in _PARTS.split(inner.strip("*[] ")) if g.strip(" *.:")]
    for number, group in enumerate(groups):
        parts = [p.strip(" *.:") for p in group.split(",")]
        lead = parts[0].split()[0] if parts[0] else ""
        if _DESK.fullmatch(parts[0]):
            desk = desk or parts[0]  # the newsroom ("RED"): the writer, if nobody else is
            continue
        if _EDITOR.fullmatch(lead):
            break  # the editor: nobody after is the writer
        for index, part in enumerate(parts):
            named = _CREDITED.match(part)  # "Kontributor : Heru"
            if named:
                person = named["name"].strip()
                break
            if not part or (_EDITOR.match(part) and len(part.split()) > 1):
                continue
            office, colon, name = part.partition(":")  # "humasKPUKotaKendari:Sr"
            if colon and (_TEAMISH.search(office) or _HANDLE.fullmatch(office.strip())) and (
                    _INITIALS.fullmatch(name := name.strip()) or _PERSON.fullmatch(name)):
                team, person = team or office.strip(), name  # the office's writer
                break
            if _TEAMISH.search(part) or _HANDLE.fullmatch(part):
                team = team or part
            elif (_INITIALS.fullmatch(bare := _ET_AL.sub("", part))
                  or (_PERSON.fullmatch(bare) and not team)):
                person = part
                break
            elif _PERSON.fullmatch(part) and not index and number + 1 < len(groups):
                person = part  # "MC Batang, Jateng/Roza/Jumadi": writer, then editor
                break
            elif _PERSON.fullmatch(part) and not index and team:
                # "(humas/Gresik)": the team's place, the two one credit.
                team = "/".join(g.strip() for g in groups[:number + 1])
        if person:
            break
    writer = person or team or desk
    return writer, photo, person is None and writer is not None


_INITIALS = re.compile(r"[a-z]{1,5}|[A-Z]{1,5}")
_ET_AL = re.compile(r"\.?\s*dkk\.?$", re.IGNORECASE)  # "RM.dkk": RM and colleagues
# A site account rather than a person: "kpukabpati", "hmslkpusltg", "kpuklt".
_HANDLE = re.compile(r"[a-z]{6,}|(?i:kpu)[a-z]*")
_DESK = re.compile(r"red(?:aksi)?", re.IGNORECASE)
_CREDITED = re.compile(r"(?:kontributor|penulis|pewarta|reporter|wartawan)\s*:\s*(?P<name>[^:]+)",
                       re.IGNORECASE)


_BYLINE_NAME = re.compile(r"[\w.'’ -]{1,60}")


def clean_name(name: str) -> str | None:
    """A byline's name as written, or None if it is not one."""
    name = name.strip(" .,:-")
    return name if _BYLINE_NAME.fullmatch(name) else None
