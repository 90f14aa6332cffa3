"""Scoring the parser against real pages, each beside its truth (``tests/pages/``).

``python -m tests.realpages`` (``make pages``) prints the scores per office and per field,
so a change that helps one office and hurts another shows; ``tests/test_real_pages.py``
fails below the thresholds.

A page is ``NAME.txt`` (as a person copies it from the browser, the prose paraphrased) with
``NAME.json``: ``{"url", "office", "kind", "articles": [{"title", "date", "reporter"}],
"notes"}``. Each page is parsed as if it arrived a few days, a few months and most of a
year after its newest article (pages arrive late, and the year of a date must not depend
on how late); a field is right only if it is right at every arrival.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from feeder.errors import ParseError
from feeder.parser import Context, parse

PAGES = Path(__file__).resolve().parent / "pages"
JAKARTA = ZoneInfo("Asia/Jakarta")
LATE = (timedelta(days=3), timedelta(days=75), timedelta(days=300))
# Pages whose truth has no date at all arrive on this day.
UNDATED = date(2026, 1, 10)
FIELDS = ("articles", "titles", "dates", "reporters")


@dataclass
class Score:
    """Right and total counts per field."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    extra: int = 0  # articles the parser found that the page does not have
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in FIELDS:
            self.right[name] += other.right[name]
            self.total[name] += other.total[name]
        self.extra += other.extra
        self.misses += other.misses

    def ratio(self, name: str) -> float:
        total = self.total[name] + (self.extra if name == "articles" else 0)
        return self.right[name] / total if total else 1.0


def pages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def _same(a: str | None, b: str | None) -> bool:
    fold = (lambda s: " ".join(s.split()).casefold()) if a and b else (lambda s: s)
    return fold(a) == fold(b)  # type: ignore[no-untyped-call]


def _arrivals(truth: list[dict[str, str | None]]) -> list[datetime]:
    dates = [date.fromisoformat(a["date"]) for a in truth if a["date"]]
    newest = max(dates, default=UNDATED)
    return [datetime.combine(newest + late, time(9), JAKARTA) for late in LATE]


def score_page(path: Path) -> Score:
    """How the parser reads one page, against its truth."""
    truth = json.loads(path.read_text(encoding="utf-8"))["articles"]
    text = path.with_suffix(".txt").read_bytes()
    score = Score()
    readings = []
    for received in _arrivals(truth):
        try:
            readings.append(parse(text, Context(path=path.stem + ".txt",
                                                received=received)).articles)
        except ParseError as exc:
            readings.append([])
            score.misses.append(f"{path.stem}: rejected: {exc.reason}")
    found = readings[0]
    score.extra = max(0, len(found) - len(truth))
    if score.extra:
        score.misses.append(f"{path.stem}: {score.extra} article(s) the page does not have: "
                            + "; ".join(a.title for a in found[len(truth):]))
    for index, want in enumerate(truth):
        got = [r[index] if index < len(r) else None for r in readings]
        score.total["articles"] += 1
        if got[0] is None:
            score.misses.append(f"{path.stem}: article {index + 1} not found")
            for name in FIELDS[1:]:
                score.total[name] += 1
            continue
        score.right["articles"] += 1
        checks = {
            "titles": want["title"] is None or _same(got[0].title, want["title"]),
            "dates": want["date"] is None or all(
                g is not None and g.published.date().isoformat() == want["date"] for g in got),
            "reporters": _same(got[0].author, want["reporter"]),
        }
        values = {"titles": (got[0].title, want["title"]),
                  "dates": ([g.published.date().isoformat() if g else None for g in got],
                            want["date"]),
                  "reporters": (got[0].author, want["reporter"])}
        for name, ok in checks.items():
            score.total[name] += 1
            score.right[name] += ok
            if not ok:
                score.misses.append(f"{path.stem}: article {index + 1} {name[:-1]}: got "
                                    f"{values[name][0]!r}, truth {values[name][1]!r}")
    return score


def score_folder(folder: Path) -> tuple[Score, dict[str, Score]]:
    total, offices = Score(), defaultdict(Score)
    for path in pages(folder):
        page = score_page(path)
        total.add(page)
        offices[json.loads(path.read_text(encoding="utf-8"))["office"]].add(page)
    return total, dict(offices)


def report(folder: Path, *, misses: bool = True) -> str:
    total, offices = score_folder(folder)
    width = max(map(len, offices), default=10)
    rows = [f"{folder.name}: {len(pages(folder))} pages, {total.total['articles']} articles",
            f"{'office':<{width}}  " + "  ".join(f"{n:>9}" for n in FIELDS)]
    for office, score in [*sorted(offices.items()), ("ALL", total)]:
        rows.append(f"{office:<{width}}  " + "  ".join(
            f"{score.right[n]:>3}/{score.total[n] + (score.extra if n == 'articles' else 0):<3}"
            f"{'':>2}" for n in FIELDS))
    rows.append("ALL %    " + "  ".join(f"{n} {100 * total.ratio(n):.1f}" for n in FIELDS))
    if misses:
        rows += ["", *total.misses]
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    for name in argv or ["corpus", "unseen"]:
        print(report(PAGES / name, misses=name != "unseen"))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
